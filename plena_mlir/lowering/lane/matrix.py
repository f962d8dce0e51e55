"""Lowering of the lane matrix ops to plena ops (M = MLEN, H = HLEN, L = M/H lanes).

    lane.btmm %s = %q * %k     M_BTMM gp0, k, q        hm_accum[l] = q[l] · k[l]ᵀ, every lane
                               M_BMM_WO s, 0           lane l's M x M slab at s + l*M*M
    lane.btmv %s = %q * %k     M_BTMV gp0, k, q        hv_accum[l] = q[l] · k[l]ᵀ (one row)
                               M_BMV_WO s, 0           lane l's row at s + l*M
    lane.gemm ... lane l       one lane's gemm in the form its `via` names (gemm.py)

A head of a btmm contracts H columns, all of one tile (the verifier fixes q and k to H-wide
lanes), so each is one batched instruction and one write-out: the write-out clears the
accumulator, and every accumulator is zero between ops.  k is an MRAM buffer (tile-aligned,
as M_BTMM / M_BTMV require) and dst a VRAM buffer (row-aligned, as the write-outs require).

`lane.gemm` for the static lane l (the dispatcher unrolls lane.for_lanes) is the gemm of lane
l's operands, each the lane's part of its physical buffer (`physical_index` of its element
[l, 0, 0]; flat: the whole buffer):

    a   row_stack: lane l's slab (R x M, K = M) at a + l*R*M;  flat: R x K, K tiles of M
    b   col_pack: the tiles, the lane's H columns from l*H;     flat: K x M (or M x K) tiles
    c   col_pack: H columns from l*H of R rows;  row_stack: lane l's slab

M_MM / M_TMM / M_MV read B's columns from the lane's and write them (M_MM_WO, M_MV_WO write
Bl columns of Bl rows, read-modify-write) into the lane's columns of C: no other lane's
columns are written.  The batched forms compute all M columns; the lane sum merges the
lane's H columns of a col_pack C under V_MASK (the other heads keep C's values), or writes a
row_stack C's slab rows.  An accumulating M_MM writes the product to the scratch (C's type)
and adds it to the lane's columns under V_MASK.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.lane import BtmmOp, BtmvOp, GemmOp, LaneBufferType, LaneLayout
from plena_mlir.dialects.lane.layouts import physical_index
from plena_mlir.dialects.plena.matrix_ops import M_BmmWoOp, M_BmvWoOp, M_BtmmOp, M_BtmvOp
from plena_mlir.gemm.choice import lane_chosen_form, lane_gemm_shape
from plena_mlir.ir.addresses import MramLayout, VramLayout, buffer_layout
from plena_mlir.ir.naming import describe_lane_gemm
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.tile.gemm import GemmPlan, b_tile_steps, emit_gemm
from plena_mlir.target import Target


def lower_lane_matrix(lowering: KernelLowering, op: Operation, lane: int | None) -> None:
    """Lower `op`; `lane` is the static lane of a per-lane lane.gemm, None for btmm/btmv."""
    emitter = lowering.emitter
    if isinstance(op, BtmmOp | BtmvOp):
        q, k, dst = (emitter.const(lowering.buffer_address(v)) for v in (op.q, op.k, op.dst))
        if isinstance(op, BtmmOp):
            emitter.emit(M_BtmmOp(k, q))
            emitter.emit(M_BmmWoOp(dst, imm=0))
        else:
            emitter.emit(M_BtmvOp(emitter.zero(), k, q))
            emitter.emit(M_BmvWoOp(dst, imm=0))
    elif isinstance(op, GemmOp):
        if lane is None:
            raise DiagnosticException(
                f"convert-lane-to-plena: {describe_lane_gemm(op)}: a per-lane gemm is lowered "
                "for one lane of its lane.for_lanes"
            )
        emit_gemm(emitter, lowering.target, _lane_plan(lowering, op, lane))
    else:
        raise DiagnosticException(f"convert-lane-to-plena: {op.name} is not a lane matrix op")


def _lane_plan(lowering: KernelLowering, op: GemmOp, lane: int) -> GemmPlan:
    """Lane `lane` of `op` as a GemmPlan (module docstring)."""
    target = lowering.target
    description = describe_lane_gemm(op)
    form = lane_chosen_form(op)
    if form is None:
        raise DiagnosticException(
            f"convert-lane-to-plena: {description}: no instruction chosen: run "
            "plena-select-gemm first"
        )
    shape, _ = lane_gemm_shape(op, target)
    a, c = (_vram(v, target) for v in (op.a, op.c))
    b = buffer_layout(_typ(op.b).physical, target)
    assert isinstance(b, MramLayout)
    b_k_step, b_n_step = b_tile_steps(b, shape.transposed_b)
    c_offset = _lane_offset(op.c, lane, c)
    scratch_base = None
    if op.scratch is not None:
        scratch_base = lowering.buffer_address(op.scratch)
        if not form.lane_sum:  # the product, in C's layout
            scratch_base += c_offset
    packed = _typ(op.c).layout is LaneLayout.COL_PACK
    return GemmPlan(
        description=description,
        form=form,
        shape=shape,
        a_base=lowering.buffer_address(op.a) + _lane_offset(op.a, lane, a),
        a_block_step=a.padded_rows * target.vlen,
        b_base=lowering.buffer_address(op.b),
        b_column=_first_element(op.b, lane)[1],
        b_k_step=b_k_step,
        b_n_step=b_n_step,
        c_base=lowering.buffer_address(op.c) + c_offset,
        c_block_step=c.padded_rows * target.vlen,
        scratch_base=scratch_base,
        lane=lane if packed else None,
    )


def _typ(value: SSAValue) -> LaneBufferType:
    typ = value.type
    assert isinstance(typ, LaneBufferType)
    return typ


def _vram(value: SSAValue, target: Target) -> VramLayout:
    layout = buffer_layout(_typ(value).physical, target)
    assert isinstance(layout, VramLayout)
    return layout


def _first_element(value: SSAValue, lane: int) -> tuple[int, ...]:
    """The physical index of the lane's element [lane, 0, 0] ((0, 0) of a flat buffer)."""
    typ = _typ(value)
    shape = typ.get_shape()
    first = (lane, 0, 0) if typ.layout.has_lanes else (0,) * len(shape)
    return physical_index(typ.layout, shape, first)


def _lane_offset(value: SSAValue, lane: int, layout: VramLayout) -> int:
    """The element offset of the lane's part of a VRAM lane buffer from its base."""
    return layout.offset(*_first_element(value, lane))
