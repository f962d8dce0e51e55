"""Pseudo ops: no opcode, never encoded.

`plena.get_register` names the current value of a physical register as an SSA value (the
zero register gp0, or a register set up before the program); `plena.comment` is a line of
assembly commentary; `plena.li` is an integer constant of any u32 value, which
`plena-optimize-scalar` legalises into instructions.
"""

from __future__ import annotations

from typing import ClassVar

from plena_mlir.dialects.plena.registers import GpRegisterType, PlenaRegisterType, Registers
from xdsl.backend.register_type import RegisterAllocatedMemoryEffect, RegisterResource
from xdsl.dialects.builtin import I64, IntegerAttr, StringAttr, i64
from xdsl.ir import Operation
from xdsl.irdl import IRDLOperation, irdl_op_definition, prop_def, result_def, traits_def
from xdsl.traits import EffectInstance, MemoryEffect, MemoryEffectKind
from xdsl.utils.exceptions import VerifyException


class ReadsResultRegister(MemoryEffect):
    """Reading the register the op's result names."""

    @classmethod
    def get_effects(cls, op: Operation) -> set[EffectInstance]:
        register = op.results[0].type
        assert isinstance(register, PlenaRegisterType)
        return {EffectInstance(MemoryEffectKind.READ, resource=RegisterResource(register))}


@irdl_op_definition
class GetRegisterOp(IRDLOperation):
    """%r = plena.get_register : !plena.gp<gp3>    # %r = the value gp3 holds here"""

    name = "plena.get_register"

    res = result_def(PlenaRegisterType)

    traits = traits_def(ReadsResultRegister())

    assembly_format = "attr-dict `:` type($res)"

    def __init__(self, register: PlenaRegisterType):
        super().__init__(result_types=[register])

    def verify_(self) -> None:
        register = self.res.type
        assert isinstance(register, PlenaRegisterType)
        if register.physical_index is None:
            raise VerifyException(
                f"plena.get_register needs a physical register, got {register}"
            )


@irdl_op_definition
class CommentOp(IRDLOperation):
    """plena.comment "text"                        # assembly: `; text`"""

    name = "plena.comment"

    text = prop_def(StringAttr)

    assembly_format = "$text attr-dict"

    def __init__(self, text: str):
        super().__init__(properties={"text": StringAttr(text)})

    def verify_(self) -> None:
        if "\n" in self.text.data:
            raise VerifyException("a plena.comment must be a single line")


@irdl_op_definition
class LoadImmediateOp(IRDLOperation):
    """%c = plena.li 1234567 : !plena.gp              # %c = value, any u32 (0 <= value < 2^32)

    A constant as the lowering produces it, whatever its size.  It is never encoded:
    `plena-optimize-scalar` folds, shares and hoists constants as `plena.li` and finally
    legalises each one into `S_ADDI_INT gp0, value` (value < 2^imm2_bits) or
    `S_LUI_INT value >> 12` followed by `S_ADDI_INT value & 0xFFF` when those bits are not 0.
    """

    name = "plena.li"

    #: Largest value a constant can have: the GP registers are u32.
    MAX_VALUE: ClassVar[int] = (1 << 32) - 1

    value = prop_def(IntegerAttr[I64])
    res = result_def(GpRegisterType)

    traits = traits_def(RegisterAllocatedMemoryEffect())

    assembly_format = "$value attr-dict `:` type($res)"

    def __init__(self, value: int, result_type: GpRegisterType | None = None):
        # Operation.__init__, not the IRDL builder, which has nothing to check for one
        # property and one result and doubles the cost of a constant.
        Operation.__init__(
            self,
            properties={"value": IntegerAttr(value, i64)},
            result_types=[result_type or Registers.UNALLOCATED_GP],
        )

    def verify_(self) -> None:
        value = self.value.value.data
        if not 0 <= value <= self.MAX_VALUE:
            raise VerifyException(
                f"plena.li value {value} is not a u32: expected 0 .. {self.MAX_VALUE}"
            )


PSEUDO_OPS = (GetRegisterOp, CommentOp, LoadImmediateOp)
