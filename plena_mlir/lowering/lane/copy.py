"""Lowering of `lane.copy`: the tile DMA and on-chip moves (dma.py, onchip_copy.py) on the
physical buffers.

HBM side: a region of the tensor (`HbmRegion`), per lane l the per-lane extent at the
offsets with the `lanes` dimension at h0 + l:

    col_pack  <-> HBM   one DMA of the R x (L*D) region: the L heads are adjacent in a BSHD
                        tensor (the `lanes` dimension just before the whole last one), so
                        row r of the physical buffer is one contiguous run of L*D elements
                        (the [B*S, H*D] view, head offset h0*D, dynamic or not); MRAM: one
                        H_PREFETCH_M per tile
    row_stack <-> HBM   one DMA per lane: slab l (R x C at base + l*R*C) <-> the lane's
                        region, h0 + l (scale, stride and address register set once)
    flat      <-> HBM   the region, as tile.copy
    broadcast (HBM -> a lane-laid VRAM buffer, no `lanes`): every lane the same region;
        row_stack: one DMA per slab of the same region;
        col_pack:  `_replicate` through FPRAM: the region (R x D, contiguous in HBM) as
                   ceil(R*D / VLEN) rows of VLEN into the top VRAM staging rows
                   (H_PREFETCH_V, STRIDE = VLEN), S_MAP_FP_V to the op's FPRAM staging
                   (`fpram_scratch`, placed by plena-allocate-memory), S_LD_FP each element
                   once and S_ST_FP it into the L lane slots of its physical row, then
                   S_MAP_V_FP each physical row into the buffer.  The values pass through
                   fp16 (FPRAM).

Between lane buffers (same lanes, a layout pair the verifier allows) the physical buffers
hold the elements in the same order (col_pack 1 x (L*D) and fp_lane L*D entries, row_stack
(L*R) x C and fp_lane L*(R*C) entries, or the same layout), so the copy is the tile move of
the whole physical buffers (`copy_buffers`).
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerAttr
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.lane import CopyOp, LaneLayout
from plena_mlir.dialects.plena.hbm_ops import H_PrefetchVOp
from plena_mlir.dialects.tile import BufferType, MemorySpace
from plena_mlir.dialects.tile.memory_ops import default_sizes
from plena_mlir.lowering.kernel import Buffer, KernelLowering
from plena_mlir.lowering.lane.operands import lane_part, lane_type
from plena_mlir.lowering.tile.dma import HbmRegion, hbm_mram, hbm_vram
from plena_mlir.lowering.tile.onchip_copy import (
    VramRegion,
    copy_buffers,
    staging_address,
    vram_fpram,
)
from plena_mlir.memory.staging import SCRATCH_ATTR, is_replicated


def _fail(reason: str) -> DiagnosticException:
    return DiagnosticException(f"convert-lane-to-plena: lane.copy: {reason}")


def lower_lane_copy(lowering: KernelLowering, op: CopyOp) -> None:
    side = op.tensor_side
    if side is None:
        src, dst = (lane_part(lowering, v, None) for v in (op.src, op.dst))
        copy_buffers(lowering, "lane.copy", src, dst)
        return
    buffer = op.dst if side == "src" else op.src
    typ = lane_type(buffer)
    tensor = getattr(op, side)
    shape = tensor.type.get_shape()
    lane_dim = op.lane_dimension
    offsets = op.offsets() or [0] * len(shape)
    per_lane = typ.lane_shape if typ.layout.has_lanes else typ.get_shape()
    if op.offsets():
        dims = [d for d in range(len(shape)) if d != lane_dim]
        sizes = default_sizes(per_lane, len(dims))
        assert sizes is not None  # the verifier checked that a lane fits the tensor
        extent = [1] * len(shape)
        for dim, size in zip(dims, sizes, strict=True):
            extent[dim] = size
    else:
        extent = list(shape)
    load = side == "src"
    if is_replicated(op):
        _replicate(lowering, op, HbmRegion(lowering, tensor, offsets, extent, *per_lane))
    elif typ.layout is LaneLayout.ROW_STACK:
        _slabs(lowering, op, buffer, tensor, offsets, extent, load)
    else:
        if lane_dim is not None:
            extent[lane_dim] = typ.lanes
        physical = lane_part(lowering, buffer, None)
        rows, cols = physical.typ.get_shape()
        hbm = HbmRegion(lowering, tensor, offsets, extent, rows, cols, "lane.copy")
        areg = hbm.set_state(lowering)
        if physical.typ.space is MemorySpace.MRAM:
            hbm_mram(lowering, physical, hbm, hbm.start, areg)
        else:
            hbm_vram(lowering, physical, 0, hbm, hbm.start, areg, load)


def _slabs(lowering: KernelLowering, op: CopyOp, buffer, tensor, offsets, extent, load) -> None:
    """One DMA per row_stack slab: lane l's region (h0 + l), or the same region for every
    lane in a broadcast copy."""
    typ = lane_type(buffer)
    rows, cols = typ.lane_shape
    hbm = HbmRegion(lowering, tensor, offsets, extent, rows, cols, "lane.copy")
    areg = hbm.set_state(lowering)
    lane_dim = op.lane_dimension
    step = 0 if lane_dim is None else hbm.strides[lane_dim]
    for lane in range(typ.lanes):
        start = lowering.emitter.add_const(hbm.start, lane * step)
        hbm_vram(lowering, lane_part(lowering, buffer, lane), 0, hbm, start, areg, load)


def _replicate(lowering: KernelLowering, op: CopyOp, hbm: HbmRegion) -> None:
    """A broadcast copy into a col_pack buffer through FPRAM (module docstring)."""
    target, emitter = lowering.target, lowering.emitter
    scratch = op.attributes.get(SCRATCH_ATTR)
    if not isinstance(scratch, IntegerAttr):
        raise _fail(
            "a broadcast copy into a col_pack buffer needs its FPRAM staging: run "
            "plena-allocate-memory first"
        )
    rows, width = hbm.rows, hbm.cols
    if rows > 1 and hbm.stride != width:
        raise _fail(
            f"the {rows} x {width} region of a broadcast copy must be contiguous in HBM (its "
            f"rows are {hbm.stride} elements apart): the DMA loads it as rows of VLEN"
        )
    vlen, lanes = target.vlen, target.lanes
    group = target.hbm_v_prefetch_rows
    loaded_rows = -(-rows * width // vlen)
    base = scratch.value.data
    areg = hbm.set_state(lowering, stride=vlen)
    staging = Buffer(
        BufferType((group, vlen), lane_type(op.dst).element_type, MemorySpace.VRAM),
        staging_address(lowering, group),
    )
    for first in range(0, loaded_rows, group):
        start = emitter.add_const(hbm.start, first * vlen)
        rows_at = emitter.const(staging.address)
        emitter.emit(H_PrefetchVOp(rows_at, start, areg, rstride=1, precision=0))
        count = min(group, loaded_rows - first)
        region = VramRegion(lowering, staging, 0, 0, (count, vlen), "staging")
        fpram = emitter.const(base + first * vlen)
        vram_fpram(lowering, "lane.copy", region, fpram, to_fpram=True)
    replicated = base + loaded_rows * vlen

    def row(addresses: list) -> None:
        loaded, slots = addresses
        for d in range(width):
            value = emitter.load_fp(loaded, d)
            for lane in range(lanes):
                emitter.store_fp(value, slots, lane * width + d)

    emitter.strided_loop(
        rows, [emitter.const(base), emitter.const(replicated)], [width, lanes * width], row
    )
    dst = lane_part(lowering, op.dst, None)
    region = VramRegion.whole(lowering, dst, "dst")
    vram_fpram(lowering, "lane.copy", region, emitter.const(replicated), to_fpram=False)
