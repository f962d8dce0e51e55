"""Lowering of the per-lane FPRAM scalar ops and of `lane.fill`.

lane.fp_<op> dst, sources lane l   the tile lowering (scalar.fp_entries) on lane l's N
                                   entries of dst (at base + l*N) and of each fp_lane
                                   source; a flat source is shared (N entries, or one
                                   loaded once), an f32 value is its FPRAM entry
lane.fill dst, v                   the tile fill of the physical buffer (every lane)
"""

from __future__ import annotations

from plena_mlir.dialects.lane import SCALAR_OPS, FillOp
from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.lane.operands import lane_fp_operand, lane_part, lane_type
from plena_mlir.lowering.tile.onchip_copy import fill_vram
from plena_mlir.lowering.tile.scalar import FP_INSTRUCTIONS, fill_fpram, fp_entries

LANE_SCALAR_OPS = (*SCALAR_OPS, FillOp)


def lower_lane_scalar(lowering: KernelLowering, op, lane: int | None) -> None:
    """lane.fill (lane None) or a per-lane FPRAM op for the static lane `lane`."""
    if isinstance(op, FillOp):
        buffer = lane_part(lowering, op.dst, None)
        value = lowering.fp_entry(op.value)
        if buffer.typ.space is MemorySpace.VRAM:
            fill_vram(lowering, buffer, value)
        else:
            fill_fpram(lowering, buffer, value)
        return
    assert lane is not None, "a per-lane op is lowered inside lane.for_lanes"
    (entries,) = lane_type(op.dst).lane_shape
    fp_entries(
        lowering,
        FP_INSTRUCTIONS[op.TILE_OP],
        entries,
        lane_fp_operand(lowering, op.dst, lane, entries),
        [lane_fp_operand(lowering, getattr(op, role), lane, entries) for role in op.READ],
    )
