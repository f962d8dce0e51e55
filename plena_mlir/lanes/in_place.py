"""Make masked per-lane vector-scalar ops in place (reference pitfall 7).

On a col_pack buffer a per-lane vector-scalar op (lane.row_add/sub/rsub/mul) selects its lane
with V_MASK, and the machine writes the *other* lanes of the row with the source's values: an
out-of-place `dst = src * s[l]` in a lane loop leaves only the last lane's result in dst.  So
the lane dialect requires dst to be src, and this legalisation rewrites, still in `tile`,

    tile.mul_scalar %dst, %src, %s          (fp_lane s, col_pack dst, dst != src)

into a whole-tile copy and the in-place op:

    tile.copy %src to %dst                  (a multi-lane lane.copy after expansion)
    tile.mul_scalar %dst, %dst, %s

which means the same for every head.  The copies are returned so the grouping
(`grouping`) can hoist each above the per-lane ops before it in its lane loop when that
keeps the meaning (they touch neither buffer), instead of splitting the loop.
"""

from __future__ import annotations

from xdsl.rewriter import InsertPoint, Rewriter

from plena_mlir.dialects.lane import LaneLayout
from plena_mlir.dialects.tile import CopyOp, KernelOp, ScalarOp
from plena_mlir.lanes.packing import LaneLayouts


def make_masked_ops_in_place(kernel: KernelOp, layouts: LaneLayouts) -> set[CopyOp]:
    """Rewrite every out-of-place masked per-lane vector-scalar op (module docstring); the
    copies inserted."""
    copies: set[CopyOp] = set()
    for op in list(kernel.body.walk()):
        if not isinstance(op, ScalarOp) or op.dst is op.src:
            continue
        scalar = layouts.types.get(op.scalar)
        if scalar is None or scalar.layout is not LaneLayout.FP_LANE:
            continue
        if layouts.layout(op.dst) is not LaneLayout.COL_PACK:
            continue
        copy = CopyOp(op.src, op.dst)
        Rewriter.insert_op(copy, InsertPoint.before(op))
        op.operands[1] = op.dst  # (dst, src, scalar, scalar_index)
        copies.add(copy)
    return copies
