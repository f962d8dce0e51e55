"""Vector element-wise ops, masks and reductions (plena-isa-tvm.md A3.3, A3.4, A3.8).

VRAM layout of these tests: A at row 0 (address 0), B at row 1 (64), the destination at
row 2 (128), prefilled with other data so a mask that left old contents would show.
"""

from __future__ import annotations

import numpy as np
import pytest

from .data import exact_bf16, load_fp, random_bf16, set_regs
from .harness import assert_same, covers, each_opcode
from .ref_numerics import bf16, f32_exp, fp16

F32 = np.float32
V, H = 64, 16
A_ADDR, B_ADDR, D_ADDR = 0, 64, 128

#: mnemonic -> (assembly with {m} for rmask, f32 semantics, A3.8 cycles)
ELEMENTWISE = {
    "V_ADD_VV": ("V_ADD_VV gp3, gp1, gp2, {m}", lambda a, b, f: a + b, 1),
    "V_SUB_VV": ("V_SUB_VV gp3, gp1, gp2, {m}", lambda a, b, f: a - b, 1),
    "V_MUL_VV": ("V_MUL_VV gp3, gp1, gp2, {m}", lambda a, b, f: a * b, 1),
    "V_ADD_VF": ("V_ADD_VF gp3, gp1, f1, {m}", lambda a, b, f: a + f, 1),
    "V_SUB_VF": ("V_SUB_VF gp3, gp1, f1, {m}, 0", lambda a, b, f: a - f, 1),
    "V_MUL_VF": ("V_MUL_VF gp3, gp1, f1, {m}", lambda a, b, f: a * f, 1),
    "V_EXP_V": ("V_EXP_V gp3, gp1, {m}", lambda a, b, f: f32_exp(a), 1),
    "V_RECI_V": ("V_RECI_V gp3, gp1, {m}", lambda a, b, f: F32(1) / a, 2),
}


def _setup(h, rng, vmask: int):
    """Rows A, B, old destination; f1 = a random fp16 scalar; gp1..gp3 = the addresses."""
    rows = random_bf16(rng, (3, V))
    scalar = F32(1.8125)
    h.load_vram(rows)
    h.load_fpram([scalar])
    h.run(
        set_regs(gp1=A_ADDR, gp2=B_ADDR, gp3=D_ADDR, gp4=vmask)
        + "C_SET_V_MASK_REG gp4\n"
        + load_fp(0)
    )
    return rows[0], rows[1], scalar


def _expected(mnemonic, a, b, f):
    with np.errstate(all="ignore"):
        return np.asarray(ELEMENTWISE[mnemonic][1](a, b, f), dtype=F32)


def _heads(mask_bits):
    lanes = np.zeros(V, dtype=bool)
    for h in mask_bits:
        lanes[h * H : (h + 1) * H] = True
    return lanes


@pytest.mark.parametrize("mnemonic", each_opcode(ELEMENTWISE))
def test_unmasked_op_writes_whole_row_and_ignores_v_mask(machine, rng, mnemonic):
    """rmask 0 processes the whole row even with V_MASK != 0; result rounded once to bf16."""
    h = machine()
    a, b, f = _setup(h, rng, vmask=0b0101)
    stats = h.run(ELEMENTWISE[mnemonic][0].format(m=0))
    assert_same(h.sim.read_vram(D_ADDR, 1)[0], bf16(_expected(mnemonic, a, b, f)), mnemonic)
    assert stats.cycles == ELEMENTWISE[mnemonic][2]


@pytest.mark.parametrize("mnemonic", each_opcode(ELEMENTWISE))
def test_masked_op_fills_unmasked_heads_from_rs1(machine, rng, mnemonic):
    """rmask 1: heads with a V_MASK bit get the result, the others the rs1 source lanes
    (not the old destination); bits >= V/H are ignored; the cost is unchanged."""
    h = machine()
    a, b, f = _setup(h, rng, vmask=0xFFFFFFF0 | 0b1010)
    stats = h.run(ELEMENTWISE[mnemonic][0].format(m=1))
    want = np.where(_heads([1, 3]), bf16(_expected(mnemonic, a, b, f)), a)
    assert_same(h.sim.read_vram(D_ADDR, 1)[0], want, mnemonic)
    assert stats.cycles == ELEMENTWISE[mnemonic][2]


