"""Buffers and data movement, all multi-lane: `lane.alloc`, `lane.copy`, `lane.fill`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from plena_mlir.dialects.lane.base import LaneEffects, LaneOp, OperandListSyntax
from plena_mlir.dialects.lane.layouts import LaneLayout
from plena_mlir.dialects.lane.traits import MultiLane
from plena_mlir.dialects.lane.types import LaneBufferType
from plena_mlir.dialects.plena.attrs import target_of
from plena_mlir.dialects.tile.memory_ops import (
    HBM,
    LEGAL_COPIES,
    CopySyntax,
    default_sizes,
    illegal_copy_reason,
)
from plena_mlir.dialects.tile.types import MemorySpace, TensorType, format_shape, squeeze
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
    split_dynamic_index_list,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import (
    irdl_op_definition,
    operand_def,
    opt_attr_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import MemoryAllocEffect

_COL_PACK, _ROW_STACK = LaneLayout.COL_PACK, LaneLayout.ROW_STACK
_FP_LANE, _FLAT = LaneLayout.FP_LANE, LaneLayout.FLAT


@irdl_op_definition
class AllocOp(LaneOp):
    """%b = a new lane buffer of the result type, all lanes at once; its contents are undefined
    until written.

    The type must fit the module's target (`LaneBufferType.target_error`): L lanes, col_pack
    lanes HLEN wide, row_stack slabs MLEN wide.  `address` (optional, set by
    plena-allocate-memory) is where its physical buffer (`LaneBufferType.physical`) lives,
    with the alignment of a `tile.alloc` of that type.
    """

    name = "lane.alloc"

    result = result_def(LaneBufferType)
    address = opt_attr_def(IntegerAttr[I64])

    traits = traits_def(MultiLane(), MemoryAllocEffect())

    assembly_format = "attr-dict `:` type($result)"

    def __init__(self, typ: LaneBufferType, address: int | None = None):
        attributes = {} if address is None else {"address": IntegerAttr(address, i64)}
        super().__init__(result_types=[typ], attributes=attributes)

    def verify_(self) -> None:
        typ = self.result.type
        assert isinstance(typ, LaneBufferType)
        target = target_of(self)
        if (error := typ.target_error(target)) is not None:
            raise self.fail(error)
        if self.address is None:
            return
        address = self.address.value.data
        alignment = {
            MemorySpace.VRAM: ("VLEN", target.vlen),
            MemorySpace.MRAM: ("MLEN^2 (one tile)", target.mlen * target.mlen),
        }.get(typ.space)
        if address < 0 or (alignment is not None and address % alignment[1]):
            rule = "non-negative" + ("" if alignment is None else f", a multiple of {alignment[0]}")
            raise self.fail(f"{typ.space} address {address} must be {rule}")


# ---------------------------------------------------------------------------------------------
# lane.copy
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class CopyOp(CopySyntax, LaneOp):
    """Copy all lanes at once: a DMA between an HBM tensor and a lane buffer, or a move between
    two lane buffers (VRAM -> VRAM, VRAM <-> FPRAM).

        lane.copy %Q[0, %r, lanes %h0, 0] to %q      // for l < L: q[l] = Q[0, r:r+64, h0+l, :]
        lane.copy %o to %O[0, %r, lanes %h0, 0]      // for l < L: O[0, r:r+64, h0+l, :] = o[l]
        lane.copy %w[%k, 0] to %wm                   // flat: wm = w[k:k+64, 0:64]
        lane.copy %row to %fp                        // col_pack 4x1x16 -> fp_lane 4x16

    HBM side (offsets, one per tensor dimension, static or SSA): with a lane-laid buffer one
    dimension is marked `lanes`, the head dimension, and its offset is the first head h0:

        for l < L, p < per-lane shape:  buf[l, p] <-> hbm[offsets + p, with hbm[lane dim] = h0 + l]

    where p is fitted to the tensor's other dimensions by adding or dropping leading unit
    dimensions (like tile.copy).  A flat buffer moves one region, `lanes` is not allowed:
    buf[p] <-> hbm[offsets + p], or the whole tensor when there are no offsets.  A *broadcast*
    copy loads one region (no `lanes`) into every lane of a lane-laid VRAM buffer, e.g. a
    head-independent weight used with lane buffers:

        lane.copy %w[0, 0] to %wb     // for l < L: wb[l] = w[0:1, 0:16]  (HBM -> VRAM only)

    (a col_pack one is replicated through FPRAM, so its values are also rounded to fp16).

    Between lane buffers both are whole, have the same lanes and per-lane element count, and
    one instruction sequence can move them: the same layout (col_pack, row_stack, fp_lane or
    flat both sides), col_pack rows of one row per lane <-> fp_lane, or row_stack <-> fp_lane
    (a slab is contiguous, as an fp_lane lane is):

        for l < L, row-major i:  dst[l][i] = src[l][i]
    """

    name = "lane.copy"

    src = operand_def(TensorType | LaneBufferType)
    dst = operand_def(TensorType | LaneBufferType)
    hbm_offsets = var_operand_def(IndexType)
    hbm_static_offsets = prop_def(DenseArrayBase.constr(I64))
    lane_dim = opt_prop_def(IntegerAttr[I64])

    traits = traits_def(MultiLane(), LaneEffects())

    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("src",)

    def __init__(
        self,
        src: SSAValue,
        dst: SSAValue,
        hbm_offsets: Sequence[SSAValue | int] = (),
        lane_dim: int | None = None,
    ):
        """A copy; `hbm_offsets` slice the tensor side, `lane_dim` marks its head dimension."""
        static, dynamic = split_dynamic_index_list(hbm_offsets, DYNAMIC_INDEX)
        properties: dict[str, Attribute] = {
            "hbm_static_offsets": DenseArrayBase.from_list(i64, static)
        }
        if lane_dim is not None:
            properties["lane_dim"] = IntegerAttr(lane_dim, i64)
        super().__init__(operands=[src, dst, dynamic], properties=properties)

    # accessors ------------------------------------------------------------------------------
    @property
    def tensor_side(self) -> str | None:
        """ "src" or "dst", the side that is an HBM tensor; None between lane buffers."""
        for side in ("src", "dst"):
            if isinstance(getattr(self, side).type, TensorType):
                return side
        return None

    def offsets(self) -> list[SSAValue | int]:
        """The offsets of the HBM side (empty when it is whole): ints and SSA index values."""
        static = self.hbm_static_offsets.get_values()
        return get_dynamic_index_list(static, self.hbm_offsets, DYNAMIC_INDEX)

    @property
    def lane_dimension(self) -> int | None:
        return None if self.lane_dim is None else self.lane_dim.value.data

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, parser: Parser) -> CopyOp:
        src, src_offsets = _parse_side(parser)
        parser.parse_keyword("to")
        dst, dst_offsets = _parse_side(parser)
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        pos = parser.pos
        src_type = parser.parse_type()
        parser.parse_keyword("to")
        dst_type = parser.parse_type()
        offsets: list[tuple[bool, UnresolvedOperand | int]] = []
        for entries, typ in ((src_offsets, src_type), (dst_offsets, dst_type)):
            if entries is None:
                continue
            if not isinstance(typ, TensorType):
                parser.raise_error(
                    "lane.copy: only the HBM side has offsets; lane buffers move whole", pos
                )
            offsets = entries
        if src_offsets is not None and dst_offsets is not None:
            parser.raise_error("lane.copy: only one side can be an HBM tensor", pos)
        marked = [i for i, (is_lane, _) in enumerate(offsets) if is_lane]
        if len(marked) > 1:
            parser.raise_error("lane.copy: only one dimension can be the `lanes` dimension", pos)
        op = cls(
            parser.resolve_operand(src, src_type),
            parser.resolve_operand(dst, dst_type),
            [
                v if isinstance(v, int) else parser.resolve_operand(v, IndexType())
                for _, v in offsets
            ],
            marked[0] if marked else None,
        )
        op.attributes |= attributes
        return op

    def _print_side(self, printer: Printer, side: str) -> None:
        printer.print_operand(getattr(self, side))
        offsets = self.offsets()
        if side != self.tensor_side or not offsets:
            return
        printer.print_string("[")
        for i, offset in enumerate(offsets):
            if i:
                printer.print_string(", ")
            if i == self.lane_dimension:
                printer.print_string("lanes ")
            if isinstance(offset, int):
                printer.print_int(offset)
            else:
                printer.print_operand(offset)
        printer.print_string("]")

    # verification ---------------------------------------------------------------------------
    def verify_(self) -> None:
        places = [_place(getattr(self, side).type) for side in ("src", "dst")]
        if tuple(places) not in LEGAL_COPIES:
            raise self.fail(illegal_copy_reason(*places))
        side = self.tensor_side
        if side is None:
            if self.offsets() or self.lane_dim is not None:
                raise self.fail("only the HBM side of a copy has offsets")
            self._verify_on_chip()
        else:
            self._verify_hbm(side)

    def _verify_on_chip(self) -> None:
        src = self.check_buffer("src", self.src)
        dst = self.check_buffer("dst", self.dst)
        if src.lanes != dst.lanes:
            raise self.fail(f"src has {src.lanes} lanes but dst has {dst.lanes}")
        if (error := _on_chip_layout_error(src, dst)) is not None:
            raise self.fail(f"layout mismatch: {error}")
        if squeeze(src.lane_shape) != squeeze(dst.lane_shape) and not _is_slab(src, dst):
            raise self.fail(
                f"the lanes of src ({format_shape(src.lane_shape)}) and dst "
                f"({format_shape(dst.lane_shape)}) differ in shape"
            )

    def _verify_hbm(self, side: str) -> None:
        other = "dst" if side == "src" else "src"
        tensor = getattr(self, side).type
        assert isinstance(tensor, TensorType)
        buf = self.check_buffer(other, getattr(self, other))
        shape, offsets, lane_dim = tensor.get_shape(), self.offsets(), self.lane_dimension
        broadcast = buf.layout.has_lanes and lane_dim is None
        if broadcast and side == "dst":
            raise self.fail(
                f"{other} is {buf.layout}: mark the head dimension of the HBM side with `lanes` "
                "(`%t[..., lanes %h0, ...]`) to say which heads the lanes hold"
            )
        if broadcast and buf.space is not MemorySpace.VRAM:
            raise self.fail(
                f"a broadcast copy (no `lanes` dimension: every lane gets the same region) "
                f"fills a VRAM buffer, not {buf.space} ({buf}); mark the head dimension with "
                "`lanes`, or use a flat buffer"
            )
        if not buf.layout.has_lanes and lane_dim is not None:
            raise self.fail(f"{other} is flat (no lanes), so no HBM dimension can be `lanes`")
        if offsets and len(offsets) != len(shape):
            raise self.fail(
                f"the HBM side has rank {len(shape)} ({format_shape(shape)}) but "
                f"{len(offsets)} offsets"
            )
        if not offsets:
            whole = buf.lane_shape if broadcast else buf.get_shape()
            if squeeze(shape) != squeeze(whole):
                part = f"a lane of {other}" if broadcast else other
                raise self.fail(
                    f"shape of the HBM side ({format_shape(shape)}) does not match {part} "
                    f"({format_shape(whole)})"
                )
            return
        other_dims = [d for d in range(len(shape)) if d != lane_dim]
        sizes = default_sizes(buf.lane_shape, len(other_dims))
        if sizes is None:
            raise self.fail(
                f"a lane of {other} ({format_shape(buf.lane_shape)}) does not fit the "
                f"{len(other_dims)} non-lane dimensions of the HBM side ({format_shape(shape)})"
            )
        if lane_dim is not None:
            self._verify_heads(shape[lane_dim], lane_dim, offsets[lane_dim], buf.lanes)
        for dim, size in zip(other_dims, sizes, strict=True):
            offset = offsets[dim]
            if isinstance(offset, int) and not (0 <= offset and offset + size <= shape[dim]):
                raise self.fail(
                    f"offset {offset} + size {size} is out of bounds for dimension {dim} of "
                    f"the HBM side ({format_shape(shape)})"
                )

    def _verify_heads(self, heads: int, dim: int, start: SSAValue | int, lanes: int) -> None:
        if heads % lanes:
            raise self.fail(
                f"head count/lanes mismatch: the HBM side has {heads} heads (dimension {dim}), "
                f"not a multiple of the {lanes} lanes"
            )
        if isinstance(start, int) and not (0 <= start and start + lanes <= heads):
            raise self.fail(
                f"heads {start} .. {start + lanes - 1} are out of bounds for the {heads} heads "
                f"of dimension {dim}"
            )


def _place(typ: Attribute) -> str:
    if isinstance(typ, TensorType):
        return HBM
    assert isinstance(typ, LaneBufferType)
    return typ.space.value


def _is_slab(src: LaneBufferType, dst: LaneBufferType) -> bool:
    """A row_stack slab and an fp_lane lane of the same number of elements."""
    return {src.layout, dst.layout} == {_ROW_STACK, _FP_LANE} and math.prod(
        src.lane_shape
    ) == math.prod(dst.lane_shape)


def _on_chip_layout_error(src: LaneBufferType, dst: LaneBufferType) -> str | None:
    """Why no instruction sequence moves src's elements to the same positions of dst."""
    if src.layout is dst.layout:
        return None
    pair = {src.layout, dst.layout}
    if pair == {_ROW_STACK, _FP_LANE}:
        return None
    if pair == {_COL_PACK, _FP_LANE}:
        packed = src if src.layout is _COL_PACK else dst
        if packed.lane_shape[0] == 1:
            return None
        return (
            f"a col_pack buffer maps to fp_lane only with one row per lane (a VRAM row holds "
            f"a slice of every lane), got {format_shape(packed.get_shape())}"
        )
    return (
        f"src is {src.layout} but dst is {dst.layout}: a copy does not change the layout, so "
        "the producer and consumer of the data must agree on it"
    )


