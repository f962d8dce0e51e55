"""`tile.copy` between on-chip buffers, and `tile.fill` of a VRAM buffer.

A VRAM side is a rows x cols region of a buffer (column-block major, `plena_mlir.ir.addresses`)
whose column offset is a static multiple of VLEN and whose row offset is static or an index
value; an FPRAM side is n consecutive entries from a static or dynamic offset, in the
row-major order of the other side.  Per VLEN-wide row of the VRAM region (column blocks
outer, rows inner, small bodies unrolled):

    vram -> vram     V_ADD_VF dst_row, src_row, f0              (x + 0: bf16 in, bf16 out)
    vram -> fpram    S_MAP_FP_V fpram + r*cols + b*VLEN, row     (V entries, fp16)
    fpram -> vram    S_MAP_V_FP row, fpram + r*cols + b*VLEN     (V lanes, bf16)
    fpram -> fpram   S_LD_FP, S_ST_FP per entry
    tile.fill vram   zero BLEN staging rows with M_MM_WO (the matrix accumulator is zero
                     between tile ops: reset clears it and every gemm drains it), then
                     V_ADD_VF row, zero_row, value for every row (whatever the buffer held
                     before, inf or NaN included)

A VRAM row instruction writes all VLEN lanes: a region narrower than its column blocks must
end at its buffer's last column (the extra lanes are padding), and an FPRAM destination needs
whole rows (cols a multiple of VLEN); anything else is a DiagnosticException naming the op.
The moves work on `Buffer`s and regions of them (`copy_buffers`, `VramRegion`), shared with
`lane.copy` (lowering/lane/copy.py).
"""

from __future__ import annotations

from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.plena import FpRegisterType, GetRegisterOp
from plena_mlir.dialects.plena.matrix_ops import M_MmWoOp
from plena_mlir.dialects.plena.scalar_fp_ops import S_MapFpVOp, S_MapVFpOp
from plena_mlir.dialects.plena.vector_ops import V_AddVfOp
from plena_mlir.dialects.tile import CopyOp, MemorySpace
from plena_mlir.ir.addresses import VramLayout, buffer_layout
from plena_mlir.lowering.kernel import Buffer, KernelLowering, buffer_type
from plena_mlir.memory.staging import vram_staging_rows

VRAM, FPRAM = MemorySpace.VRAM, MemorySpace.FPRAM


def _fail(op_name: str, reason: str) -> DiagnosticException:
    return DiagnosticException(f"convert-lane-to-plena: {op_name}: {reason}")


def staging_address(lowering: KernelLowering, rows: int) -> int:
    """The element address of `rows` of the staging rows at the top of VRAM."""
    target = lowering.target
    assert rows <= vram_staging_rows(target), "staging rows beyond the reserved ones"
    return (target.vram_rows - rows) * target.vlen