@pytest.mark.parametrize("mnemonic", each_opcode(ELEMENTWISE))
def test_zero_v_mask_with_rmask_copies_rs1(machine, rng, mnemonic):
    h = machine()
    a, _, _ = _setup(h, rng, vmask=0)
    h.run(ELEMENTWISE[mnemonic][0].format(m=1))
    assert_same(h.sim.read_vram(D_ADDR, 1)[0], a, mnemonic)


@covers("V_SUB_VF")
def test_v_sub_vf_order_operand(machine, rng):
    """funct1 0: A - f; any other value: f - A (A1.3, the decoder tests funct1 != 0)."""
    h = machine()
    a, _, f = _setup(h, rng, vmask=0)
    h.run("V_SUB_VF gp3, gp1, f1, 0, 1")
    assert_same(h.sim.read_vram(D_ADDR, 1)[0], bf16(f - a), "order 1")
    h.run("V_SUB_VF gp3, gp1, f1, 0, 0")
    assert_same(h.sim.read_vram(D_ADDR, 1)[0], bf16(a - f), "order 0")
    # funct1 = 3 can only come from a word: V_SUB_VF gp3, gp1, f1, 0, 3
    word = 0x10 | 3 << 6 | 1 << 11 | 1 << 16 | 3 << 26
    h.run([word])
    assert_same(h.sim.read_vram(D_ADDR, 1)[0], bf16(f - a), "order 3")


@covers("V_ADD_VV", "V_MUL_VF")
def test_in_place_and_zeroing_idiom(machine, rng):
    """Source and destination may alias; `V_MUL_VF r, r, f0, 0` zeroes finite rows."""
    h = machine()
    a, b, _ = _setup(h, rng, vmask=0)
    h.run("V_ADD_VV gp1, gp1, gp2, 0")
    assert_same(h.sim.read_vram(A_ADDR, 1)[0], bf16(a + b), "in place")
    h.run("V_MUL_VF gp1, gp1, f0, 0")
    assert_same(h.sim.read_vram(A_ADDR, 1)[0], bf16(bf16(a + b) * F32(0)), "times f0")


@covers("V_EXP_V", "V_RECI_V")
def test_exp_has_no_clamp_and_reciprocal_of_zero_is_inf(machine):
    """A3.3: e^89 overflows f32 to +inf (MAIN's clamp at 88 would give 1.65e38);
    e^-110 underflows to 0; 1/0 = inf, 1/-0 = -inf."""
    h = machine()
    row = np.zeros(V, dtype=F32)
    row[:6] = [89.0, 100.0, -110.0, 0.0, -0.0, 88.0]
    h.load_vram(row[None])
    h.run(set_regs(gp1=0, gp2=64, gp3=128) + "V_EXP_V gp2, gp1, 0\nV_RECI_V gp3, gp1, 0\n")
    exp_row, reci_row = h.sim.read_vram(64, 2)
    assert exp_row[0] == np.inf and exp_row[1] == np.inf and exp_row[2] == 0
    assert exp_row[5] == bf16(F32(np.exp(88.0)))
    assert reci_row[3] == np.inf and reci_row[4] == -np.inf


@pytest.mark.parametrize(
    "program",
    [
        # gp1 = 32 is not V-aligned
        pytest.param("V_ADD_VV gp3, gp1, gp2, 0", marks=covers("V_ADD_VV"), id="misaligned"),
        # gp4 = one row past the end of VRAM
        pytest.param("V_EXP_V gp4, gp2, 0", marks=covers("V_EXP_V"), id="past-end"),
        pytest.param("V_RED_SUM f1, gp1, 0", marks=covers("V_RED_SUM"), id="reduction"),
    ],
)
def test_vram_alignment_and_range_abort(machine, program):
    h = machine()
    h.run(set_regs(gp1=32, gp2=64, gp3=128, gp4=h.target.vram_rows * V))
    h.expect_abort(program, 0)


