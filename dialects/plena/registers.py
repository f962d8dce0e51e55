"""PLENA register types: `!plena.gp`, `!plena.fp`, `!plena.areg`.

A value of a register type is unallocated (`!plena.gp`) until register allocation names it
(`!plena.gp<gp3>`, `!plena.fp<f1>`, `!plena.areg<a0>`).  During allocation a value may also
live in an "infinite" virtual register (`!plena.gp<gj_0>`, `!plena.fp<fj_0>`,
`!plena.areg<aj_0>`), which never reaches assembly.

The type accepts every register name a 5-bit operand field can encode (gp0..gp31, f0..f31,
a0..a31).  Which of them a machine has is a property of the `Target`: the instruction
verifiers reject `f9` on plena-tvm (8 FP registers) through `operand_error`, and the
allocatable sets come from the target too.  gp0 and f0 are the zero registers by convention
and are never handed out by the allocator.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from typing import Self

from xdsl.backend.register_type import RegisterType
from xdsl.dialects.builtin import IntAttr, NoneAttr
from xdsl.ir import Attribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser

from plena_mlir.isa.instruction import register_prefix
from plena_mlir.isa.opcodes import Field, Kind
from plena_mlir.target import DEFAULT_TARGET, Target

#: Register names a type accepts: everything the 5-bit register fields can encode.
ENCODABLE_REGISTERS = 1 << Field.RD.width


def _names(kind: Kind) -> dict[str, int]:
    prefix = register_prefix(kind)
    return {f"{prefix}{i}": i for i in range(ENCODABLE_REGISTERS)}


class PlenaRegisterType(RegisterType, ABC):
    """A register of one of PLENA's three register files."""

    @classmethod
    def kind(cls) -> Kind:
        """The operand kind of the opcode table this register file serves."""
        raise NotImplementedError()

    @classmethod
    def target_count(cls, target: Target) -> int:
        """How many registers of this file `target` has."""
        raise NotImplementedError()

    @classmethod
    def first_allocatable(cls) -> int:
        """Registers below this index are reserved (the zero registers gp0 and f0)."""
        return 0

    @classmethod
    def allocatable_registers(cls, target: Target = DEFAULT_TARGET) -> Sequence[Self]:
        """The registers of this file that register allocation may use on `target`."""
        return tuple(
            cls.from_index(i) for i in range(cls.first_allocatable(), cls.target_count(target))
        )

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        """`<name>` or nothing; an unknown register name is a parse error at its position."""
        start = parser.pos
        index, name = super().parse_parameters(parser)
        if name.data and isinstance(index, NoneAttr):
            prefix = register_prefix(cls.kind())
            last = ENCODABLE_REGISTERS - 1
            parser.raise_error(
                f"'{name.data}' is not a {cls.name} register: expected "
                f"{prefix}0..{prefix}{last} or {cls.infinite_register_prefix()}N",
                start,
                parser.pos,
            )
        return index, name

    @property
    def physical_index(self) -> int | None:
        """The register number to encode, or None when unallocated or virtual (infinite)."""
        if not self.is_allocated:
            return None
        assert isinstance(self.index, IntAttr)
        return self.index.data if self.index.data >= 0 else None


_GP_NAMES = _names(Kind.GP)
_FP_NAMES = _names(Kind.FP)
_AREG_NAMES = _names(Kind.AREG)


@irdl_attr_definition
class GpRegisterType(PlenaRegisterType):
    """A general-purpose 32-bit integer register (`!plena.gp<gp3>`); gp0 is kept at zero."""

    name = "plena.gp"

    @classmethod
    def kind(cls) -> Kind:
        return Kind.GP

    @classmethod
    def target_count(cls, target: Target) -> int:
        return target.gp_registers

    @classmethod
    def first_allocatable(cls) -> int:
        return 1

    @classmethod
    def index_by_name(cls) -> dict[str, int]:
        return _GP_NAMES

    @classmethod
    def infinite_register_prefix(cls) -> str:
        return "gj_"


@irdl_attr_definition
class FpRegisterType(PlenaRegisterType):
    """A scalar floating-point register in the target's FP format (`!plena.fp<f1>`); f0 is kept
    at zero."""

    name = "plena.fp"

    @classmethod
    def kind(cls) -> Kind:
        return Kind.FP

    @classmethod
    def target_count(cls, target: Target) -> int:
        return target.fp_registers

    @classmethod
    def first_allocatable(cls) -> int:
        return 1

    @classmethod
    def index_by_name(cls) -> dict[str, int]:
        return _FP_NAMES

    @classmethod
    def infinite_register_prefix(cls) -> str:
        return "fj_"


@irdl_attr_definition
class AddrRegisterType(PlenaRegisterType):
    """A 64-bit HBM base-address register (`!plena.areg<a0>`), written by C_SET_ADDR_REG."""

    name = "plena.areg"

    @classmethod
    def kind(cls) -> Kind:
        return Kind.AREG

    @classmethod
    def target_count(cls, target: Target) -> int:
        return target.addr_registers

    @classmethod
    def index_by_name(cls) -> dict[str, int]:
        return _AREG_NAMES

    @classmethod
    def infinite_register_prefix(cls) -> str:
        return "aj_"


#: The register type of each register operand kind of the opcode table.
REGISTER_TYPE_OF_KIND: dict[Kind, type[PlenaRegisterType]] = {
    Kind.GP: GpRegisterType,
    Kind.FP: FpRegisterType,
    Kind.AREG: AddrRegisterType,
}

#: Every register type: `type(t) in REGISTER_TYPES` is `isinstance(t, PlenaRegisterType)`
#: without the ABC instance check, for hot loops.
REGISTER_TYPES: frozenset[type[PlenaRegisterType]] = frozenset(REGISTER_TYPE_OF_KIND.values())


class Registers:
    """Named register constants."""

    UNALLOCATED_GP = GpRegisterType.unallocated()
    UNALLOCATED_FP = FpRegisterType.unallocated()
    UNALLOCATED_AREG = AddrRegisterType.unallocated()
    ZERO = GpRegisterType.from_index(0)
    FZERO = FpRegisterType.from_index(0)
