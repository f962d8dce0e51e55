"""Per-lane scalar FP ops on FPRAM, inside `lane.for_lanes`: one S_*_FP per entry of a lane.

    lane.fp_reci %inv, %sum lane %l : !lane.buffer<4x64xf32, fpram, fp_lane>
    lane.fp_mul %m, %m, %scale lane %l : !lane.buffer<4x64xf32, fpram, fp_lane>, ..., f32

For the lane l = `lane`, element by element over the N entries of a lane of dst:

    dst[l, i] = f(sources[l, i])

dst is an fp_lane buffer.  A source is an fp_lane buffer (lane l, N entries), a flat FPRAM
buffer (shared by the lanes: N entries, or one for every i), or an f32 value.
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
from xdsl.dialects.builtin import Float32Type, IndexType
from xdsl.irdl import irdl_op_definition, operand_def, traits_def

_FPRAM = (MemorySpace.FPRAM,)


class FpOp(OperandListSyntax, PerLaneOp, ABC):
    """A per-lane scalar FP op mirroring `TILE_OP` (module docstring)."""

    TILE_OP: ClassVar[type[tile.TileOp]]

    traits = traits_def(PerLane(), LaneEffects())

    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)

    def verify_(self) -> None:
        dst = self.check_buffer("dst", self.dst, _FPRAM, (LaneLayout.FP_LANE,))
        (entries,) = dst.lane_shape
        for role in self.READ:
            value = getattr(self, role)
            if isinstance(value.type, Float32Type):
                continue
            source = self.check_buffer(role, value, _FPRAM, (LaneLayout.FP_LANE, LaneLayout.FLAT))
            (count,) = source.lane_shape
            if count != entries and not (count == 1 and not source.layout.has_lanes):
                raise self.fail(
                    f"a lane of {role} has {count} entries but a lane of dst has {entries}"
                )


class FpBinaryOp(FpOp, ABC):
    """dst[l, i] = lhs[l, i] (op) rhs[l, i]"""

    dst = operand_def(LaneBufferType)
    lhs = operand_def(LaneBufferType | Float32Type)
    rhs = operand_def(LaneBufferType | Float32Type)
    lane = operand_def(IndexType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "lhs", "rhs")
    READ: ClassVar[tuple[str, ...]] = ("lhs", "rhs")


class FpUnaryOp(FpOp, ABC):
    """dst[l, i] = f(src[l, i])"""

    dst = operand_def(LaneBufferType)
    src = operand_def(LaneBufferType | Float32Type)
    lane = operand_def(IndexType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src")
    READ: ClassVar[tuple[str, ...]] = ("src",)


@irdl_op_definition
class FpAddOp(FpBinaryOp):
    """dst = lhs + rhs, lane l   (S_ADD_FP)"""

    name = "lane.fp_add"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpAddOp


@irdl_op_definition
class FpSubOp(FpBinaryOp):
    """dst = lhs - rhs, lane l   (S_SUB_FP)"""

    name = "lane.fp_sub"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpSubOp


@irdl_op_definition
class FpMulOp(FpBinaryOp):
    """dst = lhs * rhs, lane l   (S_MUL_FP)"""

    name = "lane.fp_mul"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpMulOp


@irdl_op_definition
class FpMaxOp(FpBinaryOp):
    """dst = max(lhs, rhs), a NaN operand ignored, lane l   (S_MAX_FP)"""

    name = "lane.fp_max"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpMaxOp


@irdl_op_definition
class FpExpOp(FpUnaryOp):
    """dst = exp(src), lane l   (S_EXP_FP)"""

    name = "lane.fp_exp"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpExpOp


@irdl_op_definition
class FpReciOp(FpUnaryOp):
    """dst = 1 / src, lane l   (S_RECI_FP)"""

    name = "lane.fp_reci"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpReciOp


@irdl_op_definition
class FpSqrtOp(FpUnaryOp):
    """dst = sqrt(src), lane l   (S_SQRT_FP)"""

    name = "lane.fp_sqrt"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.FpSqrtOp


SCALAR_OPS = (FpAddOp, FpSubOp, FpMulOp, FpMaxOp, FpExpOp, FpReciOp, FpSqrtOp)
