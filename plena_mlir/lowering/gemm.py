"""`tile.gemm` in the form plena-select-gemm chose (`plena.gemm`, lowering/gemm_forms.py).

M = MLEN, Bl = BLEN, L = lanes, V = VLEN (= M).  A (m x k) and C (m x n) are column-block
major in VRAM (`VramLayout`: column block j at base + j*R*V, row r of it at + r*V), B whole
tiles in MRAM (`MramLayout`).  Every loop is a hardware loop whose address registers the body
steps; the K tiles are the innermost loop, so the accumulator sums all of K before one
write-out:

    M_MM / M_TMM   for each Bl-row block of A, each N tile, each Bl-column block j of it:
                       for kt: M_MM  (tile(kt, nt) + j*Bl,   A block kt, rows)
                               M_TMM (A block kt, rows,     tile(nt, kt) + j*Bl*M)
                       M_MM_WO  C (or the scratch) + nt*Rc*V + rows*V + j*Bl
    M_MV           as M_MM for the single row: M_MV, M_MV_WO
    lane-sum forms for each M-row tile of A (each row with M_BTMV), each N tile:
                       for kt: M_BTMM / M_BMM (tile, A block kt rows) | M_BTMV (gp0, tile, row)
                       M_BMM_WO / M_BMV_WO scratch
                       per row r: C[r] = S_0[r] + S_1[r]; C[r] += S_2[r] ... (+= : from C[r])

With `accumulate` the m_accum / v_accum forms write the product to the scratch (C's shape)
and then add it to C row by row.  A lane-sum tile with fewer than M rows (the last one of an
A whose rows are not a multiple of M) still reads M rows of A; the rows past A only produce
scratch rows that are never summed, but they must lie inside VRAM (checked).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.plena.matrix_ops import (
    M_BmmOp,
    M_BmmWoOp,
    M_BmvWoOp,
    M_BtmmOp,
    M_BtmvOp,
    M_MmOp,
    M_MmWoOp,
    M_MvOp,
    M_MvWoOp,
    M_TmmOp,
)
from plena_mlir.dialects.plena.vector_ops import V_AddVvOp
from plena_mlir.dialects.tile import GemmOp
from plena_mlir.layout import MramLayout, VramLayout, buffer_layout
from plena_mlir.lowering.emitter import unroll_factor
from plena_mlir.lowering.gemm_forms import Form
from plena_mlir.lowering.kernel import KernelLowering, buffer_type
from plena_mlir.passes.select_gemm import chosen_form, describe_gemm, gemm_shape


def _fail(op: GemmOp, reason: str) -> DiagnosticException:
    return DiagnosticException(f"convert-lane-to-plena: {describe_gemm(op)}: {reason}")


class _Gemm:
    """The operands of one gemm: addresses, layouts and the address steps of its tiles."""

    def __init__(self, lowering: KernelLowering, op: GemmOp):
        self.lowering, self.op = lowering, op
        self.emitter = lowering.emitter
        target = lowering.target
        self.target = target
        self.shape = gemm_shape(op, target)
        self.a, self.c = (self._vram(op.a), self._vram(op.c))
        b = buffer_layout(buffer_type(op.b), target)
        assert isinstance(b, MramLayout)
        M = target.mlen
        tile = M * M
        # MRAM steps from tile (nt, kt) to (nt, kt + 1) and to (nt + 1, kt)
        if self.shape.transposed_b:  # b is (n, k): tile (nt, kt) at (kt * n/M + nt) * M^2
            self.b_k_step, self.b_n_step = b.row_tiles * tile, tile
        else:  # b is (k, n): tile (kt, nt) at (nt * k/M + kt) * M^2
            self.b_k_step, self.b_n_step = tile, b.row_tiles * tile
        self.a_base = lowering.buffer_address(op.a)
        self.b_base = lowering.buffer_address(op.b)
        self.c_base = lowering.buffer_address(op.c)
        self.scratch_base = None if op.scratch is None else lowering.buffer_address(op.scratch)
        self.k_tiles, self.n_tiles = self.shape.k // M, self.shape.n // M

    def _vram(self, value: SSAValue) -> VramLayout:
        layout = buffer_layout(buffer_type(value), self.target)
        assert isinstance(layout, VramLayout)
        return layout

    @property
    def a_block_step(self) -> int:
        """A's next column block (the next K tile)."""
        return self.a.padded_rows * self.target.vlen

    @property
    def c_block_step(self) -> int:
        return self.c.padded_rows * self.target.vlen

    def k_loop(self, mram: SSAValue, vram: SSAValue, emit: Callable[[SSAValue, SSAValue], None]):
        """emit(mram, vram) for each K tile, the addresses stepped tile by tile."""
        self.emitter.strided_loop(
            self.k_tiles,
            [mram, vram],
            [self.b_k_step, self.a_block_step],
            lambda r: emit(r[0], r[1]),
            unroll_factor(self.k_tiles, 4),
        )


