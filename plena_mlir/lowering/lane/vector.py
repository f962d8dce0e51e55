"""Lowering of the lane vector ops: whole-tile ops (multi-lane) and row ops (per-lane).

Both run the tile walkers of vector.py on the operands' physical buffers or lane parts
(lane_operands.py), with the instruction of the op's `TILE_OP`:

    whole-tile (lane.add ... lane.mul_scalar)   the tile lowering on the physical buffers,
                                                unmasked: one instruction per physical row
                                                covers every lane.  On row_stack, a one-row
                                                rhs or a per-row scalar differs per slab, so
                                                the op runs slab by slab (L passes).
    row ops, lane l (lane.row_*)                row_stack: the tile lowering on lane l's slab;
                                                col_pack: on the whole buffer under
                                                V_MASK = 1 << l (rmask = 1 on V_*_VF and
                                                V_RED_*); the scalar / accumulator is lane
                                                l's fp_lane entries (or a flat buffer, or an
                                                f32 value)
    row ops for every lane (lane None)          row_stack with fp_lane scalars
                                                (`operands.every_lane_at_once`): the tile
                                                lowering on the L*R rows of the physical
                                                buffer and the L*R entries of the scalars
"""

from __future__ import annotations

from plena_mlir.dialects.lane import (
    ROW_OPS,
    VECTOR_OPS,
    LaneBufferType,
    LaneLayout,
    RowMaxOp,
    RowSumOp,
)
from plena_mlir.dialects.lane.row_ops import RowReduceOp, RowScalarOp
from plena_mlir.dialects.lane.vector_ops import BinaryOp, ScalarOp, UnaryOp
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.lane.operands import (
    every_lane_at_once,
    lane_fp_operand,
    lane_mask,
    lane_part,
    lane_type,
)
from plena_mlir.lowering.tile.vector import (
    BINARY,
    UNARY,
    broadcast_scalar,
    elementwise,
    reduce_rows,
    scalar_instruction,
)

LANE_VECTOR_OPS = (*VECTOR_OPS, *ROW_OPS)


def lower_lane_vector(lowering: KernelLowering, op, lane: int | None) -> None:
    """A whole-tile op (lane None) or a row op for the static lane `lane` (or for every lane
    at once, lane None)."""
    if isinstance(op, RowScalarOp | RowReduceOp):
        assert lane is not None or every_lane_at_once(op), "a per-lane op needs its lane"
        _row_op(lowering, op, lane)
    else:
        lanes = range(lane_type(op.dst).lanes) if _per_slab(op) else [None]
        for slab in lanes:
            _whole_tile(lowering, op, slab)


def _per_slab(op) -> bool:
    """A row_stack whole-tile op whose rhs row or per-row scalar restarts in every slab."""
    dst = lane_type(op.dst)
    rows = dst.lane_shape[0]
    if dst.layout is not LaneLayout.ROW_STACK or rows == 1:
        return False
    if isinstance(op, BinaryOp):
        return lane_type(op.rhs).lane_shape[0] == 1
    scalar = op.scalar.type if isinstance(op, ScalarOp) else None
    return isinstance(scalar, LaneBufferType) and scalar.lane_shape[0] == rows


def _whole_tile(lowering: KernelLowering, op, slab: int | None) -> None:
    """The tile lowering of a whole-tile op on the physical buffers (slab None) or on slab
    `slab` of each (unmasked either way)."""
    dst = lane_part(lowering, op.dst, slab)
    if isinstance(op, BinaryOp):
        sources = [lane_part(lowering, op.lhs, slab), lane_part(lowering, op.rhs, slab)]
        elementwise(lowering, BINARY[op.TILE_OP], dst, sources)
    elif isinstance(op, UnaryOp):
        elementwise(lowering, UNARY[op.TILE_OP], dst, [lane_part(lowering, op.src, slab)])
    else:
        assert isinstance(op, ScalarOp)
        rows = lane_type(op.dst).lane_shape[0]
        scalar = lane_fp_operand(lowering, op.scalar, slab, rows)
        src = lane_part(lowering, op.src, slab)
        broadcast_scalar(lowering, scalar_instruction(op.TILE_OP), dst, src, scalar)


def _row_op(lowering: KernelLowering, op, lane: int | None) -> None:
    src_type = lane_type(op.src)
    rows = src_type.lane_shape[0] * (src_type.lanes if lane is None else 1)
    src = lane_part(lowering, op.src, lane)
    if isinstance(op, RowMaxOp | RowSumOp):
        acc = lane_fp_operand(lowering, op.acc, lane, rows)
        accumulate = op.accumulate is not None
        reduce_rows(lowering, op.TILE_OP, src, acc, accumulate, lane_mask(op.src, lane))
        return
    scalar = lane_fp_operand(lowering, op.scalar, lane, rows)
    dst = lane_part(lowering, op.dst, lane)
    make = scalar_instruction(op.TILE_OP)
    broadcast_scalar(lowering, make, dst, src, scalar, lane_mask(op.dst, lane))
