"""Matrix ops, accumulators and write-outs (plena-isa-tvm.md A3.1, A3.2, A6.1, A6.2;
plena-isa.md 4).  M = V = 64, B = 2, H = 16, L = 4.

Exactness: VRAM operands are bf16 values +-(1 + k/128) * 2^{-1, 0} and MRAM tiles E4M3 values
with exponent field 6 or 7 (scale 1.0).  Every product is a multiple of 2^-12 below 4 and a
sum of at most a few hundred of them stays below 2^11, so all f32 sums here are exact in any
summation order and the accumulators can be compared bit for bit.  The one test with general
data (`test_m_mm_general_data_accumulates_in_f32`) uses an order-insensitive error bound.
"""

from __future__ import annotations

import numpy as np
import pytest

from .data import e4m3_bytes, exact_bf16, mram_tiles_setup, random_bf16, set_regs
from .harness import assert_same, covers
from .ref_numerics import E4M3_VALUES, bf16

F32 = np.float32
M, B, H, L = 64, 2, 16, 4
TILE = M * M


def load_tiles(h, rng, count: int) -> list[np.ndarray]:
    """Load `count` random exact tiles into MRAM tiles 0..count-1; return them (float64)."""
    tiles = [e4m3_bytes(rng, (M, M)) for _ in range(count)]
    image, asm = mram_tiles_setup(tiles)
    h.load_hbm(image)
    h.run(asm)
    return [E4M3_VALUES[t].astype(np.float64) for t in tiles]


def load_rows(h, rng, count: int) -> np.ndarray:
    """VRAM rows 0..count-1 of exact data; returned as float64."""
    rows = exact_bf16(rng, (count, M))
    h.load_vram(rows)
    return rows.astype(np.float64)


def exact_f32(x: np.ndarray) -> np.ndarray:
    """x as f32, checking the test's exactness premise (the f64 value is an f32)."""
    out = x.astype(F32)
    assert (out.astype(np.float64) == x).all(), "test data premise broken: inexact f32 sum"
    return out


@covers("M_MM", "M_MM_WO")
@pytest.mark.parametrize("column", [0, 2, 30, 62])
def test_m_mm_element_granular_column_offset(machine, rng, column):
    """m_accum += A (VRAM rows v, v+M) x TILE[:, o:o+B] with o = m mod M^2 an element column;
    M_MM costs 64 cycles, M_MM_WO 1 and clears m_accum."""
    h = machine()
    tile = load_tiles(h, rng, 2)[1]
    a = load_rows(h, rng, 12)  # rows 0..1 = A, rows 10..11 = old destination contents
    h.run(set_regs(gp1=TILE + column, gp2=0, gp3=10 * M + 4))
    stats = h.run("M_MM 0, gp1, gp2")
    want = exact_f32(a[:2] @ tile[:, column : column + B])
    assert_same(h.sim.state.m_accum, want, "m_accum")
    assert stats.cycles == 64
    stats = h.run("M_MM_WO gp3, gp0, 0")
    rows = h.sim.read_vram(10 * M, 2)
    expected_rows = a[10:12].astype(F32)
    expected_rows[:, 4:6] = bf16(want)
    assert_same(rows, expected_rows, "written rows (only lanes 4, 5 change)")
    assert not h.sim.state.m_accum.any() and stats.cycles == 1


@covers("M_MM", "M_MM_WO")
def test_k_accumulation_over_several_m_mm_then_one_write_out(machine, rng):
    """Three M_MM (K = 3M) accumulate into m_accum; one M_MM_WO rounds once to bf16."""
    h = machine()
    tiles = load_tiles(h, rng, 3)
    a = load_rows(h, rng, 6)  # A_k = rows 2k, 2k+1
    asm = set_regs(gp10=20 * M + 8)
    for k in range(3):
        asm += set_regs(gp1=k * TILE + 8, gp2=2 * k * M) + "M_MM 0, gp1, gp2\n"
    h.run(asm)
    want = exact_f32(sum(a[2 * k : 2 * k + 2] @ tiles[k][:, 8:10] for k in range(3)))
    assert_same(h.sim.state.m_accum, want, "m_accum")
    h.run("M_MM_WO gp10, gp0, 0")
    assert_same(h.sim.read_vram(20 * M, 2)[:, 8:10], bf16(want), "written block")


