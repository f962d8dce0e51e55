"""Per-lane row ops: one head's rows at a time, inside `lane.for_lanes`.

    lane.row_max %m, %s lane %l accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>,
                                             !lane.buffer<4x64x64xbf16, vram, row_stack>
    lane.row_sub %s, %s, %m lane %l : ..., !lane.buffer<4x64xf32, fpram, fp_lane>

Lane l of a row_stack buffer is selected by address (its slab); of a col_pack buffer by
V_MASK = 1 << l, with the instruction's mask flag set.  A masked vector-scalar instruction
writes the whole row, the unselected heads with its *source's* values, so over the lane loop
every iteration but the last would be undone unless the op is in place (dst is src): the
verifier requires that for col_pack (reference pitfall 7; a legalisation copies src to dst
first when a kernel needs an out-of-place result).
"""

from __future__ import annotations

from abc import ABC
from typing import ClassVar

from plena_mlir.dialects import tile
from plena_mlir.dialects.lane.base import LaneEffects, OperandListSyntax, PerLaneOp
from plena_mlir.dialects.lane.layouts import LaneLayout
from plena_mlir.dialects.lane.traits import PerLane
from plena_mlir.dialects.lane.types import LaneBufferType
from plena_mlir.dialects.tile.types import MemorySpace
from xdsl.dialects.builtin import Float32Type, IndexType, UnitAttr
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, traits_def

_VRAM, _FPRAM = (MemorySpace.VRAM,), (MemorySpace.FPRAM,)
_TILE_LAYOUTS = (LaneLayout.COL_PACK, LaneLayout.ROW_STACK)


class RowOp(OperandListSyntax, PerLaneOp, ABC):
    """A per-lane row op mirroring `TILE_OP` on lane `lane`."""

    TILE_OP: ClassVar[type[tile.TileOp]]

    traits = traits_def(PerLane(), LaneEffects())


class RowScalarOp(RowOp, ABC):
    """dst[l, r, :] = src[l, r, :] (op) s[l, r] for the lane l = `lane`.

    s is an fp_lane buffer (lane l's entry r), a flat FPRAM buffer (entry r, shared), or an
    f32 value; a buffer has one entry per row of a lane, or one entry.
    """

    dst = operand_def(LaneBufferType)
    src = operand_def(LaneBufferType)
    scalar = operand_def(LaneBufferType | Float32Type)
    lane = operand_def(IndexType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src", "scalar")
    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("src", "scalar")

    def verify_(self) -> None:
        dst = self.check_buffer("dst", self.dst, _VRAM)
        self.check_written_lane("dst", dst)
        self.check_buffer("src", self.src, _VRAM)
        self.check_same_layout("src", self.src, "dst", self.dst)
        if dst.layout.masked and self.dst is not self.src:
            raise self.fail(
                "a masked per-lane vector-scalar op must be in place (dst is src): dst is "
                "col_pack, so V_MASK selects the lane and the instruction writes the other "
                "lanes of the row with src's values, undoing the other iterations of the lane "
                "loop; copy src to dst first (lane.copy) and run the op on dst"
            )
        if isinstance(self.scalar.type, Float32Type):
            return
        scalar = self.check_buffer(
            "scalar", self.scalar, _FPRAM, (LaneLayout.FP_LANE, LaneLayout.FLAT)
        )
        rows = dst.lane_shape[0]
        (entries,) = scalar.lane_shape
        if entries not in (1, rows):
            raise self.fail(
                f"a lane of the scalar operand has {entries} entries but a lane of dst has "
                f"{rows} rows: give one scalar per row or one for all rows"
            )


@irdl_op_definition
class RowAddOp(RowScalarOp):
    """dst[l, r, :] = src[l, r, :] + s[l, r]   (V_ADD_VF, masked for col_pack)"""

    name = "lane.row_add"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.AddScalarOp


@irdl_op_definition
class RowSubOp(RowScalarOp):
    """dst[l, r, :] = src[l, r, :] - s[l, r]   (V_SUB_VF, masked for col_pack)"""

    name = "lane.row_sub"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.SubScalarOp


@irdl_op_definition
class RowRsubOp(RowScalarOp):
    """dst[l, r, :] = s[l, r] - src[l, r, :]   (V_SUB_VF reversed, masked for col_pack)"""

    name = "lane.row_rsub"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.RsubScalarOp


@irdl_op_definition
class RowMulOp(RowScalarOp):
    """dst[l, r, :] = src[l, r, :] * s[l, r]   (V_MUL_VF, masked for col_pack)"""

    name = "lane.row_mul"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.MulScalarOp


class RowReduceOp(RowOp, ABC):
    """acc[l, r] = reduce(src[l, r, :]), or with `accumulate` reduce(acc[l, r], src[l, r, :]),
    for the lane l = `lane`.

    acc is an fp_lane buffer with one entry per row of a lane of src.  Without `accumulate`
    the old value is not read (the lowering seeds the FP register first: V_RED_* accumulates).
    """

    acc = operand_def(LaneBufferType)
    src = operand_def(LaneBufferType)
    lane = operand_def(IndexType)
    accumulate = opt_prop_def(UnitAttr)

    OPERANDS: ClassVar[tuple[str, ...]] = ("acc", "src")
    FLAGS: ClassVar[tuple[str, ...]] = ("accumulate",)
    WRITTEN: ClassVar[tuple[str, ...]] = ("acc",)

    @property
    def READ(self) -> tuple[str, ...]:
        return ("acc", "src") if self.accumulate is not None else ("src",)

    def verify_(self) -> None:
        src = self.check_buffer("src", self.src, _VRAM, _TILE_LAYOUTS)
        acc = self.check_buffer("acc", self.acc, _FPRAM)
        self.check_written_lane("acc", acc)
        rows = src.lane_shape[0]
        (entries,) = acc.lane_shape
        if entries != rows:
            raise self.fail(
                f"a lane of acc has {entries} entries but a lane of src has {rows} rows: acc "
                "needs one entry per row"
            )


@irdl_op_definition
class RowMaxOp(RowReduceOp):
    """acc[l, r] = max(src[l, r, :])  or  max(acc[l, r], max(src[l, r, :]))   (V_RED_MAX)"""

    name = "lane.row_max"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.ReduceMaxOp


@irdl_op_definition
class RowSumOp(RowReduceOp):
    """acc[l, r] = sum(src[l, r, :])  or  acc[l, r] + sum(src[l, r, :])   (V_RED_SUM)"""

    name = "lane.row_sum"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.ReduceSumOp


ROW_OPS = (RowAddOp, RowSubOp, RowRsubOp, RowMulOp, RowMaxOp, RowSumOp)