# ------------------------------------------------------------------------------ reductions
def _reduction_setup(h, rng, f_init: float, vmask: int):
    """Row A of exact data (any summation order gives the same f32); f1 = f_init."""
    row = exact_bf16(rng, (1, V), exponents=(-2, -1, 0, 1))
    h.load_vram(row)
    h.load_fpram([f_init])
    h.run(set_regs(gp1=A_ADDR, gp4=vmask) + "C_SET_V_MASK_REG gp4\n" + load_fp(0))
    return row[0], F32(fp16(f_init))


def _sum(values) -> F32:
    return F32(np.sum(values.astype(np.float64)))  # exact for this data


@covers("V_RED_SUM")
def test_v_red_sum_accumulates_into_fp16_register(machine, rng):
    """f1 = fp16(f1 + sum(A)), twice; the cost is 8 cycles each."""
    h = machine()
    a, f = _reduction_setup(h, rng, f_init=3.140625, vmask=0)
    stats = h.run("V_RED_SUM f1, gp1, 0\nV_RED_SUM f1, gp1, 0")
    once = fp16(F32(f + _sum(a)))
    assert_same(h.sim.state.fp[1], fp16(F32(once + _sum(a))), "f1")
    assert stats.cycles == 16


@covers("V_RED_SUM")
def test_v_red_sum_masked_adds_only_selected_heads(machine, rng):
    """TVM masking is correct: f + sum of heads 1 and 2 (in increasing head order)."""
    h = machine()
    a, f = _reduction_setup(h, rng, f_init=-0.5, vmask=0b0110)
    stats = h.run("V_RED_SUM f1, gp1, 1")
    want = fp16(F32(F32(f + _sum(a[16:32])) + _sum(a[32:48])))
    assert_same(h.sim.state.fp[1], want, "f1")
    assert stats.cycles == 8


@covers("V_RED_SUM")
def test_v_red_sum_overflows_fp16_to_inf(machine):
    """64 x 2048 = 131072 >= 65520 rounds to +inf in the fp16 register."""
    h = machine()
    h.load_vram(np.full((1, V), 2048.0, dtype=F32))
    h.run(set_regs(gp1=0) + "V_RED_SUM f2, gp1, 0")
    assert h.sim.state.fp[2] == np.inf


@covers("V_RED_MAX")
def test_v_red_max_unmasked_and_masked(machine, rng):
    h = machine()
    a, f = _reduction_setup(h, rng, f_init=-100.0, vmask=0b1001)
    stats = h.run("V_RED_MAX f1, gp1, 0")
    assert_same(h.sim.state.fp[1], fp16(a.max()), "unmasked max")
    assert stats.cycles == 4
    h.run(set_regs(gp2=0) + "S_LD_FP f2, gp2, 0\nV_RED_MAX f2, gp1, 1")
    assert_same(h.sim.state.fp[2], fp16(max(a[:16].max(), a[48:].max())), "masked max")


@covers("V_RED_MAX")
def test_v_red_max_keeps_larger_register_value(machine, rng):
    h = machine()
    _, f = _reduction_setup(h, rng, f_init=1000.0, vmask=0)
    h.run("V_RED_MAX f1, gp1, 0")
    assert h.sim.state.fp[1] == f == 1000.0


@covers("V_RED_MAX")
def test_v_red_max_nan_lane_yields_register_value(machine):
    """A3.4: the lane max propagates NaN (torch), the max with f[rd] ignores it (Rust),
    so a row holding a NaN leaves f[rd] unchanged even when other lanes are larger."""
    h = machine()
    row = np.full((1, V), 5.0, dtype=F32)
    row[0, 7] = np.nan
    h.load_vram(row)
    h.load_fpram([2.0])
    h.run(set_regs(gp1=0) + load_fp(0) + "V_RED_MAX f1, gp1, 0")
    assert h.sim.state.fp[1] == 2.0


@covers("V_RED_SUM", "V_RED_MAX")
def test_reductions_into_f0_are_free_no_ops(machine):
    """rd = f0: no VRAM read, no alignment check, no write, 0 cycles (A3.4)."""
    h = machine()
    h.load_fpram([7.5])
    h.run(set_regs(gp1=32, gp2=0) + "S_LD_FP f0, gp2, 0")
    stats = h.run("V_RED_SUM f0, gp1, 0\nV_RED_MAX f0, gp1, 1")
    assert h.sim.state.fp[0] == 7.5
    assert stats.cycles == 0
