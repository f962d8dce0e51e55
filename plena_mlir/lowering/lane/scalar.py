"""Lowering of the per-lane FPRAM scalar ops and of `lane.fill`.

lane.fp_<op> dst, sources lane l   the tile lowering (scalar.fp_entries) on lane l's N
                                   entries of dst (at base + l*N) and of each fp_lane
                                   source; a flat source is shared (N entries, or one
                                   loaded once), an f32 value is its FPRAM entry
lane.fp_<op> for every lane        (lane None: `operands.every_lane_at_once`, every
                                   buffer fp_lane) the same on the L*N entries of the
                                   physical buffers, one loop for every lane
lane.fill dst, v                   the tile fill of the physical buffer (every lane)
"""

from __future__ import annotations

from plena_mlir.dialects.lane import SCALAR_OPS, FillOp
from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.lane.operands import (
    every_lane_at_once,
    lane_fp_operand,
    lane_part,
    lane_type,
)
from plena_mlir.lowering.tile.onchip_copy import fill_vram
from plena_mlir.lowering.tile.scalar import FP_INSTRUCTIONS, fill_fpram, fp_entries

LANE_SCALAR_OPS = (*SCALAR_OPS, FillOp)


def lower_lane_scalar(lowering: KernelLowering, op, lane: int | None) -> None:
    """lane.fill (lane None) or a per-lane FPRAM op for the static lane `lane` (or for every
    lane at once, lane None)."""
    if isinstance(op, FillOp):
        buffer = lane_part(lowering, op.dst, None)
        value = lowering.fp_entry(op.value)
        if buffer.typ.space is MemorySpace.VRAM:
            fill_vram(lowering, buffer, value)
        else:
            fill_fpram(lowering, buffer, value)
        return
    assert lane is not None or every_lane_at_once(op), "a per-lane op needs its lane"
    dst = lane_type(op.dst)
    entries = dst.lane_shape[0] * (dst.lanes if lane is None else 1)
    fp_entries(
        lowering,
        FP_INSTRUCTIONS[op.TILE_OP],
        entries,
        lane_fp_operand(lowering, op.dst, lane, entries),
        [lane_fp_operand(lowering, getattr(op, role), lane, entries) for role in op.READ],
    )