@covers("M_MM", "M_MM_WO")
def test_m_mm_wo_with_stride_register_and_immediate(machine, rng):
    """d = gp[rd] + imm2; with a non-zero rs1 field row i goes to base + i*M*gp[rs1]."""
    h = machine()
    tile = load_tiles(h, rng, 1)[0]
    a = load_rows(h, rng, 40)  # rows 30..39 hold old contents
    h.run(set_regs(gp1=0, gp2=0, gp3=30 * M, gp4=3) + "M_MM 0, gp1, gp2\n")
    want = bf16(exact_f32(a[:2] @ tile[:, :B]))
    h.run("M_MM_WO gp3, gp4, 6")
    got = h.sim.read_vram(30 * M, 10)
    expected = a[30:40].astype(F32)
    expected[0, 6:8], expected[3, 6:8] = want[0], want[1]
    assert_same(got, expected, "rows 30 and 33, lanes 6..7")


@covers("M_MM", "M_MM_WO")
def test_m_mm_wo_stride_register_holding_zero_writes_one_row(machine, rng):
    """A3.2: if gp[rs1] = 0 every row lands on the same VRAM row; the last one stays."""
    h = machine()
    tile = load_tiles(h, rng, 1)[0]
    a = load_rows(h, rng, 2)
    h.run(set_regs(gp1=0, gp2=0, gp3=5 * M, gp4=0) + "M_MM 0, gp1, gp2\nM_MM_WO gp3, gp4, 0")
    want = bf16(exact_f32(a[:2] @ tile[:, :B]))
    assert_same(h.sim.read_vram(5 * M, 2)[:, :2], [want[1], [0, 0]], "row 5 lanes 0..1")


@covers("M_TMM", "M_MM", "M_MM_WO")
def test_m_tmm_row_offset_and_mixing_with_m_mm(machine, rng):
    """M_TMM (rs1 = VRAM, rs2 = MRAM): acc += A x TILE[r:r+B, :]^T with o = r*M, r = 4;
    mixing it with M_MM before one write-out is legal (same accumulator)."""
    h = machine()
    tile = load_tiles(h, rng, 1)[0]
    a = load_rows(h, rng, 2)
    h.run(set_regs(gp1=4 * M, gp2=0, gp3=0, gp5=8 * M))
    stats = h.run("M_TMM 0, gp2, gp1")
    tmm = exact_f32(a @ tile[4:6, :].T)
    assert_same(h.sim.state.m_accum, tmm, "m_accum after M_TMM")
    assert stats.cycles == 64
    h.run("M_MM 0, gp3, gp2\nM_MM_WO gp5, gp0, 0")
    both = exact_f32(a @ tile[4:6, :].T + a @ tile[:, :B])
    assert_same(h.sim.read_vram(8 * M, 2)[:, :2], bf16(both), "written block")


@covers("M_TMM_A")
def test_m_tmm_a_executes_as_m_mm(machine, rng):
    """A6.2 #1: M_TMM_A uses M_MM's operands, numbers and 64-cycle cost (no transpose)."""
    h = machine()
    tile = load_tiles(h, rng, 1)[0]
    a = load_rows(h, rng, 2)
    h.run(set_regs(gp1=6, gp2=0))
    stats = h.run("M_TMM_A 0, gp1, gp2")
    assert_same(h.sim.state.m_accum, exact_f32(a @ tile[:, 6:8]), "m_accum")
    assert stats.cycles == 64


@covers("M_MV", "M_MV_WO")
def test_m_mv_accumulates_and_m_mv_wo_writes_b_lanes(machine, rng):
    h = machine()
    tiles = load_tiles(h, rng, 2)
    x = load_rows(h, rng, 32)  # rows 0, 1 = x0, x1; row 30 = old destination
    h.run(set_regs(gp1=6, gp2=0, gp3=TILE + 6, gp4=M, gp5=30 * M + 10))
    stats = h.run("M_MV gp0, gp1, gp2\nM_MV gp0, gp3, gp4")
    want = exact_f32(x[0] @ tiles[0][:, 6:8] + x[1] @ tiles[1][:, 6:8])
    assert_same(h.sim.state.v_accum, want, "v_accum")
    assert stats.cycles == 2 * 64
    stats = h.run("M_MV_WO gp5, 0")
    expected = x[30].astype(F32)
    expected[10:12] = bf16(want)
    assert_same(h.sim.read_vram(30 * M, 1)[0], expected, "row 30")
    assert not h.sim.state.v_accum.any() and stats.cycles == 1


@covers("M_MV", "M_MV_WO")
def test_write_out_immediate_arrives_divided_by_32(machine, rng):
    """A1.3/A6.1 #11: the word the published assembler makes for `M_MV_WO gp5, 64`
    (0x0002014B) executes with imm2 = 2, so lanes 2..3 are written."""
    h = machine()
    tile = load_tiles(h, rng, 1)[0]
    x = load_rows(h, rng, 1)
    h.run(set_regs(gp1=0, gp2=0, gp5=0) + "M_MV gp0, gp1, gp2")
    h.run([0x0002014B])
    want = bf16(exact_f32(x[0] @ tile[:, :B]))
    assert_same(h.sim.read_vram(0, 1)[0, 2:4], want, "lanes 2..3 of row 0")


