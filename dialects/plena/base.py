"""The instruction base of the `plena` dialect, generated from the opcode table.

Every operand of an `OpcodeInfo` becomes one piece of an op, by its `Role`:

| role     | table operand                                | in the op                            |
|----------|----------------------------------------------|--------------------------------------|
| READ     | a register the instruction reads             | an SSA operand of the register type  |
| WRITE    | a register the instruction writes            | a result of the register type        |
| UPDATE   | a register it reads and writes (V_RED_* acc) | an operand and a result `<name>_out` |
| PROPERTY | an immediate (IMM) or literal flag (LIT)     | an `IntegerAttr` property            |
| IGNORED  | a field the machine does not read            | nothing; it encodes as 0             |

Ops with the same operand list share one generated shape base class (`shape_base`), and
`instruction("S_ADDI_INT", REGISTERS_ONLY)` specialises it for one mnemonic and the machine
state it touches; the concrete op classes in `*_ops.py` add only their semantics (docstring).

Custom syntax: the operands in assembly order, immediates as integers, literal flags by name,
then the types (functional when the op has both operands and results):

    %d = plena.s_addi_int %a, 16 : (!plena.gp<gp1>) -> !plena.gp<gp2>
    %e = plena.s_lui_int 5 : !plena.gp<gp3>
    plena.v_add_vv %dst, %lhs, %rhs, rmask 0 : !plena.gp, !plena.gp, !plena.gp

Immediates and literals, and allocated registers, are checked against the module's target
(`target_of`) by `operand_error`, the same check the `.asm` parser applies.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Sequence
from enum import Enum
from functools import cache
from typing import ClassVar, Self

from plena_mlir.dialects.plena.attrs import target_of
from plena_mlir.dialects.plena.registers import (
    REGISTER_TYPE_OF_KIND,
    REGISTER_TYPES,
    PlenaRegisterType,
)
from xdsl.backend.register_allocatable import HasRegisterConstraints, RegisterConstraints
from xdsl.backend.register_type import RegisterAllocatedMemoryEffect
from xdsl.dialects.builtin import I64, IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    operand_def,
    opt_attr_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import EffectInstance, MemoryEffectKind
from xdsl.utils.exceptions import DiagnosticException, VerifyException

from plena_mlir.isa.instruction import Instruction, operand_error
from plena_mlir.isa.opcodes import TVM_ISA, InstrClass, Kind, OpcodeInfo, Operand


class Role(Enum):
    """How an op represents one operand of the opcode table."""

    READ = "read"
    WRITE = "write"
    UPDATE = "update"
    PROPERTY = "property"
    IGNORED = "ignored"


def operand_role(info: OpcodeInfo, operand: Operand) -> Role:
    """The role of `operand` of `info`, from the table's kinds and operand names.

    `acc` (the V_RED_* accumulator) is read and written.  `dst` is written when it names an
    FP or address register, or a GP register of a scalar integer instruction; the `dst` of a
    vector or write-out instruction is a GP register holding a VRAM address, which is read.
    Every other register operand is read.
    """
    if operand.kind is Kind.IGNORED:
        return Role.IGNORED
    if operand.kind in (Kind.IMM, Kind.LIT):
        return Role.PROPERTY
    if operand.name == "acc":
        return Role.UPDATE
    if operand.name == "dst" and (
        operand.kind is not Kind.GP or info.klass is InstrClass.SCALAR_INT
    ):
        return Role.WRITE
    return Role.READ


#: Machine state beyond registers that an instruction touches (memories, accumulators,
#: CSRs, the loop stack); see `InstructionEffects`.
READS_AND_WRITES_MACHINE_STATE = frozenset({MemoryEffectKind.READ, MemoryEffectKind.WRITE})
READS_MACHINE_STATE = frozenset({MemoryEffectKind.READ})
WRITES_MACHINE_STATE = frozenset({MemoryEffectKind.WRITE})
REGISTERS_ONLY: frozenset[MemoryEffectKind] = frozenset()


class InstructionEffects(RegisterAllocatedMemoryEffect):
    """Reads and writes of allocated registers, plus the op's `MACHINE_EFFECTS`.

    Before register allocation a REGISTERS_ONLY instruction is pure, so CSE and DCE apply;
    after it, every register it reads or writes is an explicit effect.
    """

    @classmethod
    def get_effects(cls, op: Operation) -> set[EffectInstance]:
        effects = super().get_effects(op)
        assert isinstance(op, PlenaInstruction)
        effects.update(EffectInstance(kind) for kind in op.MACHINE_EFFECTS)
        return effects


class PlenaInstruction(HasRegisterConstraints, IRDLOperation, ABC):
    """One PLENA machine instruction.  Subclasses come from `instruction(mnemonic)`."""

    INFO: ClassVar[OpcodeInfo]
    ROLES: ClassVar[tuple[Role, ...]]
    PROPERTY_NAMES: ClassVar[tuple[str, ...]]
    """The table names of the PROPERTY operands, in table order."""
    OPERAND_COUNT: ClassVar[int]
    """How many SSA operands the op has (READ and UPDATE operands)."""
    RESULT_TYPES: ClassVar[tuple[PlenaRegisterType, ...]]
    """The unallocated types of its results (WRITE and UPDATE operands)."""
    IN_PLACE: ClassVar[tuple[tuple[int, int], ...]]
    """The SSA operand and result positions of each UPDATE operand."""
    TABLE_SOURCES: ClassVar[tuple[tuple[Role, int | str | None], ...]]
    """Per opcode-table operand: its role and where the op holds it (SSA operand position
    for READ and UPDATE, result position for WRITE, property name, None if IGNORED)."""
    MACHINE_EFFECTS: ClassVar[frozenset[MemoryEffectKind]] = READS_AND_WRITES_MACHINE_STATE

    comment = opt_attr_def(StringAttr)
    """Printed after the instruction in assembly (`; comment`)."""

    traits = traits_def(InstructionEffects())

    def __init__(
        self,
        *operands: SSAValue | Operation,
        result_types: Sequence[Attribute] | None = None,
        comment: str | None = None,
        **properties: int,
    ):
        """Operands in assembly order; results unallocated unless `result_types` is given;
        immediates and literal flags by their table names (`imm=16`, `rmask=0`)."""
        names = self.PROPERTY_NAMES
        if properties.keys() != set(names):
            raise TypeError(
                f"{self.INFO.mnemonic} takes properties ({', '.join(names)}), "
                f"got ({', '.join(properties)})"
            )
        values = [SSAValue.get(operand) for operand in operands]
        types = self.RESULT_TYPES if result_types is None else tuple(result_types)
        if len(values) != self.OPERAND_COUNT or len(types) != len(self.RESULT_TYPES):
            raise TypeError(
                f"{self.INFO.mnemonic} takes {self.OPERAND_COUNT} operands and "
                f"{len(self.RESULT_TYPES)} results, got {len(values)} and {len(types)}"
            )
        # Operation.__init__, not the IRDL builder: an instruction has exactly one operand
        # per READ / UPDATE and one result per WRITE / UPDATE table operand, none optional
        # or variadic, so the builder's segment bookkeeping has nothing to do (and doubles
        # the cost of building an instruction).
        Operation.__init__(
            self,
            operands=values,
            result_types=types,
            properties={name: IntegerAttr(properties[name], i64) for name in names},
            attributes={"comment": StringAttr(comment)} if comment is not None else {},
        )

    @classmethod
    def from_instruction(
        cls, instr: Instruction, read: Callable[[Kind, int], SSAValue]
    ) -> Self:
        """Build the op of `instr`; `read(kind, index)` gives the SSA value of a register."""
        operands: list[SSAValue] = []
        result_types: list[Attribute] = []
        properties: dict[str, Attribute] = {}
        for op, role, value in zip(cls.INFO.operands, cls.ROLES, instr.operands, strict=True):
            if role is Role.PROPERTY:
                properties[op.name] = IntegerAttr(value, i64)
            if role in (Role.READ, Role.UPDATE):
                operands.append(read(op.kind, value))
            if role in (Role.WRITE, Role.UPDATE):
                result_types.append(REGISTER_TYPE_OF_KIND[op.kind].from_index(value))
        return cls.build(operands=operands, result_types=result_types, properties=properties)

    def table_operands(self) -> list[tuple[Role, Attribute | None]]:
        """Per opcode-table operand: its role and its register type or property value
        (None for IGNORED).  An UPDATE operand is described by its input's type."""
        operands, results, properties = self.operands, self.results, self.properties
        table: list[tuple[Role, Attribute | None]] = []
        for role, where in self.TABLE_SOURCES:
            attr: Attribute | None = None
            if role is Role.READ or role is Role.UPDATE:
                attr = operands[where].type  # type: ignore[index]
            elif role is Role.WRITE:
                attr = results[where].type  # type: ignore[index]
            elif role is Role.PROPERTY:
                attr = properties[where]  # type: ignore[index]
            table.append((role, attr))
        return table

    def inouts(self) -> list[tuple[SSAValue, SSAValue]]:
        """The (operand, result) pair of each UPDATE operand, as in
        `get_register_constraints().inouts` (empty for most instructions)."""
        return [(self.operands[i], self.results[j]) for i, j in self.IN_PLACE]

    def get_register_constraints(self) -> RegisterConstraints:
        ins: list[SSAValue] = []
        outs = []
        inouts = []
        operands = iter(self.operands)
        results = iter(self.results)
        for role in self.ROLES:
            if role is Role.READ:
                ins.append(next(operands))
            elif role is Role.WRITE:
                outs.append(next(results))
            elif role is Role.UPDATE:
                inouts.append((next(operands), next(results)))
        return RegisterConstraints(ins, outs, inouts)

    def verify_(self) -> None:
        if self.comment is not None and "\n" in self.comment.data:
            raise VerifyException(f"the comment of {self.name} must be a single line")
        target = target_of(self)
        if self.INFO.mnemonic not in target.opcodes:
            raise VerifyException(
                f"{self.INFO.mnemonic} is not an instruction of target '{target.name}'"
            )
        for index, (_, attr) in enumerate(self.table_operands()):
            value = _encoded_value(attr)
            if value is not None:
                message = operand_error(self.INFO, index, value, target)
                if message:
                    raise VerifyException(message)
        for operand, result in self.inouts():
            both_allocated = operand.type.is_allocated and result.type.is_allocated
            if both_allocated and operand.type != result.type:
                raise VerifyException(
                    f"{self.INFO.mnemonic} updates its operand in place: the result register "
                    f"{result.type.register_name.data} must be the operand register "
                    f"{operand.type.register_name.data}"
                )

    def to_instruction(self) -> Instruction:
        """The machine instruction; DiagnosticException naming the op if a register operand is
        not allocated to a physical register."""
        values: list[int] = []
        for role, attr in self.table_operands():
            value = 0 if role is Role.IGNORED else _encoded_value(attr)
            if value is None:
                name = self.INFO.operands[len(values)].name
                raise DiagnosticException(
                    f"cannot emit {self.name}: register operand '{name}' is {attr}, not a "
                    "physical register; allocate registers first"
                )
            values.append(value)
        for operand, result in self.inouts():
            if result.type != operand.type:
                raise DiagnosticException(
                    f"cannot emit {self.name}: its result must be in the register of its "
                    f"operand, got {result.type} and {operand.type}"
                )
        return Instruction(self.INFO.mnemonic, tuple(values))


