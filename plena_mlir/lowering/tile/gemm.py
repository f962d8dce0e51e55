"""A gemm in the instruction form plena-select-gemm chose (gemm/forms.py).

`lower_gemm` lowers a `tile.gemm` (`plena.gemm`); lowering/lane/matrix.py lowers one lane of a
`lane.gemm` with the same `emit_gemm`, given a `GemmPlan`: where the operands are and how the
form steps through them.

M = MLEN, Bl = BLEN, L = lanes, V = VLEN (= M).  A (m x k) and C (m x n) are column-block
major in VRAM (`VramLayout`: column block j at base + j*R*V, row r of it at + r*V), B whole
tiles in MRAM (`MramLayout`).  Every loop is a hardware loop whose address registers the body
steps; the K tiles are the innermost loop, so the accumulator sums all of K before one
write-out.  An N tile is min(n, M) columns (one lane of a col_pack C is H columns):

    M_MM / M_TMM   for each Bl-row block of A, each N tile, each Bl-column block j of it:
                       for kt: M_MM  (tile(kt, nt) + column + j*Bl,   A block kt, rows)
                               M_TMM (A block kt, rows,     tile(nt, kt) + j*Bl*M)
                       M_MM_WO  C (or the scratch) + nt*Rc*V + rows*V + j*Bl
    M_MV           as M_MM for the single row: M_MV, M_MV_WO
    lane-sum forms for each M-row tile of A (each row with M_BTMV), each N tile:
                       for kt: M_BTMM / M_BMM (tile, A block kt rows) | M_BTMV (gp0, tile, row)
                       M_BMM_WO / M_BMV_WO scratch
                       per row r: the lane sum of the L slabs S_l[r] (below)

With `accumulate` the m_accum / v_accum forms write the product to the scratch (C's layout)
and then add it to C row by row.  A lane-sum tile with fewer than M rows (the last one of an
A whose rows are not a multiple of M) still reads M rows of A; the rows past A only produce
scratch rows that are never summed, but they must lie inside VRAM (checked).

The lane sum, per row r (all V_ADD_VV):

    C is whole rows     C = S_0 + S_1, C += S_2, ... (+= : C += S_0, C += S_1, ...)
    C is lane l of a    with V_MASK = 1 << l, masked (the other heads keep C's values):
    col_pack buffer       += : C += S_0, C += S_1, ...
                          =  : S_0 += S_1, S_0 += S_2, ... unmasked; then with V_MASK =
                               every head but l: S_0 = S_0 - S_0 (the other heads' columns
                               to 0), C = S_0 + C (head l takes S_0, the others 0 + C)

so C[r] = bf16(...bf16(bf16(P_0 + P_1) + P_2)... + P_(L-1)) (+= : from C + P_0) in every case.
The masked = form never computes with head l's old C (it may hold inf or NaN); it adds 0 to
the other heads' C, which leaves them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.plena.control_ops import C_SetVMaskRegOp
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
from plena_mlir.dialects.plena.vector_ops import V_AddVvOp, V_SubVvOp
from plena_mlir.dialects.tile import GemmOp
from plena_mlir.gemm.choice import chosen_form, gemm_shape
from plena_mlir.gemm.forms import Form, GemmShape
from plena_mlir.ir.addresses import MramLayout, VramLayout, buffer_layout
from plena_mlir.ir.naming import describe_gemm
from plena_mlir.lowering.emitter import Emitter, unroll_factor
from plena_mlir.lowering.kernel import KernelLowering, buffer_type
from plena_mlir.target import Target


@dataclass(frozen=True)
class GemmPlan:
    """One gemm in its form: the operands' addresses and the steps between their tiles."""

    description: str
    """How diagnostics name the gemm."""
    form: Form
    shape: GemmShape
    a_base: int
    a_block_step: int
    """A's next column block (the next K tile)."""
    b_base: int
    """B's first tile (tile-aligned)."""
    b_column: int
    """The first column the M_MM / M_MV forms read inside B's tiles (a lane's columns)."""
    b_k_step: int
    b_n_step: int
    c_base: int
    """C's element (0, 0), inside its row when C is one lane of a col_pack buffer."""
    c_block_step: int
    scratch_base: int | None
    """The scratch of the form: the L slabs of a lane-sum form, or where an accumulating
    M_MM / M_TMM / M_MV writes the product (C's layout: the address of C's (0, 0) in it)."""
    lane: int | None = None
    """C is this lane's columns of a col_pack buffer: merges run under V_MASK."""

    def fail(self, reason: str) -> DiagnosticException:
        return DiagnosticException(f"convert-lane-to-plena: {self.description}: {reason}")

    def columns_per_tile(self, target: Target) -> int:
        return min(self.shape.n, target.mlen)

    def n_tiles(self, target: Target) -> int:
        return -(-self.shape.n // target.mlen)

    def k_tiles(self, target: Target) -> int:
        return self.shape.k // target.mlen


def lower_gemm(lowering: KernelLowering, op: GemmOp) -> None:
    """Lower a tile.gemm in the form plena-select-gemm recorded."""
    form = chosen_form(op)
    if form is None:
        raise DiagnosticException(
            f"convert-lane-to-plena: {describe_gemm(op)}: no instruction form chosen: run "
            "plena-select-gemm first"
        )
    target = lowering.target
    shape = gemm_shape(op, target)
    a, c = (_vram(op.a, target), _vram(op.c, target))
    b = buffer_layout(buffer_type(op.b), target)
    assert isinstance(b, MramLayout)
    b_k_step, b_n_step = b_tile_steps(b, shape.transposed_b)
    plan = GemmPlan(
        description=describe_gemm(op),
        form=form,
        shape=shape,
        a_base=lowering.buffer_address(op.a),
        a_block_step=a.padded_rows * target.vlen,
        b_base=lowering.buffer_address(op.b),
        b_column=0,
        b_k_step=b_k_step,
        b_n_step=b_n_step,
        c_base=lowering.buffer_address(op.c),
        c_block_step=c.padded_rows * target.vlen,
        scratch_base=None if op.scratch is None else lowering.buffer_address(op.scratch),
    )
    emit_gemm(lowering.emitter, target, plan)


def b_tile_steps(b: MramLayout, transposed_b: bool) -> tuple[int, int]:
    """The MRAM steps from B's tile (nt, kt) to (nt, kt + 1) and to (nt + 1, kt)."""
    tile = b.tile_elements
    if transposed_b:  # b is (n, k): tile (nt, kt) at (kt * n/M + nt) * M^2
        return b.row_tiles * tile, tile
    return tile, b.row_tiles * tile  # b is (k, n): tile (kt, nt) at (nt * k/M + kt) * M^2


def _vram(value: SSAValue, target: Target) -> VramLayout:
    layout = buffer_layout(buffer_type(value), target)
    assert isinstance(layout, VramLayout)
    return layout


class _Emission:
    """Emitting one plan: the emitter, the target and the plan."""

    def __init__(self, emitter: Emitter, target: Target, plan: GemmPlan):
        self.emitter, self.target, self.plan = emitter, target, plan
        self.k_tiles = plan.k_tiles(target)

    def k_loop(self, mram: SSAValue, vram: SSAValue, emit: Callable[[SSAValue, SSAValue], None]):
        """emit(mram, vram) for each K tile, the addresses stepped tile by tile."""
        self.emitter.strided_loop(
            self.k_tiles,
            [mram, vram],
            [self.plan.b_k_step, self.plan.a_block_step],
            lambda r: emit(r[0], r[1]),
            unroll_factor(self.k_tiles, 4),
        )

    def set_mask(self, heads: int) -> None:
        """V_MASK = heads."""
        self.emitter.emit(C_SetVMaskRegOp(self.emitter.const(heads)))


def emit_gemm(emitter: Emitter, target: Target, plan: GemmPlan) -> None:
    """Emit the plan's form (module docstring)."""
    form = plan.form
    emission = _Emission(emitter, target, plan)
    if form.lane_sum:
        if plan.scratch_base is None:
            raise plan.fail(f"{form.value} needs the scratch plena-select-gemm adds")
        if form is Form.BTMV_LANE_SUM:
            _btmv_lane_sum(emission)
        else:
            _batched_lane_sum(emission, M_BtmmOp if form is Form.BTMM_LANE_SUM else M_BmmOp)
    else:
        _small_accumulator(emission)


# m_accum / v_accum forms -----------------------------------------------------------------


def _small_accumulator(e: _Emission) -> None:
    target, emitter, plan = e.target, e.emitter, e.plan
    form = plan.form
    M, B, V = target.mlen, target.blen, target.vlen
    accumulate = plan.shape.accumulate
    if accumulate and plan.scratch_base is None:
        raise plan.fail(f"{form.value} with += needs the scratch plena-select-gemm adds")
    out_base = plan.scratch_base if accumulate else plan.c_base
    zero = emitter.zero()
    if form is Form.MV:
        row_blocks, row_step, column_step = 1, 0, B
    else:
        row_blocks, row_step = -(-plan.shape.m // B), B * V
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
        e.k_loop(regs[0], a_row, product)
        write_out(regs[1])

    def n_tile(regs: list[SSAValue], a_row: SSAValue) -> None:
        emitter.strided_loop(
            plan.columns_per_tile(target) // B,
            regs,
            [column_step, B],
            lambda r: column_block(r, a_row),
        )

    def row_block(regs: list[SSAValue]) -> None:
        a_row, out_row = regs
        emitter.strided_loop(
            plan.n_tiles(target),
            [emitter.const(plan.b_base + plan.b_column), out_row],
            [plan.b_n_step, plan.c_block_step],  # the scratch has C's layout
            lambda r: n_tile(r, a_row),
        )

    emitter.strided_loop(
        row_blocks,
        [emitter.const(plan.a_base), emitter.const(out_base)],
        [row_step, row_step],
        row_block,
    )
    if accumulate:
        _add_rows(e, plan.c_base, plan.scratch_base, plan.shape.m)


def _add_rows(e: _Emission, c: int, s: int, rows: int) -> None:
    """C += S over rows x all column blocks of C (S has C's layout); masked to the lane's
    head when C is one lane of a col_pack buffer."""
    emitter, V, plan = e.emitter, e.target.vlen, e.plan
    step = plan.c_block_step
    rmask = 0
    if plan.lane is not None:
        e.set_mask(1 << plan.lane)
        rmask = 1

    def block(regs: list[SSAValue]) -> None:
        emitter.strided_loop(
            rows,
            regs,
            [V, V],
            lambda r: emitter.emit(V_AddVvOp(r[0], r[0], r[1], rmask=rmask)),
            unroll_factor(rows),
        )

    # C's column blocks (a VRAM row holds V columns; C's row r holds its n columns)
    blocks = -(-plan.shape.n // V)
    starts = [emitter.const(c - c % V), emitter.const(s - s % V)]
    emitter.strided_loop(blocks, starts, [step, step], block)


# lane-sum forms ----------------------------------------------------------------------------


def _lane_sum(e: _Emission, c_row: SSAValue, slab_rows: int, rows: int, slab_row_step: int):
    """The lane sum (module docstring) for r < rows: slab l at scratch + l*slab_rows*V, its
    rows slab_row_step apart."""
    emitter, target, plan = e.emitter, e.target, e.plan
    V, L = target.vlen, target.lanes
    slabs = [emitter.const(plan.scratch_base + lane * slab_rows * V) for lane in range(L)]
    accumulate = plan.shape.accumulate
    lane = plan.lane
    if lane is not None:
        e.set_mask(1 << lane if accumulate else (1 << L) - 1 - (1 << lane))

    def whole_rows(regs: list[SSAValue]) -> None:
        c, parts = regs[0], regs[1:]
        first = c if accumulate else parts.pop(0)
        emitter.emit(V_AddVvOp(c, first, parts[0], rmask=0))
        for part in parts[1:]:
            emitter.emit(V_AddVvOp(c, c, part, rmask=0))

    def masked_accumulate(regs: list[SSAValue]) -> None:
        c, parts = regs[0], regs[1:]
        for part in parts:
            emitter.emit(V_AddVvOp(c, c, part, rmask=1))

    def masked_overwrite(regs: list[SSAValue]) -> None:
        c, total, parts = regs[0], regs[1], regs[2:]
        for part in parts:
            emitter.emit(V_AddVvOp(total, total, part, rmask=0))
        emitter.emit(V_SubVvOp(total, total, total, rmask=1))
        emitter.emit(V_AddVvOp(c, total, c, rmask=1))

    if lane is None:
        row = whole_rows
    else:
        row = masked_accumulate if accumulate else masked_overwrite
    # a lane's C is inside its row: the row's address steps, the column is the instruction's
    emitter.strided_loop(
        rows,
        [c_row, *slabs],
        [V] + [slab_row_step] * L,
        row,
        unroll_factor(rows),
    )


def _check_reads_inside_vram(e: _Emission) -> None:
    """The last, partial M-row tile reads M rows from its first row of A's last block."""
    M, V, plan = e.target.mlen, e.target.vlen, e.plan
    last_tile = (plan.shape.m - 1) // M * M
    end = plan.a_base + (e.k_tiles - 1) * plan.a_block_step + (last_tile + M) * V
    if end > e.target.vram_rows * V:
        raise plan.fail(
            f"the last {M}-row tile of A reads VRAM rows up to {end // V}, past the end of "
            f"VRAM ({e.target.vram_rows} rows): place A lower or pad its rows to {M}",
        )


def _c_row(e: _Emission, address: int) -> SSAValue:
    """A register holding the row of C's element at `address` (a lane's C is inside it)."""
    return e.emitter.const(address - address % e.target.vlen)


def _batched_lane_sum(e: _Emission, instruction) -> None:
    emitter, target, plan = e.emitter, e.target, e.plan
    M, V = target.mlen, target.vlen
    m = plan.shape.m
    if m % M:
        _check_reads_inside_vram(e)
    scratch = emitter.const(plan.scratch_base)

    def m_tile(a_row: SSAValue, c_row: SSAValue, rows: int) -> None:
        def n_tile(regs: list[SSAValue]) -> None:
            mram, c = regs
            e.k_loop(mram, a_row, lambda mr, vr: emitter.emit(instruction(mr, vr)))
            emitter.emit(M_BmmWoOp(scratch, imm=0))
            _lane_sum(e, c, M, rows, V)

        emitter.strided_loop(
            plan.n_tiles(target),
            [emitter.const(plan.b_base), c_row],
            [plan.b_n_step, plan.c_block_step],
            n_tile,
        )

    full = m // M
    if full:
        emitter.strided_loop(
            full,
            [emitter.const(plan.a_base), _c_row(e, plan.c_base)],
            [M * V, M * V],
            lambda r: m_tile(r[0], r[1], M),
        )
    if m % M:
        m_tile(
            emitter.const(plan.a_base + full * M * V),
            _c_row(e, plan.c_base + full * M * V),
            m % M,
        )


def _btmv_lane_sum(e: _Emission) -> None:
    emitter, target, plan = e.emitter, e.target, e.plan
    V = target.vlen
    zero, scratch = emitter.zero(), emitter.const(plan.scratch_base)

    def a_row(regs: list[SSAValue]) -> None:
        def n_tile(n_regs: list[SSAValue]) -> None:
            mram, c = n_regs
            e.k_loop(mram, regs[0], lambda mr, vr: emitter.emit(M_BtmvOp(zero, mr, vr)))
            emitter.emit(M_BmvWoOp(scratch, imm=0))
            _lane_sum(e, c, 1, 1, V)

        emitter.strided_loop(
            plan.n_tiles(target),
            [emitter.const(plan.b_base), regs[1]],
            [plan.b_n_step, plan.c_block_step],
            n_tile,
        )

    emitter.strided_loop(
        plan.shape.m,
        [emitter.const(plan.a_base), _c_row(e, plan.c_base)],
        [V, V],
        a_row,
    )
