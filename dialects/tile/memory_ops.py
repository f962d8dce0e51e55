"""Buffers and data movement: `tile.alloc`, `tile.copy`, `tile.fill`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from plena_mlir.dialects.plena.attrs import target_of
from plena_mlir.dialects.tile.base import BufferEffects, OperandListSyntax, TileOp
from plena_mlir.dialects.tile.types import (
    BufferType,
    MemorySpace,
    TensorType,
    format_shape,
    squeeze,
)
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    I64,
    DenseArrayBase,
    Float32Type,
    IndexType,
    IntegerAttr,
    i64,
)
from xdsl.dialects.utils import (
    get_dynamic_index_list,
    parse_dynamic_index_without_type,
    print_dynamic_index_list,
    split_dynamic_index_list,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    irdl_op_definition,
    operand_def,
    opt_attr_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import MemoryAllocEffect


@irdl_op_definition
class AllocOp(TileOp):
    """%b = a new on-chip buffer of the result type, per program instance; its contents are
    undefined until written (the interpreter fills it with NaN).

    `address` (optional, set by plena-allocate-memory) is where the buffer lives: an element
    address in VRAM (a multiple of VLEN) or MRAM (a multiple of MLEN^2), an entry in FPRAM.
    """

    name = "tile.alloc"

    result = result_def(BufferType)
    address = opt_attr_def(IntegerAttr[I64])

    traits = traits_def(MemoryAllocEffect())

    assembly_format = "attr-dict `:` type($result)"

    def __init__(self, typ: BufferType, address: int | None = None):
        attributes = {} if address is None else {"address": IntegerAttr(address, i64)}
        super().__init__(result_types=[typ], attributes=attributes)

    def verify_(self) -> None:
        if self.address is None:
            return
        address = self.address.value.data
        typ = self.result.type
        assert isinstance(typ, BufferType)
        if typ.space is MemorySpace.INFERRED:
            raise self.fail("a buffer with an address must have a memory space, got ?")
        if address < 0:
            raise self.fail(f"address must be non-negative, got {address}")
        target = target_of(self)
        alignment = {
            MemorySpace.VRAM: ("VLEN", target.vlen),
            MemorySpace.MRAM: ("MLEN^2 (one tile)", target.mlen * target.mlen),
        }.get(typ.space)
        if alignment is not None and address % alignment[1]:
            raise self.fail(
                f"{typ.space} address {address} is not a multiple of {alignment[0]} = "
                f"{alignment[1]}"
            )


# ---------------------------------------------------------------------------------------------
# tile.copy
# ---------------------------------------------------------------------------------------------

#: The places a copy can read or write: HBM, or a buffer's memory space.
HBM = "hbm"
_V, _M, _F = MemorySpace.VRAM.value, MemorySpace.MRAM.value, MemorySpace.FPRAM.value

#: The directions the machine has (H_PREFETCH_V/M, H_STORE_V, vector moves, S_MAP_*, S_LD/ST_FP).
LEGAL_COPIES = frozenset({(HBM, _V), (HBM, _M), (_V, HBM), (_V, _V), (_V, _F), (_F, _V), (_F, _F)})


def illegal_copy_reason(src: str, dst: str) -> str:
    if src == HBM and dst == HBM:
        return "cannot copy from HBM to HBM: stage the data through a VRAM buffer"
    if src == _M:
        return "MRAM cannot be read by a copy, only by tile.gemm (its B operand)"
    if dst == _M:
        return f"MRAM can only be written from HBM (H_PREFETCH_M), not from {src}"
    if src == HBM:
        return f"HBM can only be copied to vram or mram, not to {dst}: go through VRAM"
    return f"{src} cannot be copied to HBM directly: copy it to a VRAM buffer first"


def _places(typ: Attribute) -> list[str]:
    """The places a value of type `typ` may be in (`?` resolves by rank: rank 1 is FPRAM,
    rank 2 VRAM or MRAM)."""
    if isinstance(typ, TensorType):
        return [HBM]
    assert isinstance(typ, BufferType)
    if typ.space is MemorySpace.INFERRED:
        return [_F] if typ.rank == 1 else [_V, _M]
    return [typ.space.value]


def default_sizes(shape: Sequence[int], rank: int) -> tuple[int, ...] | None:
    """`shape` as a region of a rank-`rank` operand: leading unit dimensions added or dropped
    to reach the rank; None when that is impossible."""
    shape = list(shape)
    while len(shape) > rank and shape[0] == 1:
        shape.pop(0)
    if len(shape) > rank:
        return None
    return (1,) * (rank - len(shape)) + tuple(shape)


SIDES = ("src", "dst")


class CopySyntax:
    """The printed frame of a copy op (tile.copy, lane.copy); each op prints its sides:

        <op> <src side> to <dst side> attributes : <src type> to <dst type>
    """

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        self._print_side(printer, "src")
        printer.print_string(" to ")
        self._print_side(printer, "dst")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.src.type)
        printer.print_string(" to ")
        printer.print_attribute(self.dst.type)

    def _print_side(self, printer: Printer, side: str) -> None:
        raise NotImplementedError


@irdl_op_definition
class CopyOp(CopySyntax, TileOp):
    """Copy between HBM tensors and on-chip buffers, or between buffers.

        tile.copy %x[%r, 0] to %buf                        // buf = x[r : r+64, 0 : 1024]
        tile.copy %q[0, %r, %h, 0] sizes [1, 64, 1, 16] to %qb
        tile.copy %buf to %y[%r, 0]                        // y[r : r+64, 0 : 1024] = buf
        tile.copy %a[%r, %k] sizes [64, 64] to %panel[0, %k]
        tile.copy %row to %fp                              // a 1x64 VRAM row -> 64 FPRAM entries

    Each side is whole or sliced.  A sliced side has offsets (static or SSA, one per
    dimension) and a region extent: its `sizes`, or else the other side's extent (its shape,
    or its region) with leading unit dimensions added or dropped to this side's rank.  The two
    extents must be equal up to unit dimensions (which do not change the row-major order):

        region(dst)[...] = region(src)[...]     element by element in row-major order

    Directions: HBM -> vram | mram, vram -> HBM, vram -> vram, vram <-> fpram, fpram -> fpram.
    """

    name = "tile.copy"

    src = operand_def(TensorType | BufferType)
    src_offsets = var_operand_def(IndexType)
    dst = operand_def(TensorType | BufferType)
    dst_offsets = var_operand_def(IndexType)
    src_static_offsets = prop_def(DenseArrayBase.constr(I64))
    src_static_sizes = prop_def(DenseArrayBase.constr(I64))
    dst_static_offsets = prop_def(DenseArrayBase.constr(I64))
    dst_static_sizes = prop_def(DenseArrayBase.constr(I64))

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(BufferEffects())

    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("src",)

    def __init__(
        self,
        src: SSAValue,
        dst: SSAValue,
        src_offsets: Sequence[SSAValue | int] = (),
        dst_offsets: Sequence[SSAValue | int] = (),
        src_sizes: Sequence[int] = (),
        dst_sizes: Sequence[int] = (),
    ):
        """A copy; empty offsets make a side whole, empty sizes leave its extent derived."""
        src_static, src_dynamic = split_dynamic_index_list(src_offsets, DYNAMIC_INDEX)
        dst_static, dst_dynamic = split_dynamic_index_list(dst_offsets, DYNAMIC_INDEX)
        super().__init__(
            operands=[src, src_dynamic, dst, dst_dynamic],
            properties={
                "src_static_offsets": DenseArrayBase.from_list(i64, src_static),
                "src_static_sizes": DenseArrayBase.from_list(i64, list(src_sizes)),
                "dst_static_offsets": DenseArrayBase.from_list(i64, dst_static),
                "dst_static_sizes": DenseArrayBase.from_list(i64, list(dst_sizes)),
            },
        )

    # the regions ----------------------------------------------------------------------------
    def is_sliced(self, side: str) -> bool:
        return bool(getattr(self, f"{side}_static_offsets").get_values())

    def offsets(self, side: str) -> list[SSAValue | int]:
        """The offsets of `side` ("src" or "dst"): static ints and SSA index values."""
        static = getattr(self, f"{side}_static_offsets").get_values()
        return get_dynamic_index_list(static, getattr(self, f"{side}_offsets"), DYNAMIC_INDEX)

    def given_sizes(self, side: str) -> tuple[int, ...]:
        return tuple(getattr(self, f"{side}_static_sizes").get_values())

    def extent(self, side: str) -> tuple[int, ...] | None:
        """The shape of the part of `side` the copy covers: its shape when whole, its region
        when sliced; None when a region cannot be derived (both sides sliced, no sizes)."""
        if not self.is_sliced(side):
            return _shape(getattr(self, side))
        if given := self.given_sizes(side):
            return given
        other = "dst" if side == "src" else "src"
        if self.is_sliced(other) and not self.given_sizes(other):
            return None
        base = self.extent(other)
        assert base is not None
        return default_sizes(base, len(_shape(getattr(self, side))))

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, parser: Parser) -> CopyOp:
        src, src_offsets, src_sizes = _parse_side(parser)
        parser.parse_keyword("to")
        dst, dst_offsets, dst_sizes = _parse_side(parser)
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        src_type = parser.parse_type()
        parser.parse_keyword("to")
        dst_type = parser.parse_type()
        index = IndexType()
        op = cls(
            parser.resolve_operand(src, src_type),
            parser.resolve_operand(dst, dst_type),
            [o if isinstance(o, int) else parser.resolve_operand(o, index) for o in src_offsets],
            [o if isinstance(o, int) else parser.resolve_operand(o, index) for o in dst_offsets],
            src_sizes,
            dst_sizes,
        )
        op.attributes |= attributes
        return op

    def _print_side(self, printer: Printer, side: str) -> None:
        printer.print_operand(getattr(self, side))
        static = getattr(self, f"{side}_static_offsets").get_values()
        if static:
            offsets = getattr(self, f"{side}_offsets")
            print_dynamic_index_list(printer, DYNAMIC_INDEX, offsets, static)
        if sizes := self.given_sizes(side):
            printer.print_string(f" sizes [{', '.join(str(s) for s in sizes)}]")

    # verification ---------------------------------------------------------------------------
    def verify_(self) -> None:
        self._verify_direction()
        for side in SIDES:
            self._verify_side(side)
        if all(self.is_sliced(side) and not self.given_sizes(side) for side in SIDES):
            raise self.fail("both sides are sliced: give the sizes of one of them")
        for side, other in (("src", "dst"), ("dst", "src")):
            if self.extent(side) is None:
                raise self.fail(
                    f"the extent {format_shape(self.extent(other) or ())} of {other} does not "
                    f"fit the rank {len(_shape(getattr(self, side)))} of {side}: give the "
                    f"sizes of {side}"
                )
        src, dst = self.extent("src"), self.extent("dst")
        assert src is not None and dst is not None
        if squeeze(src) != squeeze(dst):
            raise self.fail(
                f"shape of {self._describe('src')} ({format_shape(src)}) does not match "
                f"{self._describe('dst')} ({format_shape(dst)})"
            )
        for side in SIDES:
            self._verify_bounds(side)

    def _describe(self, side: str) -> str:
        return f"the region of {side}" if self.is_sliced(side) else side

    def _verify_direction(self) -> None:
        sources, destinations = _places(self.src.type), _places(self.dst.type)
        pairs = [(s, d) for s in sources for d in destinations]
        if not any(pair in LEGAL_COPIES for pair in pairs):
            raise self.fail(illegal_copy_reason(*pairs[0]))

    def _verify_side(self, side: str) -> None:
        """Offsets and sizes of `side` fit its rank; sizes only on a sliced side."""
        shape = _shape(getattr(self, side))
        static = getattr(self, f"{side}_static_offsets").get_values()
        dynamic = getattr(self, f"{side}_offsets")
        if static.count(DYNAMIC_INDEX) != len(dynamic):
            raise self.fail(
                f"{side} has {static.count(DYNAMIC_INDEX)} dynamic offset markers but "
                f"{len(dynamic)} offset operands"
            )
        sizes = self.given_sizes(side)
        if not static:
            if sizes:
                raise self.fail(f"{side} has sizes but no offsets")
            return
        for what, count in (("offsets", len(static)), ("sizes", len(sizes) or len(shape))):
            if count != len(shape):
                raise self.fail(
                    f"{side} has rank {len(shape)} ({format_shape(shape)}) but {count} {what}"
                )
        if any(s <= 0 for s in sizes):
            raise self.fail(f"sizes of {side} must be positive, got [{', '.join(map(str, sizes))}]")

    def _verify_bounds(self, side: str) -> None:
        if not self.is_sliced(side):
            return
        shape = _shape(getattr(self, side))
        extent = self.extent(side)
        assert extent is not None
        for dim, (offset, size, dim_size) in enumerate(
            zip(self.offsets(side), extent, shape, strict=True)
        ):
            if isinstance(offset, int) and not (0 <= offset and offset + size <= dim_size):
                raise self.fail(
                    f"offset {offset} + size {size} is out of bounds for dimension {dim} of "
                    f"{side} ({format_shape(shape)})"
                )


def _shape(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, TensorType | BufferType)
    return value.type.get_shape()


def _parse_side(
    parser: Parser,
) -> tuple[UnresolvedOperand, Sequence[UnresolvedOperand | int], Sequence[int]]:
    """`%v`, `%v[offsets]` or `%v[offsets] sizes [s, ...]`."""
    operand = parser.parse_unresolved_operand()
    offsets = parser.parse_optional_comma_separated_list(
        Parser.Delimiter.SQUARE, lambda: parse_dynamic_index_without_type(parser)
    )
    sizes: Sequence[int] = ()
    if parser.parse_optional_keyword("sizes"):
        sizes = parser.parse_comma_separated_list(
            Parser.Delimiter.SQUARE, lambda: parser.parse_integer(allow_boolean=False)
        )
    return operand, offsets or (), sizes


# ---------------------------------------------------------------------------------------------
# tile.fill
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class FillOp(OperandListSyntax):
    """dst[...] = value, for every element of a VRAM or FPRAM buffer:

    tile.fill %acc, %zero : !tile.buffer<64x64xbf16, vram>, f32
    """

    name = "tile.fill"

    dst = operand_def(BufferType)
    value = operand_def(Float32Type)

    traits = traits_def(BufferEffects())

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "value")
    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)

    def verify_(self) -> None:
        self.check_space("dst", self.dst, MemorySpace.VRAM, MemorySpace.FPRAM)