def _encoded_value(attr: Attribute | None) -> int | None:
    """The integer an operand encodes as: a physical register number or a property value;
    None for unallocated or virtual registers."""
    if type(attr) in REGISTER_TYPES:
        return attr.physical_index  # type: ignore[union-attr]
    if isinstance(attr, IntegerAttr):
        return attr.value.data
    return None


@cache
def shape_base(signature: tuple[tuple[str, Kind, Role], ...]) -> type[PlenaInstruction]:
    """The abstract op class for one operand list: its fields and assembly format."""
    namespace: dict[str, object] = {
        "ROLES": tuple(role for _, _, role in signature),
        "PROPERTY_NAMES": tuple(name for name, _, role in signature if role is Role.PROPERTY),
        "OPERAND_COUNT": sum(role in (Role.READ, Role.UPDATE) for _, _, role in signature),
        "RESULT_TYPES": tuple(
            REGISTER_TYPE_OF_KIND[kind].unallocated()
            for _, kind, role in signature
            if role in (Role.WRITE, Role.UPDATE)
        ),
        "IN_PLACE": _in_place_positions(signature),
        "TABLE_SOURCES": _table_sources(signature),
    }
    pieces: list[str] = []
    for name, kind, role in signature:
        if role is Role.PROPERTY:
            namespace[name] = prop_def(IntegerAttr[I64])
            pieces.append(f"${name}" if kind is Kind.IMM else f"`{name}` ${name}")
            continue
        if role is Role.IGNORED:
            continue
        register = REGISTER_TYPE_OF_KIND[kind]
        if role in (Role.READ, Role.UPDATE):
            namespace[name] = operand_def(register)
            pieces.append(f"${name}")
        if role in (Role.WRITE, Role.UPDATE):
            namespace[f"{name}_out" if role is Role.UPDATE else name] = result_def(register)
    namespace["assembly_format"] = _assembly_format(pieces, signature)
    namespace["__annotations__"] = {
        "ROLES": "ClassVar[tuple[Role, ...]]",
        "PROPERTY_NAMES": "ClassVar[tuple[str, ...]]",
        "OPERAND_COUNT": "ClassVar[int]",
        "RESULT_TYPES": "ClassVar[tuple[PlenaRegisterType, ...]]",
        "IN_PLACE": "ClassVar[tuple[tuple[int, int], ...]]",
        "TABLE_SOURCES": "ClassVar[tuple[tuple[Role, int | str | None], ...]]",
    }
    class_name = "".join(_shape_word(*entry) for entry in signature) + "Operation"
    return type(class_name, (PlenaInstruction, ABC), namespace)