def lower_gemm(lowering: KernelLowering, op: GemmOp) -> None:
    form = chosen_form(op)
    if form is None:
        raise _fail(op, "no instruction form chosen: run plena-select-gemm first")
    gemm = _Gemm(lowering, op)
    if form.lane_sum:
        if gemm.scratch_base is None:
            raise _fail(op, f"{form.value} needs the scratch plena-select-gemm adds")
        if form is Form.BTMV_LANE_SUM:
            _btmv_lane_sum(gemm)
        else:
            _batched_lane_sum(gemm, M_BtmmOp if form is Form.BTMM_LANE_SUM else M_BmmOp)
    else:
        _small_accumulator(gemm, form)


# m_accum / v_accum forms -----------------------------------------------------------------


def _small_accumulator(gemm: _Gemm, form: Form) -> None:
    target, emitter = gemm.target, gemm.emitter
    M, B, V = target.mlen, target.blen, target.vlen
    accumulate = gemm.shape.accumulate
    if accumulate and gemm.scratch_base is None:
        raise _fail(gemm.op, f"{form.value} with += needs the scratch plena-select-gemm adds")
    out_base = gemm.scratch_base if accumulate else gemm.c_base
    out_block_step = gemm.c_block_step  # the scratch has C's shape
    zero = emitter.zero()
    if form is Form.MV:
        row_blocks, row_step, column_step = 1, 0, B
    else:
        row_blocks, row_step = -(-gemm.shape.m // B), B * V
        column_step = B * M if form is Form.TMM else B

    def product(mram: SSAValue, vram: SSAValue) -> None:
        if form is Form.MM:
            emitter.emit(M_MmOp(mram, vram))
        elif form is Form.TMM:
            emitter.emit(M_TmmOp(vram, mram))
        else:
            emitter.emit(M_MvOp(mram, vram))

    def write_out(dst: SSAValue) -> None:
        if form is Form.MV:
            emitter.emit(M_MvWoOp(dst, imm=0))
        else:
            emitter.emit(M_MmWoOp(dst, zero, imm=0))

    def column_block(regs: list[SSAValue], a_row: SSAValue) -> None:
        gemm.k_loop(regs[0], a_row, product)
        write_out(regs[1])

    def n_tile(regs: list[SSAValue], a_row: SSAValue) -> None:
        emitter.strided_loop(M // B, regs, [column_step, B], lambda r: column_block(r, a_row))

    def row_block(regs: list[SSAValue]) -> None:
        a_row, out_row = regs
        emitter.strided_loop(
            gemm.n_tiles,
            [emitter.const(gemm.b_base), out_row],
            [gemm.b_n_step, out_block_step],
            lambda r: n_tile(r, a_row),
        )

    emitter.strided_loop(
        row_blocks,
        [emitter.const(gemm.a_base), emitter.const(out_base)],
        [row_step, row_step],
        row_block,
    )
    if accumulate:
        _add_rows(gemm, gemm.c_base, gemm.scratch_base, gemm.shape.m)


def _add_rows(gemm: _Gemm, c: int, s: int, rows: int) -> None:
    """C += S over rows x all column blocks of C (S has C's layout)."""
    emitter, V = gemm.emitter, gemm.target.vlen
    step = gemm.c_block_step

    def block(regs: list[SSAValue]) -> None:
        emitter.strided_loop(
            rows,
            regs,
            [V, V],
            lambda r: emitter.emit(V_AddVvOp(r[0], r[0], r[1], rmask=0)),
            unroll_factor(rows),
        )

    emitter.strided_loop(
        gemm.c.column_blocks, [emitter.const(c), emitter.const(s)], [step, step], block
    )


# lane-sum forms ----------------------------------------------------------------------------


def _lane_sum(gemm: _Gemm, c_row: SSAValue, slab_rows: int, rows: int, slab_row_step: int):
    """C[r] (+)= S_0[r] + ... + S_(L-1)[r] for r < rows: slab l at scratch + l*slab_rows*V,
    its rows slab_row_step apart."""
    emitter, target = gemm.emitter, gemm.target
    V, L = target.vlen, target.lanes
    slabs = [emitter.const(gemm.scratch_base + lane * slab_rows * V) for lane in range(L)]
    accumulate = gemm.shape.accumulate

    def row(regs: list[SSAValue]) -> None:
        c, parts = regs[0], regs[1:]
        first = c if accumulate else parts.pop(0)
        emitter.emit(V_AddVvOp(c, first, parts[0], rmask=0))
        for part in parts[1:]:
            emitter.emit(V_AddVvOp(c, c, part, rmask=0))

    emitter.strided_loop(
        rows,
        [c_row, *slabs],
        [V] + [slab_row_step] * L,
        row,
        unroll_factor(rows),
    )


def _check_reads_inside_vram(gemm: _Gemm) -> None:
    """The last, partial M-row tile reads M rows from its first row of A's last block."""
    M, V = gemm.target.mlen, gemm.target.vlen
    last_tile = (gemm.shape.m - 1) // M * M
    end = gemm.a_base + (gemm.k_tiles - 1) * gemm.a_block_step + (last_tile + M) * V
    if end > gemm.target.vram_rows * V:
        raise _fail(
            gemm.op,
            f"the last {M}-row tile of A reads VRAM rows up to {end // V}, past the end of "
            f"VRAM ({gemm.target.vram_rows} rows): place A lower or pad its rows to {M}",
        )


def _batched_lane_sum(gemm: _Gemm, instruction) -> None:
    emitter, target = gemm.emitter, gemm.target
    M, V = target.mlen, target.vlen
    m = gemm.shape.m
    if m % M:
        _check_reads_inside_vram(gemm)
    scratch = emitter.const(gemm.scratch_base)

    def m_tile(a_row: SSAValue, c_row: SSAValue, rows: int) -> None:
        def n_tile(regs: list[SSAValue]) -> None:
            mram, c = regs
            gemm.k_loop(mram, a_row, lambda mr, vr: emitter.emit(instruction(mr, vr)))
            emitter.emit(M_BmmWoOp(scratch, imm=0))
            _lane_sum(gemm, c, M, rows, V)

        emitter.strided_loop(
            gemm.n_tiles,
            [emitter.const(gemm.b_base), c_row],
            [gemm.b_n_step, gemm.c_block_step],
            n_tile,
        )

    full = m // M
    if full:
        emitter.strided_loop(
            full,
            [emitter.const(gemm.a_base), emitter.const(gemm.c_base)],
            [M * V, M * V],
            lambda r: m_tile(r[0], r[1], M),
        )
    if m % M:
        m_tile(
            emitter.const(gemm.a_base + full * M * V),
            emitter.const(gemm.c_base + full * M * V),
            m % M,
        )


def _btmv_lane_sum(gemm: _Gemm) -> None:
    emitter, target = gemm.emitter, gemm.target
    V = target.vlen
    zero, scratch = emitter.zero(), emitter.const(gemm.scratch_base)

    def a_row(regs: list[SSAValue]) -> None:
        def n_tile(n_regs: list[SSAValue]) -> None:
            mram, c = n_regs
            gemm.k_loop(mram, regs[0], lambda mr, vr: emitter.emit(M_BtmvOp(zero, mr, vr)))
            emitter.emit(M_BmvWoOp(scratch, imm=0))
            _lane_sum(gemm, c, 1, 1, V)

        emitter.strided_loop(
            gemm.n_tiles,
            [emitter.const(gemm.b_base), regs[1]],
            [gemm.b_n_step, gemm.c_block_step],
            n_tile,
        )

    emitter.strided_loop(
        gemm.shape.m,
        [emitter.const(gemm.a_base), emitter.const(gemm.c_base)],
        [V, V],
        a_row,
    )
