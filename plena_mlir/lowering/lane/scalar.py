"""Lowering of the per-lane FPRAM scalar ops and of `lane.fill`.

lane.fp_<op> dst, sources lane l   the tile lowering (scalar.fp_entries) on lane l's N
                                   entries of dst (at base + l*N) and of each fp_lane
                                   source; a flat source is shared (N entries, or one
                                   loaded once), an f32 value is its FPRAM entry
lane.fp_<op> for every lane        when dst and every FPRAM source are fp_lane
  (`every_lane_at_once`)           (or f32 values): the L lanes' entries are one run of
                                   L*N entries of each physical buffer, so one loop over
                                   them computes every lane (lane None)
lane.fill dst, v                   the tile fill of the physical buffer (every lane)
"""

from __future__ import annotations

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation

from plena_mlir.dialects.lane import SCALAR_OPS, FillOp, LaneBufferType, LaneLayout
from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.lane.operands import lane_fp_operand, lane_part, lane_type
from plena_mlir.lowering.tile.onchip_copy import fill_vram
from plena_mlir.lowering.tile.scalar import FP_INSTRUCTIONS, fill_fpram, fp_entries

LANE_SCALAR_OPS = (*SCALAR_OPS, FillOp)


def every_lane_at_once(op: Operation) -> bool:
    """Whether the per-lane FPRAM op `op` computes every lane in one loop (module
    docstring): its destination and every FPRAM source are fp_lane with the same entries
    per lane, its other sources f32 values.  (A flat source is entry i for every lane, not
    a run of L*N entries.)"""
    if not isinstance(op, SCALAR_OPS):
        return False
    dst = lane_type(op.dst)
    for value in (op.dst, *(getattr(op, role) for role in op.READ)):
        typ = value.type
        if isinstance(typ, Float32Type):
            continue
        if not isinstance(typ, LaneBufferType) or typ.layout is not LaneLayout.FP_LANE:
            return False
        if typ.lane_shape != dst.lane_shape:
            return False
    return True


def lower_lane_scalar(lowering: KernelLowering, op, lane: int | None) -> None:
    """lane.fill (lane None), a per-lane FPRAM op for the static lane `lane`, or one that
    runs on every lane at once (lane None, `every_lane_at_once`)."""
    if isinstance(op, FillOp):
        buffer = lane_part(lowering, op.dst, None)
        value = lowering.fp_entry(op.value)
        if buffer.typ.space is MemorySpace.VRAM:
            fill_vram(lowering, buffer, value)
        else:
            fill_fpram(lowering, buffer, value)
        return
    if lane is None:
        assert every_lane_at_once(op), "a per-lane op is lowered inside lane.for_lanes"
        _every_lane(lowering, op)
        return
    (entries,) = lane_type(op.dst).lane_shape
    fp_entries(
        lowering,
        FP_INSTRUCTIONS[op.TILE_OP],
        entries,
        lane_fp_operand(lowering, op.dst, lane, entries),
        [lane_fp_operand(lowering, getattr(op, role), lane, entries) for role in op.READ],
    )


def _every_lane(lowering: KernelLowering, op) -> None:
    """The FPRAM op on the L*N entries of the physical buffers (every operand fp_lane or an
    f32 value: `every_lane_at_once`)."""
    dst = lane_type(op.dst)
    entries = dst.lanes * dst.lane_shape[0]

    def operand(value) -> tuple:
        if isinstance(value.type, Float32Type):
            return lowering.emitter.const(lowering.fp_entry(value)), 0
        return lowering.emitter.const(lane_part(lowering, value, None).address), 1

    fp_entries(
        lowering,
        FP_INSTRUCTIONS[op.TILE_OP],
        entries,
        operand(op.dst),
        [operand(getattr(op, role)) for role in op.READ],
    )