def _table_sources(
    signature: tuple[tuple[str, Kind, Role], ...],
) -> tuple[tuple[Role, int | str | None], ...]:
    """PlenaInstruction.TABLE_SOURCES of `signature`."""
    sources: list[tuple[Role, int | str | None]] = []
    operand = result = 0
    for name, _, role in signature:
        if role in (Role.READ, Role.UPDATE):
            sources.append((role, operand))
        elif role is Role.WRITE:
            sources.append((role, result))
        elif role is Role.PROPERTY:
            sources.append((role, name))
        else:
            sources.append((role, None))
        operand += role in (Role.READ, Role.UPDATE)
        result += role in (Role.WRITE, Role.UPDATE)
    return tuple(sources)


def _in_place_positions(
    signature: tuple[tuple[str, Kind, Role], ...],
) -> tuple[tuple[int, int], ...]:
    """The SSA operand and result positions of each UPDATE operand of `signature`."""
    positions = []
    operand = result = 0
    for _, _, role in signature:
        if role is Role.UPDATE:
            positions.append((operand, result))
        operand += role in (Role.READ, Role.UPDATE)
        result += role in (Role.WRITE, Role.UPDATE)
    return tuple(positions)


def _assembly_format(pieces: list[str], signature: tuple[tuple[str, Kind, Role], ...]) -> str:
    """`$a `,` $b `,` `rmask` $rmask attr-dict `:` <types>`, the types being
    `functional-type(operands, results)`, or `type(operands)` / `type(results)` when the op
    has only operands / only results."""
    roles = {role for _, _, role in signature}
    has_operands = bool(roles & {Role.READ, Role.UPDATE})
    has_results = bool(roles & {Role.WRITE, Role.UPDATE})
    types = {
        (True, True): " `:` functional-type(operands, results)",
        (True, False): " `:` type(operands)",
        (False, True): " `:` type(results)",
        (False, False): "",
    }[has_operands, has_results]
    return " ".join([" `,` ".join(pieces), "attr-dict"]).strip() + types


def _shape_word(name: str, kind: Kind, role: Role) -> str:
    prefix = {Role.WRITE: "Out", Role.UPDATE: "InOut"}.get(role, "")
    return f"{prefix}{kind.value.capitalize()}{name.title().replace('_', '')}"


def instruction(
    mnemonic: str,
    machine_effects: frozenset[MemoryEffectKind] = READS_AND_WRITES_MACHINE_STATE,
) -> type[PlenaInstruction]:
    """The base class of the op for `mnemonic`: its shape, op name, table entry and the
    machine state (beyond registers) it reads or writes."""
    info = TVM_ISA[mnemonic]
    signature = tuple((op.name, op.kind, operand_role(info, op)) for op in info.operands)
    namespace = {
        "name": info.op_name,
        "INFO": info,
        "MACHINE_EFFECTS": machine_effects,
        "__annotations__": {
            "INFO": "ClassVar[OpcodeInfo]",
            "MACHINE_EFFECTS": "ClassVar[frozenset[MemoryEffectKind]]",
        },
    }
    return type(f"{mnemonic}Instruction", (shape_base(signature),), namespace)