@covers("M_TMV", "M_MV_WO")
def test_m_tmv_uses_tile_rows_0_to_b(machine, rng):
    h = machine()
    tile = load_tiles(h, rng, 2)[1]
    x = load_rows(h, rng, 1)
    h.run(set_regs(gp1=TILE, gp2=0, gp3=3 * M + 60))
    stats = h.run("M_TMV 0, gp1, gp2")
    want = exact_f32(x[0] @ tile[:B, :].T)
    assert_same(h.sim.state.v_accum, want, "v_accum")
    assert stats.cycles == 64
    h.run("M_MV_WO gp3, 0")
    assert_same(h.sim.read_vram(3 * M, 1)[0, 60:62], bf16(want), "lanes 60..61 of row 3")


def _lanes(x: np.ndarray) -> np.ndarray:
    """(n, M) -> (L, n, H): lane l = columns l*H .. l*H+H-1."""
    return x.reshape(len(x), L, H).transpose(1, 0, 2)


@covers("M_BTMM", "M_BMM_WO")
def test_m_btmm_lane_paired_and_m_bmm_wo(machine, rng):
    """hm[l] += Q_l K_l^T (lane l uses columns l*H.. of both Q rows and the tile), twice;
    M_BMM_WO writes hm[l][i] to VROW(d + (l*M + i)*M) and clears hm_accum."""
    h = machine()
    tiles = load_tiles(h, rng, 2)
    q = load_rows(h, rng, 2 * M)  # Q0 = rows 0..63, Q1 = rows 64..127
    h.run(set_regs(gp1=0, gp2=0, gp3=TILE, gp4=M * M, gp6=256 * M))
    stats = h.run("M_BTMM gp0, gp1, gp2\nM_BTMM gp0, gp3, gp4")
    want = exact_f32(
        _lanes(q[:M]) @ _lanes(tiles[0]).transpose(0, 2, 1)
        + _lanes(q[M:]) @ _lanes(tiles[1]).transpose(0, 2, 1)
    )
    assert_same(h.sim.state.hm_accum, want, "hm_accum")
    assert stats.cycles == 2 * 64
    stats = h.run("M_BMM_WO gp6, 0")
    assert_same(h.sim.read_vram(256 * M, L * M), bf16(want).reshape(L * M, M), "rows")
    assert not h.sim.state.hm_accum.any() and stats.cycles == 1


@covers("M_BMM", "M_BMM_WO")
def test_m_bmm_lane_paired(machine, rng):
    """hm[l] += X_l (M x H, columns l*H..) x TILE[l*H : l*H+H, :] (H x M)."""
    h = machine()
    tile = load_tiles(h, rng, 1)[0]
    x = load_rows(h, rng, M)
    h.run(set_regs(gp1=0, gp2=0, gp6=M * M))
    stats = h.run("M_BMM 0, gp1, gp2")
    want = exact_f32(_lanes(x) @ tile.reshape(L, H, M))
    assert_same(h.sim.state.hm_accum, want, "hm_accum")
    assert stats.cycles == 64
    h.run("M_BMM_WO gp6, 0")
    assert_same(h.sim.read_vram(M * M, L * M), bf16(want).reshape(L * M, M), "rows")


@covers("M_BTMV", "M_BMV_WO")
def test_m_btmv_adds_rd_to_the_mram_address_and_m_bmv_wo(machine, rng):
    """MRAM address = gp[rs1] + gp[rd] (tile 2 here); hv[l] += q_l K_l^T; 1 cycle.
    M_BMV_WO writes hv[l] to VROW(d + l*M)."""
    h = machine()
    tile = load_tiles(h, rng, 3)[2]
    q = load_rows(h, rng, 1)
    h.run(set_regs(gp1=TILE, gp3=TILE, gp2=0, gp7=40 * M))
    stats = h.run("M_BTMV gp3, gp1, gp2\nM_BTMV gp3, gp1, gp2")
    want = exact_f32(2 * (_lanes(q) @ _lanes(tile).transpose(0, 2, 1))[:, 0, :])
    assert_same(h.sim.state.hv_accum, want, "hv_accum")
    assert stats.cycles == 2
    stats = h.run("M_BMV_WO gp7, 0")
    assert_same(h.sim.read_vram(40 * M, L), bf16(want), "rows 40..43")
    assert not h.sim.state.hv_accum.any() and stats.cycles == 1


@covers("M_BMV")
def test_m_bmv_always_aborts(machine):
    h = machine()
    h.expect_abort("S_ADDI_INT gp1, gp0, 0\nM_BMV gp0, gp1, gp1", pc=1)


