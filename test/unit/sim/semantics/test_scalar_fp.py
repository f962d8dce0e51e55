"""Scalar FP ops, FPRAM loads/stores and the FPRAM <-> VRAM maps (plena-isa-tvm.md A3.5).

FP registers and FPRAM hold IEEE fp16; each result is computed in f32 and rounded to fp16
(RNE), which for fp16 operands is the correctly rounded fp16 operation.
"""

from __future__ import annotations

import numpy as np
import pytest

from .data import load_fp, random_bf16, random_fp16, set_gp, set_regs
from .harness import assert_same, covers
from .ref_numerics import bf16, f32_exp, fp16

F32 = np.float32
V = 64
FP_ALU = ("S_ADD_FP", "S_SUB_FP", "S_MAX_FP", "S_MUL_FP", "S_EXP_FP", "S_RECI_FP", "S_SQRT_FP")


@covers("S_LD_FP", "S_ST_FP", "S_ADD_FP", "S_SUB_FP", "S_MUL_FP", "S_MAX_FP")
def test_binary_fp_ops_round_to_fp16(machine, rng):
    """16 random operand pairs; results stored to FPRAM[100 + 4i ..] and compared."""
    h = machine()
    values = random_fp16(rng, 32, scale=30.0)
    h.load_fpram(values)
    asm = set_regs(gp1=0, gp2=100)
    for i in range(16):
        asm += f"S_LD_FP f1, gp1, {2 * i}\nS_LD_FP f2, gp1, {2 * i + 1}\n"
        for j, op in enumerate(("S_ADD_FP", "S_SUB_FP", "S_MUL_FP", "S_MAX_FP")):
            asm += f"{op} f{3 + j}, f1, f2\nS_ST_FP f{3 + j}, gp2, {4 * i + j}\n"
    h.run(asm)
    a, b = values[0::2], values[1::2]
    want = np.stack([fp16(a + b), fp16(a - b), fp16(a * b), np.maximum(a, b)], axis=1)
    assert_same(h.sim.state.fpram[100:164], want.reshape(-1), "fpram results")


SPECIALS = [60000.0, 2.0, -4.0, 12.0, -18.0, 11.0, 0.0, -0.0, 0.25]


def _load_specials(h):
    h.load_fpram(SPECIALS)
    h.run(set_gp(1, 0))


@covers("S_ADD_FP", "S_MUL_FP")
def test_fp16_overflow_gives_inf(machine):
    h = machine()
    _load_specials(h)
    h.run(load_fp(0, 0, 1) + "S_ADD_FP f4, f1, f2\nS_MUL_FP f5, f1, f3\nS_MUL_FP f6, f1, f1")
    fp = h.sim.state.fp
    assert fp[4] == np.inf and fp[5] == np.inf and fp[6] == np.inf


@covers("S_EXP_FP")
def test_s_exp_fp_has_no_clamp(machine):
    """e^12 > 65504 -> inf; e^-18 -> 0 (below half the smallest fp16 subnormal);
    e^11 = 59874.1 -> 59872; the compiler's trailing `, 0` operand is accepted."""
    h = machine()
    _load_specials(h)
    h.run(load_fp(3, 4, 5))
    stats = h.run("S_EXP_FP f4, f1, 0\nS_EXP_FP f5, f2\nS_EXP_FP f6, f3")
    fp = h.sim.state.fp
    assert fp[4] == np.inf and fp[5] == 0 and fp[6] == 59872.0
    assert_same(fp[6], fp16(f32_exp(F32(11.0))), "e^11")
    assert stats.cycles == 3


@covers("S_RECI_FP", "S_SQRT_FP", "S_MAX_FP")
def test_reciprocal_sqrt_and_nan_ignoring_max(machine):
    """1/0 = inf, 1/-0 = -inf, sqrt(-4) = NaN, max(NaN, 2) = max(2, NaN) = 2."""
    h = machine()
    _load_specials(h)
    h.run(
        load_fp(6, 7, 2, 1, 8)
        + "S_RECI_FP f6, f1\nS_RECI_FP f7, f2\nS_SQRT_FP f3, f3\n"
        + "S_MAX_FP f1, f3, f4\nS_MAX_FP f2, f4, f3\nS_SQRT_FP f5, f5\n"
    )
    fp = h.sim.state.fp
    assert fp[6] == np.inf and fp[7] == -np.inf and np.isnan(fp[3])
    assert fp[1] == 2.0 and fp[2] == 2.0 and fp[5] == 0.5


@covers(*FP_ALU)
def test_fp_alu_ops_into_f0_are_skipped(machine):
    """A3.5: the seven ALU ops with rd = f0 write nothing and cost 0 cycles."""
    h = machine()
    h.load_fpram([7.5, 2.0])
    h.run(set_gp(1, 0) + "S_LD_FP f0, gp1, 0\nS_LD_FP f1, gp1, 1")
    assert h.sim.state.fp[0] == 7.5  # S_LD_FP may write f0
    stats = h.run(
        "S_ADD_FP f0, f1, f1\nS_SUB_FP f0, f1, f0\nS_MAX_FP f0, f1, f1\nS_MUL_FP f0, f1, f1\n"
        "S_EXP_FP f0, f1\nS_RECI_FP f0, f1\nS_SQRT_FP f0, f1\n"
    )
    assert h.sim.state.fp[0] == 7.5
    assert stats.cycles == 0


