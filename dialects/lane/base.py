"""What the `lane` ops share: buffer effects, operand checks, and the operand-list syntax.

Like `tile`, every op is destination-passing: it writes the operands named by `WRITTEN`, reads
those named by `READ`, and reports both through `LaneEffects`.

`OperandListSyntax` is the custom syntax of the ops that are a list of operands; a per-lane op
names its lane after the operands, flags follow as keywords, then one type per operand (or one
type for all):

    lane.add %d, %a, %b : !lane.buffer<4x64x16xbf16, vram, col_pack>
    lane.row_max %m, %s lane %l accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>, ...
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from typing import ClassVar, Self

from plena_mlir.dialects.lane.layouts import LaneLayout
from plena_mlir.dialects.lane.traits import PerLane
from plena_mlir.dialects.lane.types import LaneBufferType
from plena_mlir.dialects.plena.attrs import target_of
from plena_mlir.dialects.tile.base import (
    parse_type_list,
    print_type_list,
    written_and_read_effects,
)
from plena_mlir.dialects.tile.types import MemorySpace, format_shape
from xdsl.dialects.builtin import IndexType, UnitAttr
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import EffectInstance, MemoryEffect
from xdsl.utils.exceptions import VerifyException


class LaneEffects(MemoryEffect):
    """A write of each operand in the op's `WRITTEN`, a read of each buffer or tensor in `READ`."""

    @classmethod
    def get_effects(cls, op: Operation) -> set[EffectInstance]:
        assert isinstance(op, LaneOp)
        return written_and_read_effects(op, LaneBufferType)


class LaneOp(IRDLOperation, ABC):
    """A `lane` op that writes the operands `WRITTEN` and reads the operands `READ`."""

    WRITTEN: ClassVar[tuple[str, ...]] = ()
    READ: ClassVar[tuple[str, ...]] = ()

    def fail(self, message: str) -> VerifyException:
        """A verifier error, prefixed with the op name."""
        return VerifyException(f"{self.name}: {message}")

    def check_buffer(
        self,
        role: str,
        value: SSAValue,
        spaces: Sequence[MemorySpace] = (),
        layouts: Sequence[LaneLayout] = (),
    ) -> LaneBufferType:
        """The lane buffer type of `value`; an error unless it is in one of `spaces` with one
        of `layouts` (any when empty) and fits the target (`LaneBufferType.target_error`)."""
        typ = value.type
        if not isinstance(typ, LaneBufferType):
            raise self.fail(f"{role} must be a lane buffer (!lane.buffer), got {typ}")
        if spaces and typ.space not in spaces:
            allowed = " or ".join(str(space) for space in spaces)
            raise self.fail(f"{role} must be in {allowed}, got {typ.space} ({typ})")
        if layouts and typ.layout not in layouts:
            allowed = " or ".join(str(layout) for layout in layouts)
            raise self.fail(f"{role} must be {allowed}, got {typ.layout} ({typ})")
        if (error := typ.target_error(target_of(self))) is not None:
            raise self.fail(f"{role}: {error}")
        return typ

    def check_same_layout(self, role: str, value: SSAValue, other_role: str, other: SSAValue):
        """`value` and `other` agree in layout and logical shape: one instruction then reads
        and writes the same element positions."""
        typ, other_typ = value.type, other.type
        assert isinstance(typ, LaneBufferType) and isinstance(other_typ, LaneBufferType)
        if typ.layout is not other_typ.layout:
            raise self.fail(
                f"layout mismatch: {role} is {typ.layout} but {other_role} is "
                f"{other_typ.layout}; an element-wise op reads and writes the same positions, "
                "so its producer and consumer must agree on the layout"
            )
        if typ.get_shape() != other_typ.get_shape():
            raise self.fail(
                f"shape of {role} ({format_shape(typ.get_shape())}) does not match "
                f"{other_role} ({format_shape(other_typ.get_shape())})"
            )


class PerLaneOp(LaneOp, ABC):
    """A per-lane op: its `lane` operand (an `index` operand named `lane`, defined by each
    concrete op) selects one lane of every lane-laid operand."""

    def check_written_lane(self, role: str, typ: LaneBufferType) -> None:
        """A per-lane op writes one lane of a lane buffer, never a flat (shared) one."""
        if not typ.layout.has_lanes:
            raise self.fail(
                f"{role} is flat (shared by every lane), so the per-lane op would write it "
                "once per lane; a per-lane op writes one lane of a lane-laid buffer"
            )


class OperandListSyntax(LaneOp, ABC):
    """`op %a, %b, %c [lane %l] [flags] attr-dict : types` (see the module docstring)."""

    OPERANDS: ClassVar[tuple[str, ...]]
    FLAGS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def create_from(
        cls,
        operands: dict[str, SSAValue],
        flags: Sequence[str] = (),
        attributes: dict[str, Attribute] | None = None,
    ) -> Self:
        """Build from operands by field name (`lane` for a per-lane op) and flag names."""
        unknown = set(flags) - set(cls.FLAGS)
        if unknown:
            raise TypeError(f"{cls.name} has no flag {', '.join(sorted(unknown))}")
        names = [name for name, _ in cls.get_irdl_definition().operands]
        return cls.build(
            operands=[operands[name] for name in names],
            properties={flag: UnitAttr() for flag in flags},
            attributes=attributes or {},
        )

    @classmethod
    def _per_lane(cls) -> bool:
        return any(isinstance(trait, PerLane) for trait in cls.traits)

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        refs = [parser.parse_unresolved_operand()]
        for _ in cls.OPERANDS[1:]:
            parser.parse_punctuation(",")
            refs.append(parser.parse_unresolved_operand())
        operands: dict[str, SSAValue] = {}
        if cls._per_lane():
            parser.parse_keyword("lane", " (a per-lane op names its lane: `lane %l`)")
            operands["lane"] = parser.resolve_operand(
                parser.parse_unresolved_operand(), IndexType()
            )
        flags = [flag for flag in cls.FLAGS if parser.parse_optional_keyword(flag)]
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = parse_type_list(parser, len(cls.OPERANDS))
        for name, ref, typ in zip(cls.OPERANDS, refs, types, strict=True):
            operands[name] = parser.resolve_operand(ref, typ)
        return cls.create_from(operands, flags, attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_list([getattr(self, name) for name in self.OPERANDS], printer.print_operand)
        if self._per_lane():
            printer.print_string(" lane ")
            printer.print_operand(self.lane)
        for flag in self.FLAGS:
            if flag in self.properties:
                printer.print_string(f" {flag}")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        print_type_list(printer, [getattr(self, name).type for name in self.OPERANDS])
