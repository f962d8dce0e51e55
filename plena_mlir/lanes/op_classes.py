"""Which lane op each `tile` op of a lane kernel becomes: multi-lane or per-lane.

Decided from the op and the lane layouts of its operands (`packing`), before any op is
rewritten, so the grouping into lane loops (`grouping`) and the rewrite
(`conversion`) agree:

    tile.alloc / copy / fill, element-wise vector ops        multi-lane
    tile.*_scalar with an f32 or flat FPRAM scalar           multi-lane (lane.*_scalar)
    tile.*_scalar with an fp_lane scalar                     per-lane   (lane.row_*)
    tile.reduce_*, tile.fp_*                                 per-lane
    tile.gemm c = a·bᵀ, a col_pack vram R x HLEN, b col_pack mram MLEN x HLEN, c row_stack,
        R = MLEN or 1                                        multi-lane (lane.btmm / btmv)
    any other tile.gemm                                      per-lane   (lane.gemm)

Other ops (arith index math, scf.yield) are neutral: they may stand inside or outside a lane
loop.  An `scf.for` is per-lane when its body holds only per-lane and neutral ops (and at
least one per-lane op), neutral when it holds only neutral ops, and mixed otherwise.
"""

from __future__ import annotations

from enum import Enum

from xdsl.dialects import scf
from xdsl.ir import Operation

from plena_mlir.dialects.lane import LaneLayout
from plena_mlir.dialects.tile import FpOp, GemmOp, ReduceOp, ScalarOp, TileOp
from plena_mlir.gemm.choice import is_batched_qk
from plena_mlir.lanes.packing import LaneLayouts
from plena_mlir.target import Target


class LaneClass(Enum):
    MULTI_LANE = "multi-lane"
    PER_LANE = "per-lane"
    NEUTRAL = "neutral"
    MIXED = "mixed"


def is_batched_gemm(op: GemmOp, layouts: LaneLayouts, target: Target) -> bool:
    """Whether `op` is every head's Q·Kᵀ at once: lane.btmm (MLEN query rows) or lane.btmv
    (one query row): `is_batched_qk` on packed heads, C stacked by head."""
    a, b, c = (layouts.types[v] for v in (op.a, op.b, op.c))
    return (
        a.layout is LaneLayout.COL_PACK
        and b.layout is LaneLayout.COL_PACK
        and c.layout is LaneLayout.ROW_STACK
        and is_batched_qk(op, a.lane_shape[0], b.lane_shape, target)
    )


def _is_fp_lane(layouts: LaneLayouts, op: ScalarOp) -> bool:
    scalar = op.scalar
    return scalar in layouts.types and layouts.layout(scalar) is LaneLayout.FP_LANE


def classify(op: Operation, layouts: LaneLayouts, target: Target) -> LaneClass:
    """The class of `op` (module docstring)."""
    if isinstance(op, scf.ForOp):
        return _classify_loop(op, layouts, target)
    if not isinstance(op, TileOp):
        return LaneClass.NEUTRAL
    if isinstance(op, ReduceOp | FpOp):
        return LaneClass.PER_LANE
    if isinstance(op, ScalarOp) and _is_fp_lane(layouts, op):
        return LaneClass.PER_LANE
    if isinstance(op, GemmOp) and not is_batched_gemm(op, layouts, target):
        return LaneClass.PER_LANE
    return LaneClass.MULTI_LANE


def _classify_loop(loop: scf.ForOp, layouts: LaneLayouts, target: Target) -> LaneClass:
    classes = {classify(op, layouts, target) for op in loop.body.block.ops}
    if loop.results or LaneClass.MULTI_LANE in classes or LaneClass.MIXED in classes:
        return LaneClass.MIXED if classes - {LaneClass.NEUTRAL} else LaneClass.NEUTRAL
    return LaneClass.PER_LANE if LaneClass.PER_LANE in classes else LaneClass.NEUTRAL
