"""`tile.copy` between HBM and VRAM/MRAM (copies between buffers: `onchip_copy.py`).

The HBM side is a 2-D view of the tensor (`plena_mlir.ir.addresses.hbm_view`): SCALE is the
tensor's scale offset, STRIDE the distance between the rows of the view, the address register
the tensor's HBM address, and the offset register the element offset of the region start
(sum of offset * row-major stride over the dimensions).  HBM -> VRAM and VRAM -> HBM move
groups of G rows (G = the target's H_PREFETCH_V / H_STORE_V row count) per VLEN-wide column
block, rstride 1:

    for g in 0 .. rows/G:  for b in 0 .. column blocks:
        H_PREFETCH_V  vram_base + b*R*VLEN + g*G*VLEN,  start + g*G*STRIDE + b*VLEN

The rows % G rows a region has beyond its whole groups (when it has at least one) move as
one more group, the region's last G rows: it overlaps the group before, whose rows it moves
again with the same values (a row's MX encoding is its own), so nothing outside the region
is written and the tail costs one DMA, not one per row.  A region of fewer than G rows has no
such group: a load of it cannot go straight into the buffer (the DMA always writes G VRAM
rows, which would overwrite what follows the buffer), so it is staged in the top G rows of
VRAM and copied row by row (V_ADD_VF row, staged row, f0); a store writes each row with its
own H_STORE_V at STRIDE = 0, the row read last, so only that HBM row is written and it ends
up holding the row (`_store_single_rows`).  Kernels choose tile heights that are whole groups
(the target's row amounts), so neither happens in them.  HBM -> MRAM loads whole MLEN x MLEN
tiles with one H_PREFETCH_M each.

`HbmRegion`, `hbm_vram` and `hbm_mram` work on `Buffer`s and are shared with `lane.copy`
(lowering/lane/copy.py): a col_pack buffer is one region of L adjacent heads, a row_stack slab one
region per lane.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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
from plena_mlir.ir.addresses import (
    HBM_ALIGNMENT,
    MramLayout,
    VramLayout,
    buffer_layout,
    hbm_strides,
    hbm_view,
)
from plena_mlir.lowering.kernel import Buffer, KernelLowering, buffer_type
from plena_mlir.lowering.tile.onchip_copy import lower_onchip_copy, staging_address
from plena_mlir.target import Target


def _fail(reason: str, name: str = "tile.copy") -> DiagnosticException:
    return DiagnosticException(f"convert-lane-to-plena: {name}: {reason}")


def lower_copy(lowering: KernelLowering, op: CopyOp) -> None:
    src, dst = op.src.type, op.dst.type
    if isinstance(src, TensorType) and isinstance(dst, BufferType):
        hbm = _side_region(lowering, op, "src", "dst")
        buffer = lowering.buffer(op.dst)
        if dst.space is MemorySpace.VRAM:
            start = _buffer_start(lowering, op, "dst")
            hbm_vram(lowering, buffer, start, hbm, hbm.start, hbm.set_state(lowering), load=True)
        elif dst.space is MemorySpace.MRAM:
            if op.is_sliced("dst"):
                raise _fail("a sliced MRAM destination is not supported")
            hbm_mram(lowering, buffer, hbm, hbm.start, hbm.set_state(lowering))
        else:
            raise _fail(f"HBM -> {dst.space} is not supported")
    elif isinstance(src, BufferType) and isinstance(dst, TensorType):
        hbm = _side_region(lowering, op, "dst", "src")
        start = _buffer_start(lowering, op, "src")
        hbm_vram(
            lowering,
            lowering.buffer(op.src),
            start,
            hbm,
            hbm.start,
            hbm.set_state(lowering),
            load=False,
        )
    else:
        lower_onchip_copy(lowering, op)


def _side_region(lowering: KernelLowering, op: CopyOp, side: str, other: str) -> HbmRegion:
    """The HBM `side` of a tile.copy whose buffer is `other`."""
    tensor = getattr(op, side)
    offsets = op.offsets(side) if op.is_sliced(side) else [0] * len(tensor.type.get_shape())
    extent = op.extent(side)
    buffer_extent = op.extent(other)
    assert extent is not None and buffer_extent is not None
    rows, cols = buffer_extent
    return HbmRegion(lowering, tensor, offsets, extent, rows, cols)


class HbmRegion:
    """The HBM side of a copy as a 2-D view: rows x cols, STRIDE, SCALE, start offset.

    The region of `tensor` starting at `offsets` with `extent` must be rows x cols: the
    columns the innermost dimensions whose extents multiply to cols (all but the outermost
    of them whole, so the columns of a row are contiguous, e.g. L heads of D = HLEN next to
    each other in a BSHD tensor), the rows stepping along at most one other dimension."""

    def __init__(
        self,
        lowering: KernelLowering,
        tensor: SSAValue,
        offsets: Sequence[SSAValue | int],
        extent: Sequence[int],
        rows: int,
        cols: int,
        name: str = "tile.copy",
    ):
        typ = tensor.type
        assert isinstance(typ, TensorType)
        shape = typ.get_shape()
        self.name, self.rows, self.cols = name, rows, cols
        first_column_dim = _column_dims(shape, extent, cols)
        if first_column_dim is None or math.prod(extent[:first_column_dim]) != rows:
            raise _fail(
                f"the HBM region {list(extent)} of {list(shape)} must be the buffer's {rows} "
                f"rows x {cols} columns, the columns contiguous along the last dimensions",
                name,
            )
        row_dims = [d for d in range(first_column_dim) if extent[d] > 1]
        if len(row_dims) > 1:
            raise _fail(
                f"the HBM region {list(extent)} steps rows along more than one dimension", name
            )
        row_dim = row_dims[0] if row_dims else None
        view = hbm_view(typ, lowering.target, row_dim)
        self.scale, self.stride = view.scale, view.stride
        if rows == 1 and self.stride % HBM_ALIGNMENT:
            # the DMA still reads a group of rows: keep the unused ones on aligned addresses
            self.stride = HBM_ALIGNMENT
        self.address = lowering.tensor_address(tensor)
        self.strides = hbm_strides(shape)
        emitter = lowering.emitter
        start = emitter.const(0)
        for offset, stride in zip(offsets, self.strides, strict=True):
            if offset == 0:
                continue
            start = emitter.add(start, emitter.mul(lowering.index(offset), emitter.const(stride)))
        self.start = start

    def set_state(self, lowering: KernelLowering, stride: int | None = None) -> SSAValue:
        """C_SET_SCALE_REG, C_SET_STRIDE_REG (the view's, or `stride`) and the address
        register of the tensor."""
        emitter = lowering.emitter
        emitter.emit(C_SetScaleRegOp(emitter.const(self.scale)))
        emitter.emit(C_SetStrideRegOp(emitter.const(self.stride if stride is None else stride)))
        return emitter.value(C_SetAddrRegOp(emitter.zero(), emitter.const(self.address)))


def _column_dims(shape: Sequence[int], extent: Sequence[int], cols: int) -> int | None:
    """The first of the innermost dimensions holding the cols columns of a row, or None when
    they are not contiguous in HBM."""
    product = 1
    for dim in reversed(range(len(shape))):
        if product > 1 and extent[dim + 1] != shape[dim + 1]:
            return None  # an inner dimension is not whole: the columns have gaps
        product *= extent[dim]
        if product == cols:
            return dim
        if product > cols:
            return None
    return None


def _buffer_start(lowering: KernelLowering, op: CopyOp, side: str) -> int:
    """Element offset of the buffer region's first element (static offsets only)."""
    if not op.is_sliced(side):
        return 0
    layout = buffer_layout(buffer_type(getattr(op, side)), lowering.target)
    assert isinstance(layout, VramLayout)
    row, col = op.offsets(side)
    if not isinstance(row, int) or not isinstance(col, int) or col % layout.vlen:
        raise _fail("a sliced VRAM side needs static offsets with the column a multiple of VLEN")
    return layout.offset(row, col)


def hbm_vram(
    lowering: KernelLowering,
    buffer: Buffer,
    offset: int,
    hbm: HbmRegion,
    hbm_start: SSAValue,
    areg: SSAValue,
    load: bool,
) -> None:
    """Load (H_PREFETCH_V) or store (H_STORE_V) hbm's rows x cols from `hbm_start` to or from
    the VRAM buffer from element `offset` (module docstring); `areg` from `hbm.set_state`."""
    target, emitter = lowering.target, lowering.emitter
    layout = buffer_layout(buffer.typ, target)
    assert isinstance(layout, VramLayout)
    group = _row_group(hbm, target, load)
    blocks = -(-hbm.cols // target.vlen)
    vram = buffer.address + offset
    block_step = layout.padded_rows * target.vlen

    def groups(count: int, first_row: int, transfer: Callable[[list[SSAValue]], None]) -> None:
        """`count` groups from row `first_row` of the region, each over the column blocks."""
        emitter.strided_loop(
            count,
            [emitter.const(vram + first_row * target.vlen),
             emitter.add_const(hbm_start, first_row * hbm.stride)],
            [group * target.vlen, group * hbm.stride],
            lambda addrs: emitter.strided_loop(blocks, addrs, [block_step, target.vlen], transfer),
        )

    whole, leftover = divmod(hbm.rows, group)
    if whole:
        transfer = _group_transfer(lowering, load, areg)
        groups(whole, 0, transfer)
        if leftover:
            groups(1, hbm.rows - group, transfer)
    elif load:
        staging = emitter.const(staging_address(lowering, group))
        groups(1, 0, _staged_load(lowering, areg, staging, hbm.rows))
    else:
        rows = [vram + r * target.vlen for r in range(hbm.rows)]
        _store_single_rows(lowering, hbm, rows, hbm_start, areg, blocks, block_step)


def _row_group(hbm: HbmRegion, target: Target, load: bool) -> int:
    """The rows one DMA moves (H_PREFETCH_V's or H_STORE_V's); a store must cover whole VLEN
    rows."""
    if not load and hbm.cols % target.vlen:
        raise _fail(
            f"a store writes whole rows of VLEN = {target.vlen} elements; {hbm.cols} columns "
            "would overwrite the HBM that follows",
            hbm.name,
        )
    return target.hbm_v_prefetch_rows if load else target.hbm_v_writeback_rows


def _group_transfer(
    lowering: KernelLowering, load: bool, areg: SSAValue
) -> Callable[[list[SSAValue]], None]:
    """The DMA of one row group and column block, given (VRAM row, HBM offset)."""
    dma = H_PrefetchVOp if load else H_StoreVOp

    def transfer(addresses: list[SSAValue]) -> None:
        sram, hbm_offset = addresses
        lowering.emitter.emit(dma(sram, hbm_offset, areg, rstride=1, precision=0))

    return transfer


def _staged_load(
    lowering: KernelLowering, areg: SSAValue, staging: SSAValue, rows: int
) -> Callable[[list[SSAValue]], None]:
    """The load of one column block of a region of `rows` < G rows, given (VRAM row, HBM
    offset): the DMA into the staging rows, whose first `rows` rows are then copied to the
    buffer (V_ADD_VF with f0 = 0)."""
    target, emitter = lowering.target, lowering.emitter

    def transfer(addresses: list[SSAValue]) -> None:
        dst_row, hbm_offset = addresses
        emitter.emit(H_PrefetchVOp(staging, hbm_offset, areg, rstride=1, precision=0))
        f0 = _f0(lowering)
        emitter.strided_loop(
            rows,
            [dst_row, staging],
            [target.vlen, target.vlen],
            lambda rs: emitter.emit(V_AddVfOp(rs[0], rs[1], f0, rmask=0)),
        )

    return transfer


def _store_single_rows(
    lowering: KernelLowering,
    hbm: HbmRegion,
    row_addresses: list[int],
    hbm_start: SSAValue,
    areg: SSAValue,
    blocks: int,
    block_step: int,
) -> None:
    """Store VRAM rows `row_addresses` (each `blocks` column blocks `block_step` apart) to
    consecutive rows of hbm from `hbm_start`, one H_STORE_V per row and block, since
    H_STORE_V always writes G = hbm_v_writeback_rows rows:

        STRIDE = 0                               the G rows all go to the row's HBM address,
        H_STORE_V row - (G-1)*VLEN, hbm row      one after another: the row itself, read
                                                 last, is what the HBM row holds in the end
        STRIDE = the view's stride               (restored for the caller's next DMA)

    so nothing outside the region is written, and inside it only the row's own HBM row,
    finally with the right data (MXFP8: its scale bytes too, rewritten in the same order).
    The G-1 VRAM rows before `row` are only read; a row among the first G-1 rows of VRAM,
    which have no G-1 rows before them, is first copied to the last staging row (the last
    VRAM row: V_ADD_VF staging, row, f0)."""
    target, emitter = lowering.target, lowering.emitter
    group, vlen = target.hbm_v_writeback_rows, target.vlen
    lead = (group - 1) * vlen  # the rows the DMA reads before the one it leaves in HBM
    last_staging_row = staging_address(lowering, group) + lead
    emitter.emit(C_SetStrideRegOp(emitter.const(0)))
    for r, row_address in enumerate(row_addresses):
        for block in range(blocks):
            source = row_address + block * block_step
            if source < lead:
                emitter.emit(
                    V_AddVfOp(
                        emitter.const(last_staging_row),
                        emitter.const(source),
                        _f0(lowering),
                        rmask=0,
                    )
                )
                source = last_staging_row
            hbm_offset = emitter.add_const(hbm_start, r * hbm.stride + block * vlen)
            emitter.emit(
                H_StoreVOp(emitter.const(source - lead), hbm_offset, areg, rstride=1, precision=0)
            )
    emitter.emit(C_SetStrideRegOp(emitter.const(hbm.stride)))


def _f0(lowering: KernelLowering) -> SSAValue:
    """f0, the FP register that always reads 0 (the addend of a V_ADD_VF row copy)."""
    return lowering.emitter.value(GetRegisterOp(FpRegisterType.from_name("f0")))


def hbm_mram(
    lowering: KernelLowering, buffer: Buffer, hbm: HbmRegion, hbm_start: SSAValue, areg: SSAValue
) -> None:
    """Load hbm's region into the MRAM buffer, one H_PREFETCH_M per MLEN x MLEN tile."""
    target, emitter = lowering.target, lowering.emitter
    layout = buffer_layout(buffer.typ, target)
    assert isinstance(layout, MramLayout)
    if target.hbm_m_prefetch_rows != target.mlen:
        raise _fail(
            f"H_PREFETCH_M loads {target.hbm_m_prefetch_rows} rows; the lowering needs one "
            f"tile ({target.mlen} rows)",
            hbm.name,
        )
    m = target.mlen
    base = emitter.const(buffer.address)
    emitter.strided_loop(
        layout.col_tiles,
        [base, hbm_start],
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