def _parse_side(
    parser: Parser,
) -> tuple[UnresolvedOperand, list[tuple[bool, UnresolvedOperand | int]] | None]:
    """`%v` or `%v[o, lanes o, ...]`: the operand and its (is-lane, offset) entries."""
    operand = parser.parse_unresolved_operand()

    def parse_entry() -> tuple[bool, UnresolvedOperand | int]:
        is_lane = parser.parse_optional_keyword("lanes") is not None
        return is_lane, parse_dynamic_index_without_type(parser)

    entries = parser.parse_optional_comma_separated_list(Parser.Delimiter.SQUARE, parse_entry)
    return operand, entries


# ---------------------------------------------------------------------------------------------
# lane.fill
# ---------------------------------------------------------------------------------------------


@irdl_op_definition
class FillOp(OperandListSyntax):
    """dst[...] = value for every element of every lane of a VRAM or FPRAM buffer:

    lane.fill %m, %neg_inf : !lane.buffer<4x64xf32, fpram, fp_lane>, f32
    """

    name = "lane.fill"

    dst = operand_def(LaneBufferType)
    value = operand_def(Float32Type)

    traits = traits_def(MultiLane(), LaneEffects())

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "value")
    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)

    def verify_(self) -> None:
        self.check_buffer("dst", self.dst, (MemorySpace.VRAM, MemorySpace.FPRAM))
