"""`tile.copy` between HBM and VRAM/MRAM (copies between buffers: `onchip_copy.py`).

The HBM side is a 2-D view of the tensor (`plena_mlir.layout.hbm_view`): SCALE is the
tensor's scale offset, STRIDE the distance between the rows of the view, the address register
the tensor's HBM address, and the offset register the element offset of the region start
(sum of offset * row-major stride over the dimensions).  HBM -> VRAM and VRAM -> HBM move
groups of G rows (G = the target's H_PREFETCH_V / H_STORE_V row count) per VLEN-wide column
block, rstride 1:

    for g in 0 .. rows/G:  for b in 0 .. column blocks:
        H_PREFETCH_V  vram_base + b*R*VLEN + g*G*VLEN,  start + g*G*STRIDE + b*VLEN

A load of fewer than G rows cannot go straight into the buffer (the DMA always writes G VRAM
rows, which would overwrite what follows the buffer): it is staged in the top G rows of VRAM
and copied row by row (V_ADD_VF row, staged row, f0).  HBM -> MRAM loads whole MLEN x MLEN
tiles with one H_PREFETCH_M each.
"""

from __future__ import annotations

import math

from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.plena import FpRegisterType, GetRegisterOp
from plena_mlir.dialects.plena.control_ops import (
    C_SetAddrRegOp,
    C_SetScaleRegOp,
    C_SetStrideRegOp,
)
from plena_mlir.dialects.plena.hbm_ops import H_PrefetchMOp, H_PrefetchVOp, H_StoreVOp
from plena_mlir.dialects.plena.vector_ops import V_AddVfOp
from plena_mlir.dialects.tile import BufferType, CopyOp, MemorySpace, TensorType
from plena_mlir.layout import MramLayout, VramLayout, buffer_layout, hbm_strides, hbm_view
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.onchip_copy import lower_onchip_copy, staging_address


def _fail(reason: str) -> DiagnosticException:
    return DiagnosticException(f"convert-lane-to-plena: tile.copy: {reason}")


def lower_copy(lowering: KernelLowering, op: CopyOp) -> None:
    src, dst = op.src.type, op.dst.type
    if isinstance(src, TensorType) and isinstance(dst, BufferType):
        if dst.space is MemorySpace.VRAM:
            _hbm_vram(lowering, op, load=True)
        elif dst.space is MemorySpace.MRAM:
            _hbm_mram(lowering, op)
        else:
            raise _fail(f"HBM -> {dst.space} is not supported")
    elif isinstance(src, BufferType) and isinstance(dst, TensorType):
        _hbm_vram(lowering, op, load=False)
    else:
        lower_onchip_copy(lowering, op)


class _HbmRegion:
    """The HBM side of a copy as a 2-D view: rows x cols, STRIDE, SCALE, start offset."""

    def __init__(self, lowering: KernelLowering, op: CopyOp, side: str, rows: int, cols: int):
        tensor = getattr(op, side)
        typ = tensor.type
        assert isinstance(typ, TensorType)
        shape = typ.get_shape()
        extent = op.extent(side)
        assert extent is not None
        if extent[-1] != cols or math.prod(extent[:-1]) != rows:
            raise _fail(
                f"the HBM region {list(extent)} must be the buffer's {rows} rows x {cols} "
                "columns, the columns along the last dimension"
            )
        row_dims = [d for d in range(len(shape) - 1) if extent[d] > 1]
        if len(row_dims) > 1:
            raise _fail(f"the HBM region {list(extent)} steps rows along more than one dimension")
        row_dim = row_dims[0] if row_dims else None
        view = hbm_view(typ, lowering.target, row_dim)
        self.scale, self.stride = view.scale, view.stride
        self.address = lowering.tensor_address(tensor)
        emitter = lowering.emitter
        offsets = op.offsets(side) if op.is_sliced(side) else [0] * len(shape)
        start = emitter.const(0)
        for offset, stride in zip(offsets, hbm_strides(shape), strict=True):
            if offset == 0:
                continue
            start = emitter.add(start, emitter.mul(lowering.index(offset), emitter.const(stride)))
        self.start = start

    def set_state(self, lowering: KernelLowering) -> SSAValue:
        """C_SET_SCALE_REG, C_SET_STRIDE_REG and the address register of the tensor."""
        emitter = lowering.emitter
        emitter.emit(C_SetScaleRegOp(emitter.const(self.scale)))
        emitter.emit(C_SetStrideRegOp(emitter.const(self.stride)))
        return emitter.value(C_SetAddrRegOp(emitter.zero(), emitter.const(self.address)))


