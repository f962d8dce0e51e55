"""Matrix-unit instructions: products into the f32 accumulators and their write-outs.

Semantics of `plena-isa-tvm.md` A3.1/A3.2 (M = MLEN, B = BLEN, H = HLEN, L = M/H, T = M*M).
For an MRAM address m: tile TILE(m - m mod T), in-tile offset o = m mod T.  VROW(x) is the
VRAM row at element address x.  Products are f32; accumulators are f32; every VRAM write is
rounded to bf16.  All address sums wrap at 2^32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ml_dtypes
import numpy as np

from plena_mlir.numerics.formats import round_bf16
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.ops_common import MASK32, Fields, Handler, aborting

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor

_BF16 = ml_dtypes.bfloat16


def _tile_checker(ex: Executor, mnemonic: str):
    """`tile_of(m)`: (tile index, in-tile offset) of MRAM address m, tile checked to exist."""
    t_elems, tiles = ex.target.tile_elements, ex.target.mram_tiles

    def tile_of(m: int) -> tuple[int, int]:
        tile = m // t_elems
        if tile >= tiles:
            raise MachineFault(
                f"{mnemonic} MRAM address {m} is in tile {tile}, past the end of MRAM "
                f"({tiles} tiles)"
            )
        return tile, m % t_elems

    return tile_of


def _aligned_tile_checker(ex: Executor, mnemonic: str):
    """`tile_at(m)`: the tile index of a tile-aligned MRAM address (TMV and the B* ops)."""
    tile_of = _tile_checker(ex, mnemonic)

    def tile_at(m: int) -> int:
        tile, offset = tile_of(m)
        if offset:
            raise MachineFault(
                f"{mnemonic} MRAM address {m} is not tile-aligned (offset {offset} in its tile; "
                f"this unit needs a multiple of MLEN^2 = {ex.target.tile_elements})"
            )
        return tile

    return tile_at


def m_mm(ex: Executor, f: Fields, mnemonic: str = "M_MM") -> Handler:
    """M_MM (and M_TMM_A, which the emulator runs as M_MM):
    m = gp[rs1]; v = gp[rs2]; c = o                  (element column; row-granular targets: o/M)
    m_accum[i][j] += sum_k VROW(v + i*M)[k] * TILE(m)[k][c + j]     for i, j < B, k < M
    abort unless c < M and c mod B == 0.
    """
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.m_accum
    rs1, rs2, M, B = f.rs1, f.rs2, t.mlen, t.blen
    tile_of, first_row = _tile_checker(ex, mnemonic), ex.first_row
    by_row = t.mm_column_granularity == "row"

    def handler(pc: int, tick: int) -> int:
        tile, o = tile_of(gp[rs1])
        if by_row:
            if o % M:
                raise MachineFault(f"{mnemonic} in-tile offset {o} is not a multiple of MLEN ({M})")
            o //= M
        if o >= M or o % B:
            raise MachineFault(
                f"{mnemonic} column offset {o} must be below MLEN ({M}) and a multiple of "
                f"BLEN ({B})"
            )
        r = first_row(gp[rs2], B)
        np.add(acc, vram[r : r + B] @ mram[tile, :, o : o + B], out=acc)
        return pc + 1

    return handler


def m_tmm(ex: Executor, f: Fields) -> Handler:
    """M_TMM: v = gp[rs1] (VRAM); m = gp[rs2] (MRAM); o = r*M with r mod B == 0
    m_accum[i][j] += sum_k VROW(v + i*M)[k] * TILE(m)[r + j][k]
    """
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.m_accum
    rs1, rs2, M, B = f.rs1, f.rs2, t.mlen, t.blen
    tile_of, first_row = _tile_checker(ex, "M_TMM"), ex.first_row

    def handler(pc: int, tick: int) -> int:
        tile, o = tile_of(gp[rs2])
        r0 = o // M
        if o % M or r0 % B:
            raise MachineFault(
                f"M_TMM in-tile offset {o} must be a multiple of MLEN ({M}) selecting a row "
                f"that is a multiple of BLEN ({B})"
            )
        r = first_row(gp[rs1], B)
        np.add(acc, vram[r : r + B] @ mram[tile, r0 : r0 + B, :].T, out=acc)
        return pc + 1

    return handler


def m_mv(ex: Executor, f: Fields) -> Handler:
    """M_MV: m = gp[rs1]; v = gp[rs2]
    v_accum[j] += sum_k VROW(v)[k] * TILE(m)[k][o + j]      abort unless o < M, o mod B == 0
    """
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.v_accum
    rs1, rs2, M, B = f.rs1, f.rs2, t.mlen, t.blen
    tile_of, first_row = _tile_checker(ex, "M_MV"), ex.first_row

    def handler(pc: int, tick: int) -> int:
        tile, o = tile_of(gp[rs1])
        if o >= M or o % B:
            raise MachineFault(
                f"M_MV column offset {o} must be below MLEN ({M}) and a multiple of BLEN ({B})"
            )
        np.add(acc, vram[first_row(gp[rs2])] @ mram[tile, :, o : o + B], out=acc)
        return pc + 1

    return handler


def m_tmv(ex: Executor, f: Fields) -> Handler:
    """M_TMV: v_accum[j] += sum_k VROW(gp[rs2])[k] * TILE(gp[rs1])[j][k]   (tile-aligned m)"""
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.v_accum
    rs1, rs2, B = f.rs1, f.rs2, t.blen
    tile_at, first_row = _aligned_tile_checker(ex, "M_TMV"), ex.first_row

    def handler(pc: int, tick: int) -> int:
        tile = tile_at(gp[rs1])
        np.add(acc, mram[tile, :B, :] @ vram[first_row(gp[rs2])], out=acc)
        return pc + 1

    return handler


def m_btmm(ex: Executor, f: Fields) -> Handler:
    """M_BTMM (lane-paired, rd ignored; m = gp[rs1] tile-aligned, v = gp[rs2]):
    hm_accum[l][q][k] += s * sum_{d<H} VROW(v + q*M)[l*H + d] * TILE(m)[k][l*H + d]
    for l < L, q, k < M; s = bmm_scale.
    """
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.hm_accum
    rs1, rs2, M, H, L, s = f.rs1, f.rs2, t.mlen, t.hlen, t.lanes, np.float32(t.bmm_scale)
    tile_at, first_row = _aligned_tile_checker(ex, "M_BTMM"), ex.first_row

    def handler(pc: int, tick: int) -> int:
        tile = tile_at(gp[rs1])
        r = first_row(gp[rs2], M)
        q = vram[r : r + M].reshape(M, L, H).transpose(1, 0, 2)
        k = mram[tile].reshape(M, L, H).transpose(1, 2, 0)
        np.add(acc, np.matmul(q, k) * s, out=acc)
        return pc + 1

    return handler


def m_bmm(ex: Executor, f: Fields) -> Handler:
    """M_BMM (lane-paired, rd ignored; m = gp[rs1] tile-aligned, v = gp[rs2]):
    hm_accum[l][q][n] += s * sum_{d<H} VROW(v + q*M)[l*H + d] * TILE(m)[l*H + d][n]
    """
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.hm_accum
    rs1, rs2, M, H, L, s = f.rs1, f.rs2, t.mlen, t.hlen, t.lanes, np.float32(t.bmm_scale)
    tile_at, first_row = _aligned_tile_checker(ex, "M_BMM"), ex.first_row

    def handler(pc: int, tick: int) -> int:
        tile = tile_at(gp[rs1])
        r = first_row(gp[rs2], M)
        x = vram[r : r + M].reshape(M, L, H).transpose(1, 0, 2)
        np.add(acc, np.matmul(x, mram[tile].reshape(L, H, M)) * s, out=acc)
        return pc + 1

    return handler


def m_btmv(ex: Executor, f: Fields) -> Handler:
    """M_BTMV: m = gp[rs1] + gp[rd] (tile-aligned); v = gp[rs2]
    hv_accum[l][k] += s * sum_{d<H} VROW(v)[l*H + d] * TILE(m)[k][l*H + d]
    """
    st, t = ex.state, ex.target
    gp, vram, mram, acc = st.gp, st.vram, st.mram, st.hv_accum
    rd, rs1, rs2, M, H, L = f.rd, f.rs1, f.rs2, t.mlen, t.hlen, t.lanes
    s = np.float32(t.bmm_scale)
    tile_at, first_row = _aligned_tile_checker(ex, "M_BTMV"), ex.first_row

    def handler(pc: int, tick: int) -> int:
        tile = tile_at((gp[rs1] + gp[rd]) & MASK32)
        q = vram[first_row(gp[rs2])].reshape(L, 1, H)
        k = mram[tile].reshape(M, L, H).transpose(1, 2, 0)
        np.add(acc, np.matmul(q, k).reshape(L, M) * s, out=acc)
        return pc + 1

    return handler


def m_bmv(ex: Executor, f: Fields) -> Handler:
    """M_BMV: always aborts on plena-tvm (A3.1; its intended meaning is A6.2 row 2)."""
    return aborting(
        "M_BMV always aborts on plena-tvm: the emulator adds an L x 1 x M product in place "
        "into the L x M accumulator, which fails"
    )


def m_mm_wo(ex: Executor, f: Fields) -> Handler:
    """M_MM_WO: d = gp[rd] + imm2; s = 1 if the rs1 field is 0 else gp[rs1]
    c = d mod M (abort unless c mod B == 0); base = d - c
    for i < B: VROW(base + i*M*s)[c .. c+B-1] = bf16(m_accum[i])   (read-modify-write)
    m_accum = 0
    """
    st, t = ex.state, ex.target
    gp, vram, acc = st.gp, st.vram, st.m_accum
    rd, rs1, imm, M, B = f.rd, f.rs1, f.imm2, t.mlen, t.blen
    first_row = ex.first_row

    def handler(pc: int, tick: int) -> int:
        d = (gp[rd] + imm) & MASK32
        c = d % M
        if c % B:
            raise MachineFault(
                f"M_MM_WO column {c} (of address {d}) is not a multiple of BLEN ({B})"
            )
        pitch = M * (gp[rs1] if rs1 else 1)
        rows = round_bf16(acc)
        base = d - c
        for i in range(B):
            vram[first_row((base + i * pitch) & MASK32), c : c + B] = rows[i]
        acc.fill(0)
        return pc + 1

    return handler


def m_mv_wo(ex: Executor, f: Fields) -> Handler:
    """M_MV_WO: d = gp[rd] + imm2; c = d mod M (mod B == 0)
    VROW(d - c)[c .. c+B-1] = bf16(v_accum); v_accum = 0
    """
    st, t = ex.state, ex.target
    gp, vram, acc = st.gp, st.vram, st.v_accum
    rd, imm, M, B = f.rd, f.imm2, t.mlen, t.blen
    first_row = ex.first_row

    def handler(pc: int, tick: int) -> int:
        d = (gp[rd] + imm) & MASK32
        c = d % M
        if c % B:
            raise MachineFault(
                f"M_MV_WO column {c} (of address {d}) is not a multiple of BLEN ({B})"
            )
        vram[first_row(d - c), c : c + B] = round_bf16(acc)
        acc.fill(0)
        return pc + 1

    return handler


def m_bmm_wo(ex: Executor, f: Fields) -> Handler:
    """M_BMM_WO: d = gp[rd] + imm2 (mod M == 0)
    VROW(d + (l*M + i)*M) = bf16(hm_accum[l][i]) for l < L, i < M; hm_accum = 0
    """
    st, t = ex.state, ex.target
    gp, vram, acc = st.gp, st.vram, st.hm_accum
    rd, imm, M, n = f.rd, f.imm2, t.mlen, t.lanes * t.mlen
    first_row = ex.first_row

    def handler(pc: int, tick: int) -> int:
        d = (gp[rd] + imm) & MASK32
        if d % M:
            raise MachineFault(f"M_BMM_WO address {d} is not a multiple of MLEN ({M})")
        r = first_row(d, n)
        vram[r : r + n] = acc.reshape(n, M).astype(_BF16)  # the cast is the bf16 rounding
        acc.fill(0)
        return pc + 1

    return handler


def m_bmv_wo(ex: Executor, f: Fields) -> Handler:
    """M_BMV_WO: d = gp[rd] + imm2 (mod M == 0); VROW(d + l*M) = bf16(hv_accum[l]); hv_accum = 0"""
    st, t = ex.state, ex.target
    gp, vram, acc = st.gp, st.vram, st.hv_accum
    rd, imm, M, L = f.rd, f.imm2, t.mlen, t.lanes
    first_row = ex.first_row

    def handler(pc: int, tick: int) -> int:
        d = (gp[rd] + imm) & MASK32
        if d % M:
            raise MachineFault(f"M_BMV_WO address {d} is not a multiple of MLEN ({M})")
        r = first_row(d, L)
        vram[r : r + L] = acc.astype(_BF16)  # the cast is the bf16 rounding
        acc.fill(0)
        return pc + 1

    return handler


FACTORIES = {
    "M_MM": m_mm,
    "M_TMM_A": lambda ex, f: m_mm(ex, f, "M_TMM_A"),
    "M_TMM": m_tmm,
    "M_MV": m_mv,
    "M_TMV": m_tmv,
    "M_BTMM": m_btmm,
    "M_BMM": m_bmm,
    "M_BTMV": m_btmv,
    "M_BMV": m_bmv,
    "M_MM_WO": m_mm_wo,
    "M_MV_WO": m_mv_wo,
    "M_BMM_WO": m_bmm_wo,
    "M_BMV_WO": m_bmv_wo,
}
