"""Lane buffer operands as the `Buffer`s and FPRAM operands the shared walkers take.

A lane op is lowered for all lanes at once (lane None) or, inside an unrolled
`lane.for_lanes`, for the static lane l.  The physical buffer (`LaneBufferType.physical`,
placed at the lane.alloc's address) is the whole operand; one lane of it is (layouts.py):

    col_pack   the whole physical buffer, selected by V_MASK = 1 << l (`lane_mask`)
    row_stack  lane l's R x C slab, at base + l*R*C
    fp_lane    lane l's N entries, at base + l*N
    flat       the whole buffer, the same for every lane

Lane l's part of a row_stack or fp_lane buffer is one contiguous run and the L runs follow
each other, so a per-lane op on such buffers alone is also the same instructions on the L
runs at once (`every_lane_at_once`): the physical buffers, L*R rows or L*N entries.
"""

from __future__ import annotations

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation, SSAValue

from plena_mlir.dialects.lane import (
    ROW_OPS,
    SCALAR_OPS,
    LaneBufferType,
    LaneLayout,
    physical_index,
)
from plena_mlir.dialects.tile import BufferType
from plena_mlir.ir.addresses import buffer_layout
from plena_mlir.lowering.kernel import Buffer, KernelLowering
from plena_mlir.lowering.tile.vector import FpOperand


def lane_type(value: SSAValue) -> LaneBufferType:
    typ = value.type
    assert isinstance(typ, LaneBufferType)
    return typ


def lane_part(lowering: KernelLowering, value: SSAValue, lane: int | None) -> Buffer:
    """The physical buffer of `value` (lane None, col_pack, flat) or lane `lane`'s part of
    it (row_stack: its slab, fp_lane: its entries) as a Buffer (module docstring)."""
    typ = lane_type(value)
    physical = Buffer(typ.physical, lowering.buffer_address(value))
    if lane is None or typ.layout in (LaneLayout.COL_PACK, LaneLayout.FLAT):
        return physical
    shape = typ.get_shape()
    first = physical_index(typ.layout, shape, (lane,) + (0,) * (len(shape) - 1))
    offset = buffer_layout(physical.typ, lowering.target).offset(*first)
    part = BufferType(typ.lane_shape, typ.element_type, typ.space)
    return Buffer(part, physical.address + offset)


def lane_mask(value: SSAValue, lane: int | None) -> int | None:
    """V_MASK selecting lane `lane` of a col_pack buffer; None (unmasked) otherwise."""
    if lane is None or lane_type(value).layout is not LaneLayout.COL_PACK:
        return None
    return 1 << lane


def lane_fp_operand(
    lowering: KernelLowering, value: SSAValue, lane: int | None, count: int
) -> FpOperand:
    """An f32 source of a lane op that reads `count` values (rows or entries) of a lane, or
    of every lane (lane None): an f32 value's entry, or a FPRAM buffer (lane `lane` of an
    fp_lane one, all its L*N entries for lane None, a flat one shared) stepping by 1 when it
    holds `count` > 1 values, else its single entry."""
    emitter = lowering.emitter
    if isinstance(value.type, Float32Type):
        return emitter.const(lowering.fp_entry(value)), 0
    typ = lane_type(value)
    (entries,) = typ.lane_shape
    if lane is None and typ.layout is LaneLayout.FP_LANE:
        entries *= typ.lanes
    address = lane_part(lowering, value, lane).address
    return emitter.const(address), 1 if entries == count and count > 1 else 0


def every_lane_at_once(op: Operation) -> bool:
    """Whether the per-lane op `op` is lowered once for every lane (module docstring): an
    FPRAM op or a row op whose buffers are all row_stack or fp_lane, each lane's FPRAM run as
    long as its rows (or the destination's entries), and whose other scalars are f32 values.
    Not a col_pack operand (its lane needs V_MASK = 1 << l) nor a flat FPRAM one (the same
    entries for every lane, not one run of L)."""
    if not isinstance(op, (*SCALAR_OPS, *ROW_OPS)):
        return False
    values = [getattr(op, role) for role in op.OPERANDS]
    buffers = [lane_type(v) for v in values if not isinstance(v.type, Float32Type)]
    if any(b.layout not in (LaneLayout.ROW_STACK, LaneLayout.FP_LANE) for b in buffers):
        return False
    runs = {b.lane_shape[0] for b in buffers}
    return len(runs) == 1