def _buffer_start(lowering: KernelLowering, op: CopyOp, side: str, layout: VramLayout) -> int:
    """Element offset of the buffer region's first element (static offsets only)."""
    if not op.is_sliced(side):
        return 0
    row, col = op.offsets(side)
    if not isinstance(row, int) or not isinstance(col, int) or col % layout.vlen:
        raise _fail(
            "a sliced VRAM side needs static offsets with the column a multiple of VLEN"
        )
    return layout.offset(row, col)


def _hbm_vram(lowering: KernelLowering, op: CopyOp, load: bool) -> None:
    target, emitter = lowering.target, lowering.emitter
    buffer_side, hbm_side = ("dst", "src") if load else ("src", "dst")
    buffer = getattr(op, buffer_side)
    layout = buffer_layout(buffer.type, target)
    assert isinstance(layout, VramLayout)
    extent = op.extent(buffer_side)
    assert extent is not None
    rows, cols = extent
    hbm = _HbmRegion(lowering, op, hbm_side, rows, cols)
    group = target.hbm_v_prefetch_rows if load else target.hbm_v_writeback_rows
    blocks = -(-cols // target.vlen)
    if not load and cols % target.vlen:
        raise _fail(
            f"a store writes whole rows of VLEN = {target.vlen} elements; {cols} columns "
            "would overwrite the HBM that follows"
        )
    partial = rows % group != 0
    if partial and (not load or rows > group):
        raise _fail(
            f"{'loads' if load else 'stores'} of {rows} rows are not supported: the DMA moves "
            f"{group} rows at a time (use a multiple of {group}, or fewer than {group} rows "
            "for a load)"
        )
    vram = lowering.buffer_address(buffer) + _buffer_start(lowering, op, buffer_side, layout)
    areg = hbm.set_state(lowering)
    block_step = layout.padded_rows * target.vlen
    staging = staging_address(lowering, group)
    dma = H_PrefetchVOp if load else H_StoreVOp

    def transfer(addresses: list[SSAValue]) -> None:
        dst_row, hbm_offset = addresses
        sram = staging_reg if staging_reg is not None else dst_row
        emitter.emit(dma(sram, hbm_offset, areg, rstride=1, precision=0))
        if partial:
            f0 = emitter.value(GetRegisterOp(FpRegisterType.from_name("f0")))
            emitter.strided_loop(
                rows,
                [dst_row, staging_reg],
                [target.vlen, target.vlen],
                lambda rs: emitter.emit(V_AddVfOp(rs[0], rs[1], f0, rmask=0)),
            )

    staging_reg = emitter.const(staging) if partial else None
    emitter.strided_loop(
        -(-rows // group),
        [emitter.const(vram), hbm.start],
        [group * target.vlen, group * hbm.stride],
        lambda addrs: emitter.strided_loop(
            blocks, addrs, [block_step, target.vlen], transfer
        ),
    )


def _hbm_mram(lowering: KernelLowering, op: CopyOp) -> None:
    target, emitter = lowering.target, lowering.emitter
    layout = buffer_layout(op.dst.type, target)
    assert isinstance(layout, MramLayout)
    if op.is_sliced("dst"):
        raise _fail("a sliced MRAM destination is not supported")
    if target.hbm_m_prefetch_rows != target.mlen:
        raise _fail(
            f"H_PREFETCH_M loads {target.hbm_m_prefetch_rows} rows; the lowering needs one "
            f"tile ({target.mlen} rows)"
        )
    hbm = _HbmRegion(lowering, op, "src", layout.rows, layout.cols)
    areg = hbm.set_state(lowering)
    m = target.mlen
    base = emitter.const(lowering.buffer_address(op.dst))
    emitter.strided_loop(
        layout.col_tiles,
        [base, hbm.start],
        [layout.row_tiles * m * m, m],
        lambda addrs: emitter.strided_loop(
            layout.row_tiles,
            addrs,
            [m * m, m * hbm.stride],
            lambda tile: emitter.emit(
                H_PrefetchMOp(tile[0], tile[1], areg, rstride=1, precision=0)
            ),
        ),
    )
