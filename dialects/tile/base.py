"""What the `tile` ops share: buffer effects, operand checks and the operand-list syntax.

Every op that touches memory is destination-passing: it writes the operands named by
`WRITTEN`, reads those named by `READ`, and says so through `BufferEffects` (so passes see
which buffer an op reads and writes).

`OperandListSyntax` is the custom syntax of the ops that are a list of operands:

    tile.add %dst, %lhs, %rhs : !tile.buffer<64x64xbf16, vram>
    tile.fp_add %l[%i], %l[%i], %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
    tile.reduce_sum %m, %x accumulate : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>

An operand listed in `INDEXED` may select one element, `%buf[%i]` (its `<name>_index`
operand); flags (unit properties in `FLAGS`) follow as keywords; the types come last, one per
operand, or a single type when all operands have the same type.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from typing import ClassVar, Self

from plena_mlir.dialects.tile.types import BufferType, MemorySpace, TensorType, format_shape
from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import Float32Type, IndexType, IntegerAttr, UnitAttr
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import EffectInstance, MemoryEffect, MemoryEffectKind
from xdsl.utils.exceptions import VerifyException


class BufferEffects(MemoryEffect):
    """A write of each operand named in the op's `WRITTEN` and a read of each buffer or tensor
    operand named in its `READ` (`%x` in `tile.exp %x, %x` has both)."""

    @classmethod
    def get_effects(cls, op: Operation) -> set[EffectInstance]:
        assert isinstance(op, TileOp)
        return written_and_read_effects(op, BufferType)


def written_and_read_effects(op: Operation, buffer_type: type[Attribute]) -> set[EffectInstance]:
    """A write of each operand named in `op.WRITTEN`, a read of each operand named in
    `op.READ` that is a `buffer_type` buffer or an HBM tensor."""
    effects = {EffectInstance(MemoryEffectKind.WRITE, getattr(op, name)) for name in op.WRITTEN}
    for name in op.READ:
        value = getattr(op, name)
        if isinstance(value, SSAValue) and isinstance(value.type, buffer_type | TensorType):
            effects.add(EffectInstance(MemoryEffectKind.READ, value))
    return effects


class TileOp(IRDLOperation, ABC):
    """A `tile` op that writes the operands `WRITTEN` and reads the operands `READ`."""

    WRITTEN: ClassVar[tuple[str, ...]] = ()
    READ: ClassVar[tuple[str, ...]] = ()

    def fail(self, message: str) -> VerifyException:
        """A verifier error, prefixed with the op name."""
        return VerifyException(f"{self.name}: {message}")

    def check_space(self, role: str, value: SSAValue, *allowed: MemorySpace) -> BufferType:
        """The buffer type of `value`; an error unless it lives in one of `allowed` (or `?`)."""
        typ = value.type
        if not isinstance(typ, BufferType):
            raise self.fail(f"{role} must be an on-chip buffer, got {typ}")
        if typ.space is not MemorySpace.INFERRED and typ.space not in allowed:
            spaces = " or ".join(str(space) for space in allowed)
            raise self.fail(f"{role} must be in {spaces}, got {typ.space} ({typ})")
        return typ

    def check_tile(self, role: str, value: SSAValue) -> tuple[int, int]:
        """The (rows, columns) of a VRAM tile operand."""
        typ = self.check_space(role, value, MemorySpace.VRAM)
        if typ.rank != 2:
            raise self.fail(f"{role} must be a rows x columns tile, got {typ}")
        rows, cols = typ.get_shape()
        return rows, cols

    def check_same_shape(self, role: str, value: SSAValue, other_role: str, other: SSAValue):
        shape, other_shape = _shape(value), _shape(other)
        if shape != other_shape:
            raise self.fail(
                f"shape of {role} ({format_shape(shape)}) does not match {other_role} "
                f"({format_shape(other_shape)})"
            )

    def scalar_count(self, role: str, value: SSAValue, index: SSAValue | None) -> int | None:
        """Check an FPRAM scalar operand: an f32 value, one FPRAM element `%buf[%i]`, or a
        rank-1 FPRAM buffer.  The number of scalars it gives, None for a single scalar."""
        typ = value.type
        if isinstance(typ, Float32Type):
            if index is not None:
                raise self.fail(f"{role} is an f32 value and cannot be indexed")
            return None
        typ = self.check_space(role, value, MemorySpace.FPRAM)
        if typ.rank != 1:
            raise self.fail(f"{role} must be a rank-1 fpram buffer, got {typ}")
        (length,) = typ.get_shape()
        if index is None:
            return length
        constant = constant_index(index)
        if constant is not None and not 0 <= constant < length:
            raise self.fail(f"index {constant} of {role} is out of bounds for {typ}")
        return None


def _shape(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, BufferType | TensorType)
    return value.type.get_shape()


def constant_index(value: SSAValue) -> int | None:
    """The value of an index defined by `arith.constant`, else None."""
    owner = value.owner
    if isinstance(owner, ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


class OperandListSyntax(TileOp, ABC):
    """`op %a, %b[%i], %c flag attr-dict : types` (see the module docstring)."""

    OPERANDS: ClassVar[tuple[str, ...]]
    INDEXED: ClassVar[frozenset[str]] = frozenset()
    FLAGS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def create_from(
        cls,
        operands: dict[str, SSAValue | None],
        flags: Sequence[str] = (),
        attributes: dict[str, Attribute] | None = None,
    ) -> Self:
        """Build from operands by field name (an absent index is None or missing)."""
        definition = cls.get_irdl_definition()
        ordered: list[SSAValue | Sequence[SSAValue]] = []
        for name, _ in definition.operands:
            value = operands.get(name)
            optional = name.endswith("_index")
            ordered.append(([] if value is None else [value]) if optional else value)
        unknown = set(flags) - set(cls.FLAGS)
        if unknown:
            raise TypeError(f"{cls.name} has no flag {', '.join(sorted(unknown))}")
        return cls.build(
            operands=ordered,
            properties={flag: UnitAttr() for flag in flags},
            attributes=attributes or {},
        )

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        refs: list[tuple[UnresolvedOperand, UnresolvedOperand | None]] = []
        for i, name in enumerate(cls.OPERANDS):
            if i:
                parser.parse_punctuation(",")
            operand = parser.parse_unresolved_operand()
            index = None
            if name in cls.INDEXED and parser.parse_optional_punctuation("["):
                index = parser.parse_unresolved_operand()
                parser.parse_punctuation("]")
            refs.append((operand, index))
        flags = [flag for flag in cls.FLAGS if parser.parse_optional_keyword(flag)]
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = parse_type_list(parser, len(cls.OPERANDS))
        operands: dict[str, SSAValue | None] = {}
        for name, (operand, index), typ in zip(cls.OPERANDS, refs, types, strict=True):
            operands[name] = parser.resolve_operand(operand, typ)
            if index is not None:
                operands[f"{name}_index"] = parser.resolve_operand(index, IndexType())
        return cls.create_from(operands, flags, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        for i, name in enumerate(self.OPERANDS):
            if i:
                printer.print_string(", ")
            printer.print_operand(getattr(self, name))
            index = getattr(self, f"{name}_index", None)
            if index is not None:
                printer.print_string("[")
                printer.print_operand(index)
                printer.print_string("]")
        for flag in self.FLAGS:
            if flag in self.properties:
                printer.print_string(f" {flag}")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        print_type_list(printer, [getattr(self, name).type for name in self.OPERANDS])


def parse_type_list(parser: Parser, count: int) -> list[Attribute]:
    """`T` (for all `count` operands) or `T1, ..., Tcount`."""
    pos = parser.pos
    types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
    if len(types) == 1:
        return types * count
    if len(types) != count:
        parser.raise_error(
            f"expected one type for all operands or {count} types, got {len(types)}",
            pos,
            parser.pos,
        )
    return types


def print_type_list(printer: Printer, types: Sequence[Attribute]) -> None:
    """The inverse of `parse_type_list`: one type when all are equal."""
    if all(t == types[0] for t in types):
        printer.print_attribute(types[0])
    else:
        printer.print_list(types, printer.print_attribute)