def _abort_case(mnemonic: str, program: str, regs: dict, case_id: str):
    return pytest.param(program, regs, marks=covers(mnemonic), id=case_id)


ABORTS = [
    _abort_case("M_MM", "M_MM 0, gp1, gp2", {"gp1": 0, "gp2": 32}, "mm-vram-misaligned"),
    _abort_case("M_MM", "M_MM 0, gp1, gp2", {"gp1": 1, "gp2": 0}, "mm-column-not-multiple-of-B"),
    _abort_case("M_MM", "M_MM 0, gp1, gp2", {"gp1": M, "gp2": 0}, "mm-column-ge-M"),
    _abort_case("M_MM", "M_MM 0, gp1, gp2", {"gp1": 512 * TILE, "gp2": 0}, "mm-tile-past-end"),
    _abort_case(
        "M_MM", "M_MM 0, gp1, gp2", {"gp1": 0, "gp2": (131072 - 1) * M}, "mm-vram-rows-past-end"
    ),
    _abort_case("M_TMM_A", "M_TMM_A 0, gp1, gp2", {"gp1": 3, "gp2": 0}, "tmm_a-column"),
    _abort_case("M_TMM", "M_TMM 0, gp2, gp1", {"gp1": 2, "gp2": 0}, "tmm-offset-not-row"),
    _abort_case(
        "M_TMM", "M_TMM 0, gp2, gp1", {"gp1": 3 * M, "gp2": 0}, "tmm-row-not-multiple-of-B"
    ),
    _abort_case("M_MV", "M_MV 0, gp1, gp2", {"gp1": M, "gp2": 0}, "mv-column-ge-M"),
    _abort_case("M_MV", "M_MV 0, gp1, gp2", {"gp1": 0, "gp2": 8}, "mv-vram-misaligned"),
    _abort_case("M_TMV", "M_TMV 0, gp1, gp2", {"gp1": M, "gp2": 0}, "tmv-not-tile-aligned"),
    _abort_case("M_BTMM", "M_BTMM gp0, gp1, gp2", {"gp1": 2, "gp2": 0}, "btmm-not-tile-aligned"),
    _abort_case("M_BMM", "M_BMM 0, gp1, gp2", {"gp1": M, "gp2": 0}, "bmm-not-tile-aligned"),
    _abort_case(
        "M_BTMV", "M_BTMV gp3, gp1, gp2", {"gp1": TILE, "gp2": 0, "gp3": M}, "btmv-not-tile-aligned"
    ),
    _abort_case("M_MM_WO", "M_MM_WO gp1, gp0, 0", {"gp1": 1}, "mm_wo-column-misaligned"),
    _abort_case("M_MM_WO", "M_MM_WO gp1, gp0, 3", {"gp1": 0}, "mm_wo-imm-column-misaligned"),
    _abort_case("M_MV_WO", "M_MV_WO gp1, 0", {"gp1": 3}, "mv_wo-column-misaligned"),
    _abort_case("M_BMM_WO", "M_BMM_WO gp1, 0", {"gp1": 32}, "bmm_wo-not-row-aligned"),
    _abort_case("M_BMV_WO", "M_BMV_WO gp1, 0", {"gp1": 2}, "bmv_wo-not-row-aligned"),
]


@pytest.mark.parametrize(("program", "regs"), ABORTS)
def test_alignment_and_range_aborts(machine, program, regs):
    h = machine()
    h.run(set_regs(**regs))
    h.expect_abort(program, pc=0)


def test_m_mm_general_data_accumulates_in_f32(machine, rng):
    """General bf16 x E4M3 data (every exponent): f32 sums may depend on summation order,
    so this test runs the simulator alone (not through the bit-exact harness) and checks
    |m_accum - exact| <= 66 * 2^-24 * sum|a*b|, the f32 error bound of two 64-term dot
    products accumulated in any order, instead of bit equality.
    """
    h = machine()
    tiles = [e4m3_bytes(rng, (M, M), exponent_codes=range(15))]
    image, asm = mram_tiles_setup(tiles)
    h.load_hbm(image)
    h.run(asm)
    a = random_bf16(rng, (B, M), scale=3.0).astype(np.float64)
    h.load_vram(a)
    t = E4M3_VALUES[tiles[0]].astype(np.float64)
    h.sim.run(set_regs(gp1=0, gp2=0) + "M_MM 0, gp1, gp2\nM_MM 0, gp1, gp2")
    exact = 2 * (a @ t[:, :B])
    bound = 66 * 2.0**-24 * 2 * (np.abs(a) @ np.abs(t[:, :B]))
    err = np.abs(h.sim.state.m_accum.astype(np.float64) - exact)
    assert (err <= bound).all(), f"m_accum error {err} exceeds the f32 bound {bound}"