class VramRegion:
    """The VRAM side of a copy: rows x cols from (row, col) of a buffer (`what` names it in
    diagnostics)."""

    def __init__(
        self,
        lowering: KernelLowering,
        buffer: Buffer,
        row: SSAValue | int,
        col: SSAValue | int,
        extent: tuple[int, int],
        what: str,
    ):
        layout = buffer_layout(buffer.typ, lowering.target)
        assert isinstance(layout, VramLayout)
        self.layout, (self.rows, self.cols) = layout, extent
        if not isinstance(col, int) or col % layout.vlen:
            raise _fail(
                "tile.copy",
                f"the column offset of the VRAM {what} must be a static multiple of VLEN = "
                f"{layout.vlen} (the vector unit cannot shift lanes)",
            )
        emitter = lowering.emitter
        start = buffer.address + layout.column_block_offset(col // layout.vlen)
        if isinstance(row, int):
            self.start = emitter.const(start + row * layout.vlen)
        else:
            offset = emitter.mul(lowering.index(row), emitter.const(layout.vlen))
            self.start = emitter.add(emitter.const(start), offset)
        self.partial = self.cols % layout.vlen != 0
        self.ends_buffer = col + self.cols == layout.cols
        self.blocks = -(-self.cols // layout.vlen)
        self.block_step = layout.padded_rows * layout.vlen

    @classmethod
    def whole(cls, lowering: KernelLowering, buffer: Buffer, what: str) -> VramRegion:
        rows, cols = buffer.typ.get_shape()
        return cls(lowering, buffer, 0, 0, (rows, cols), what)


def _side_region(lowering: KernelLowering, op: CopyOp, side: str) -> VramRegion:
    extent = op.extent(side)
    assert extent is not None
    row, col = op.offsets(side) if op.is_sliced(side) else (0, 0)
    return VramRegion(lowering, lowering.buffer(getattr(op, side)), row, col, extent, side)


def fpram_start(lowering: KernelLowering, buffer: Buffer, offset: SSAValue | int = 0) -> SSAValue:
    """A register holding FPRAM entry `offset` of `buffer`."""
    emitter = lowering.emitter
    start = emitter.const(buffer.address)
    return start if offset == 0 else emitter.add(start, lowering.index(offset))


def _side_fpram(lowering: KernelLowering, op: CopyOp, side: str) -> SSAValue:
    offset = op.offsets(side)[0] if op.is_sliced(side) else 0
    return fpram_start(lowering, lowering.buffer(getattr(op, side)), offset)


def lower_onchip_copy(lowering: KernelLowering, op: CopyOp) -> None:
    spaces = (buffer_type(op.src).space, buffer_type(op.dst).space)
    if spaces == (FPRAM, FPRAM):
        extent = op.extent("dst")
        assert extent is not None
        src, dst = _side_fpram(lowering, op, "src"), _side_fpram(lowering, op, "dst")
        fpram_to_fpram(lowering, src, dst, extent[0])
        return
    if op.src == op.dst:
        raise _fail("tile.copy", "a copy within one buffer is not supported")
    vram_side = "dst" if spaces[1] is VRAM else "src"
    region = _side_region(lowering, op, vram_side)
    if spaces == (VRAM, VRAM):
        copy_vram_regions(lowering, "tile.copy", region, _side_region(lowering, op, "src"))
    else:
        other = "src" if vram_side == "dst" else "dst"
        fpram = _side_fpram(lowering, op, other)
        vram_fpram(lowering, "tile.copy", region, fpram, to_fpram=vram_side == "src")


def copy_buffers(lowering: KernelLowering, name: str, src: Buffer, dst: Buffer) -> None:
    """The whole of src to the whole of dst, element by element in row-major order (VRAM
    <-> VRAM, VRAM <-> FPRAM, FPRAM -> FPRAM); `name` names the op in diagnostics."""
    spaces = (src.typ.space, dst.typ.space)
    if spaces == (FPRAM, FPRAM):
        (entries,) = dst.typ.get_shape()
        fpram_to_fpram(lowering, fpram_start(lowering, src), fpram_start(lowering, dst), entries)
    elif spaces == (VRAM, VRAM):
        copy_vram_regions(
            lowering,
            name,
            VramRegion.whole(lowering, dst, "dst"),
            VramRegion.whole(lowering, src, "src"),
        )
    elif spaces == (VRAM, FPRAM):
        region = VramRegion.whole(lowering, src, "src")
        vram_fpram(lowering, name, region, fpram_start(lowering, dst), to_fpram=True)
    else:
        region = VramRegion.whole(lowering, dst, "dst")
        vram_fpram(lowering, name, region, fpram_start(lowering, src), to_fpram=False)


def copy_vram_regions(
    lowering: KernelLowering, name: str, dst: VramRegion, src: VramRegion
) -> None:
    """V_ADD_VF dst_row, src_row, f0 per VLEN-wide row of the regions."""
    _check_destination(name, dst)
    emitter = lowering.emitter
    f0 = emitter.value(GetRegisterOp(FpRegisterType.from_name("f0")))
    vlen = dst.layout.vlen
    emitter.strided_loop(
        dst.blocks,
        [dst.start, src.start],
        [dst.block_step, src.block_step],
        lambda blocks: emitter.strided_loop(
            dst.rows,
            blocks,
            [vlen, vlen],
            lambda rows: emitter.emit(V_AddVfOp(rows[0], rows[1], f0, rmask=0)),
            lowering.unroll(dst.rows, 2),
        ),
    )


def _check_destination(name: str, region: VramRegion) -> None:
    if region.partial and not region.ends_buffer:
        raise _fail(
            name,
            f"a VRAM destination region of {region.cols} columns (not a multiple of VLEN = "
            f"{region.layout.vlen}) must end at the buffer's last column: the vector unit "
            "writes whole rows",
        )


def vram_fpram(
    lowering: KernelLowering, name: str, region: VramRegion, fpram: SSAValue, to_fpram: bool
) -> None:
    """S_MAP_FP_V (to_fpram) or S_MAP_V_FP per VLEN-wide row of the region, FPRAM entries in
    the region's row-major order from the register `fpram`."""
    if to_fpram and region.partial:
        raise _fail(
            name,
            f"VRAM -> FPRAM moves whole rows of VLEN = {region.layout.vlen} entries "
            f"(S_MAP_FP_V); a region of {region.cols} columns would overwrite the entries "
            "that follow",
        )
    if not to_fpram:
        _check_destination(name, region)
    emitter = lowering.emitter
    vlen = region.layout.vlen

    def block(addresses: list[SSAValue], offset: int) -> None:
        vram, entries = addresses
        if to_fpram:
            emitter.emit(S_MapFpVOp(entries, vram, imm=offset * vlen))
        else:
            emitter.emit(S_MapVFpOp(vram, entries, imm=offset * vlen))

    emitter.strided_loop(
        region.rows,
        [region.start, fpram],
        [vlen, region.cols],
        lambda rows: emitter.offset_loop(
            region.blocks,
            [rows[0], rows[1]],
            [region.block_step, 0],
            lambda addresses, offset: block(
                [emitter.add_const(addresses[0], offset * region.block_step), addresses[1]],
                offset,
            ),
            region.blocks,
        ),
    )


def fpram_to_fpram(lowering: KernelLowering, src: SSAValue, dst: SSAValue, entries: int) -> None:
    """S_LD_FP / S_ST_FP entry by entry."""
    emitter = lowering.emitter
    emitter.offset_loop(
        entries,
        [src, dst],
        [1, 1],
        lambda a, offset: emitter.store_fp(emitter.load_fp(a[0], offset), a[1], offset),
        lowering.unroll(entries, 2),
    )


def fill_vram(lowering: KernelLowering, buffer: Buffer, value_entry: int) -> None:
    """Every element of the VRAM buffer = FPRAM[value_entry] (module docstring)."""
    emitter, target = lowering.emitter, lowering.target
    layout = buffer_layout(buffer.typ, target)
    assert isinstance(layout, VramLayout)
    blen, vlen = target.blen, target.vlen
    zero = emitter.const(staging_address(lowering, blen))
    for lane in range(0, vlen, blen):
        emitter.emit(M_MmWoOp(zero, emitter.zero(), imm=lane))
    value = emitter.load_fp(emitter.const(value_entry))
    emitter.strided_loop(
        layout.column_blocks,
        [emitter.const(buffer.address)],
        [layout.padded_rows * vlen],
        lambda blocks: emitter.strided_loop(
            layout.rows,
            blocks,
            [vlen],
            lambda rows: emitter.emit(V_AddVfOp(rows[0], zero, value, rmask=0)),
            lowering.unroll(layout.rows, 1),
        ),
    )