@covers("S_ADD_FP", "S_EXP_FP")
def test_fp_alu_op_into_f0_reads_no_register(machine):
    """Skipped means skipped: with rd = f0 even a source index >= 8 (only possible in a
    word) does not abort, unlike the same op with rd = f1."""
    h = machine()
    h.run([0x17 | 9 << 11 | 1 << 16, 0x1B | 12 << 11])  # S_ADD_FP f0, f9, f1; S_EXP_FP f0, f12
    h.expect_abort([0x17 | 1 << 6 | 9 << 11 | 1 << 16], pc=0)  # S_ADD_FP f1, f9, f1


@covers("S_LD_FP", "S_ST_FP")
def test_fpram_index_wraps_in_u32_and_reaches_the_last_entry(machine):
    h = machine()
    h.load_fpram([0.0, 1.5])
    stats = h.run(
        set_regs(gp1=0xFFFFFFFF, gp2=65535)
        + "S_LD_FP f1, gp1, 2\nS_ST_FP f1, gp2, 0\nS_LD_FP f2, gp2, 0"
    )
    assert h.sim.state.fp[1] == 1.5 and h.sim.state.fpram[65535] == 1.5
    assert stats.cycles == 4 + 3


@pytest.mark.parametrize(
    "program",
    [
        pytest.param("S_LD_FP f1, gp1, 1", marks=covers("S_LD_FP"), id="load"),
        pytest.param("S_ST_FP f1, gp1, 1", marks=covers("S_ST_FP"), id="store"),
    ],
)
def test_fpram_index_out_of_range_aborts(machine, program):
    h = machine()
    h.run(set_gp(1, 65535))
    h.expect_abort(program, 0)


@covers("S_MAP_V_FP")
def test_s_map_v_fp_rounds_fp16_to_bf16(machine, rng):
    """VROW(gp[rd]) = bf16(FPRAM[gp[rs1] + imm ..+V]); 2V = 128 cycles."""
    h = machine()
    window = random_fp16(rng, V, scale=100.0)
    window[:7] = [1 + 2**-10, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-10, 2**-24, 65504, -3.0]
    h.load_fpram(np.concatenate([np.zeros(1024, dtype=F32), window]))
    h.run(set_regs(gp1=1000, gp2=5 * V))
    stats = h.run("S_MAP_V_FP gp2, gp1, 24")
    row = h.sim.read_vram(5 * V, 1)[0]
    assert list(row[:7]) == [1.0, 1.0, 1 + 2**-6, 1 + 2**-7, 2**-24, 65536.0, -3.0]
    assert_same(row, bf16(window), "mapped row")
    assert stats.cycles == 2 * V


@covers("S_MAP_FP_V")
def test_s_map_fp_v_rounds_bf16_to_fp16(machine, rng):
    """FPRAM[gp[rd] + imm ..+V] = fp16(VROW(gp[rs1])); V = 64 cycles."""
    h = machine()
    row = random_bf16(rng, V, scale=50.0)
    row[:5] = [65536.0, -3.0e5, 1e-8, 3.0e-5, 0.1]
    row = bf16(row)
    h.load_vram(np.stack([np.zeros(V, F32), row]))
    h.run(set_regs(gp1=2000, gp2=V))
    stats = h.run("S_MAP_FP_V gp1, gp2, 48")
    got = h.sim.state.fpram[2048 : 2048 + V]
    assert got[0] == np.inf and got[1] == -np.inf and got[2] == 0.0
    assert got[3] == np.float16(bf16(F32(3.0e-5)))  # an fp16 subnormal
    assert_same(got, fp16(row), "fpram window")
    assert stats.cycles == V


@pytest.mark.parametrize(
    "program",
    [
        pytest.param("S_MAP_V_FP gp2, gp1, 0", marks=covers("S_MAP_V_FP"), id="to-vram"),
        pytest.param("S_MAP_FP_V gp1, gp2, 0", marks=covers("S_MAP_FP_V"), id="to-fpram"),
    ],
)
def test_fp_map_window_past_fpram_end_aborts(machine, program):
    h = machine()
    h.run(set_regs(gp1=65536 - V, gp2=0))
    h.run(program)  # the last full window is legal
    h.run(set_gp(1, 65536 - V + 1))
    h.expect_abort(program, 0)


@pytest.mark.parametrize(
    "program",
    [
        pytest.param("S_MAP_V_FP gp2, gp1, 0", marks=covers("S_MAP_V_FP"), id="to-vram"),
        pytest.param("S_MAP_FP_V gp1, gp2, 0", marks=covers("S_MAP_FP_V"), id="from-vram"),
    ],
)
def test_fp_map_misaligned_vram_row_aborts(machine, program):
    h = machine()
    h.run(set_regs(gp1=0, gp2=V + 16))
    h.expect_abort(program, 0)
