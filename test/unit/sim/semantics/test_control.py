"""Control registers, hardware loops, C_BREAK, invalid words and register-index aborts
(plena-isa-tvm.md A1.6, A2, A3.7, A3.9; plena-isa.md 6)."""

from __future__ import annotations

import pytest

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import encode
from plena_mlir.target import PLENA_TVM

from .data import set_gp, set_regs
from .harness import covers

U32 = 0xFFFFFFFF


def gp(h, index: int) -> int:
    return int(h.sim.state.gp[index])


def test_reset_state(machine):
    """A fresh machine: GP/FP/address registers 0, SCALE 0, STRIDE 1, V_MASK 0."""
    h = machine()
    s = h.sim.state
    assert [int(v) for v in s.gp] == [0] * 32 and [int(v) for v in s.areg] == [0] * 8
    assert not s.fp.any() and (s.scale, s.stride, s.vmask) == (0, 1, 0)
    assert not (s.m_accum.any() or s.v_accum.any() or s.hm_accum.any() or s.hv_accum.any())


@covers("S_ADDI_INT")
def test_run_keeps_state_between_programs(machine):
    h = machine()
    h.run("S_ADDI_INT gp1, gp1, 5")
    stats = h.run("S_ADDI_INT gp1, gp1, 5")
    assert gp(h, 1) == 10 and stats.instructions == 1 and stats.cycles == 1


@covers("S_ADDI_INT", "S_MUL_INT")
@pytest.mark.parametrize("form", ["text", "instructions", "words"])
def test_program_forms_run_alike(machine, form):
    """A program may be assembly text, Instruction records or 32-bit words."""
    text = "S_ADDI_INT gp1, gp0, 300\nS_ADDI_INT gp2, gp0, 7\nS_MUL_INT gp3, gp1, gp2"
    program = {
        "text": text,
        "instructions": parse_asm(text, PLENA_TVM),
        "words": [encode(i, PLENA_TVM) for i in parse_asm(text, PLENA_TVM)],
    }[form]
    h = machine()
    stats = h.run(program)
    assert gp(h, 3) == 2100 and stats.instructions == 3 and stats.cycles == 3


@covers("C_SET_ADDR_REG", "C_SET_SCALE_REG", "C_SET_STRIDE_REG", "C_SET_V_MASK_REG")
def test_set_control_registers(machine):
    """a[rd] = gp[rs1] * 2^32 + gp[rs2]; SCALE/STRIDE/V_MASK = gp[rd]; 1 cycle each."""
    h = machine()
    h.run(set_regs(gp1=0x00000003, gp2=0xDEADBEEF, gp3=0xFFFFFFFF, gp4=0x80000001))
    stats = h.run(
        "C_SET_ADDR_REG a7, gp1, gp2\nC_SET_ADDR_REG a0, gp0, gp3\n"
        "C_SET_SCALE_REG gp2\nC_SET_STRIDE_REG gp3\nC_SET_V_MASK_REG gp4\n"
    )
    s = h.sim.state
    assert int(s.areg[7]) == 0x3_DEADBEEF and int(s.areg[0]) == 0xFFFFFFFF
    assert (s.scale, s.stride, s.vmask) == (0xDEADBEEF, 0xFFFFFFFF, 0x80000001)
    assert stats.cycles == 5


@covers("C_LOOP_START", "C_LOOP_END")
def test_loop_body_runs_n_times_and_sees_counter_n_to_1(machine):
    """The body stores gp1 (the loop register) to INTRAM[i]: N, N-1, ..., 1; afterwards
    gp1 = 0.  Cycles: C_LOOP_START once, the body and C_LOOP_END N times."""
    h = machine()
    h.run(set_gp(2, 0))
    stats = h.run(
        "C_LOOP_START gp1, 5\nS_ST_INT gp1, gp2, 0\nS_ADDI_INT gp2, gp2, 1\nC_LOOP_END gp1"
    )
    assert [int(v) for v in h.sim.state.intram[:6]] == [5, 4, 3, 2, 1, 0]
    assert gp(h, 1) == 0 and gp(h, 2) == 5
    assert stats.cycles == 1 + 5 * 3 and stats.per_opcode["C_LOOP_END"] == 5


@covers("C_LOOP_START", "C_LOOP_END")
def test_nested_loops(machine):
    h = machine()
    stats = h.run(
        "C_LOOP_START gp1, 3\n"
        "  S_ADDI_INT gp3, gp3, 1\n"
        "  C_LOOP_START gp2, 4\n"
        "    S_ADDI_INT gp4, gp4, 1\n"
        "  C_LOOP_END gp2\n"
        "C_LOOP_END gp1\n"
    )
    assert (gp(h, 3), gp(h, 4), gp(h, 1), gp(h, 2)) == (3, 12, 0, 0)
    assert stats.cycles == 1 + 3 * (1 + 1 + 4 * 2 + 1)


@covers("C_LOOP_START", "C_LOOP_END")
def test_loops_closed_out_of_order(machine):
    """C_LOOP_END finds the newest frame of its register, wherever it is on the stack.

    The outer loop (gp1) closes first; each of its 3 iterations re-runs the inner
    C_LOOP_START (gp2, 1), so 3 gp2 frames are open when gp1's loop ends.  The two
    C_LOOP_END gp2 then each remove the newest one and fall through (gp2 <= 1); the third
    frame stays open when the program ends, which is allowed.
    """
    h = machine()
    h.run(
        "C_LOOP_START gp1, 3\nC_LOOP_START gp2, 1\nS_ADDI_INT gp3, gp3, 1\nC_LOOP_END gp1\n"
        "C_LOOP_END gp2\nC_LOOP_END gp2\nS_ADDI_INT gp4, gp4, 1"
    )
    assert (gp(h, 1), gp(h, 2), gp(h, 3), gp(h, 4)) == (0, 0, 3, 1)


@covers("C_LOOP_START", "C_LOOP_END")
def test_loop_end_reads_the_current_register_value(machine):
    """The body may change the counter: setting it to 0 ends the loop after this pass."""
    h = machine()
    h.run("C_LOOP_START gp1, 100\nS_ADDI_INT gp2, gp2, 1\nS_LUI_INT gp1, 0\nC_LOOP_END gp1")
    assert (gp(h, 1), gp(h, 2)) == (0, 1)


@covers("C_LOOP_START")
def test_loop_start_with_zero_count_aborts(machine):
    """Only reachable from a word (the assembler rejects it): C_LOOP_START gp1, 0."""
    h = machine()
    h.expect_abort([0x22 | 5 << 6 | 1 << 16, 0x2F | 1 << 6], pc=1)  # ADDI gp5, gp0, 1; LOOP 0
    assert gp(h, 5) == 1


@covers("C_LOOP_END")
def test_loop_end_without_frame_aborts(machine):
    h = machine()
    h.expect_abort("C_LOOP_START gp1, 2\nC_LOOP_END gp1\nC_LOOP_END gp1", pc=2)
    h2 = machine()
    h2.expect_abort("C_LOOP_START gp1, 2\nC_LOOP_END gp2", pc=1)


@covers("C_BREAK", "C_LOOP_START", "C_LOOP_END")
def test_c_break_pops_the_innermost_loop_and_falls_through(machine):
    """C_BREAK zeroes the innermost loop's register, removes its frame and continues at
    pc + 1: the inner loop body runs once per outer iteration."""
    h = machine()
    stats = h.run(
        "C_LOOP_START gp1, 3\nC_LOOP_START gp2, 4\nS_ADDI_INT gp3, gp3, 1\nC_BREAK\n"
        "S_ADDI_INT gp4, gp4, 1\nC_LOOP_END gp1"
    )
    assert (gp(h, 1), gp(h, 2), gp(h, 3), gp(h, 4)) == (0, 0, 3, 3)
    assert stats.cycles == 1 + 3 * 5


@covers("C_BREAK")
def test_c_break_without_loop_aborts(machine):
    h = machine()
    h.expect_abort("S_ADDI_INT gp1, gp1, 1\nC_BREAK", pc=1)


@covers("C_BREAK", "C_LOOP_END")
def test_loop_end_after_break_aborts(machine):
    h = machine()
    h.expect_abort("C_LOOP_START gp1, 5\nC_BREAK\nC_LOOP_END gp1", pc=2)


def _limited(machine, limit: int):
    return machine(PLENA_TVM.with_overrides(max_loop_instructions=limit))


@covers("C_LOOP_START", "C_LOOP_END")
def test_loop_instruction_limit_allows_iterations_up_to_the_limit(machine):
    """Each iteration dispatches body + C_LOOP_END = 10 instructions, exactly the limit;
    the counter resets at every loop-back, so 50 iterations are fine."""
    h = _limited(machine, 10)
    h.run("C_LOOP_START gp1, 50\n" + "S_ADDI_INT gp2, gp2, 1\n" * 9 + "C_LOOP_END gp1")
    assert gp(h, 2) == 450


@covers("C_LOOP_START", "S_ADDI_INT")
def test_loop_instruction_limit_aborts_the_iteration_that_exceeds_it(machine):
    """The 11th instruction dispatched in one iteration (pc 11) exceeds a limit of 10."""
    h = _limited(machine, 10)
    h.expect_abort("C_LOOP_START gp1, 2\n" + "S_ADDI_INT gp2, gp2, 1\n" * 12 + "C_LOOP_END gp1", 11)


@covers("C_LOOP_START", "C_LOOP_END")
def test_loop_instruction_limit_counts_inner_loops_in_the_outer_iteration(machine):
    """Inner iterations of 2 instructions are fine, but one outer iteration dispatches
    1 + 8 * 2 + ... instructions: the outer frame exceeds 10 inside the inner loop."""
    h = _limited(machine, 10)
    program = (
        "C_LOOP_START gp1, 2\nC_LOOP_START gp2, 8\nS_ADDI_INT gp3, gp3, 1\n"
        "C_LOOP_END gp2\nC_LOOP_END gp1"
    )
    # outer frame counts: pc1 (1), then (pc2, pc3) x 4 -> 9, pc2 -> 10, pc3 -> 11: abort
    h.expect_abort(program, pc=3)
    assert gp(h, 3) == 5


@pytest.mark.parametrize("opcode", [0x00, 0x32, 0x33, 0x34, 0x3D, 0x3E, 0x3F])
def test_invalid_opcode_word_aborts_only_when_executed(machine, opcode):
    """A1.6: decoding never aborts; executing an unknown word does, after the
    instructions before it ran."""
    h = machine()
    err = h.expect_abort([0x22 | 1 << 6 | 9 << 16, opcode | 0xABC00], pc=1)
    assert err.pc == 1 and gp(h, 1) == 9


@pytest.mark.parametrize(
    "word",
    [
        pytest.param(0x17 | 9 << 6 | 1 << 11 | 2 << 16, marks=covers("S_ADD_FP"), id="f9"),
        pytest.param(0x2B | 8 << 6, marks=covers("C_SET_ADDR_REG"), id="a8"),
        pytest.param(0x0E | 12 << 16, marks=covers("V_ADD_VF"), id="f12-scalar"),
    ],
)
def test_fp_or_address_register_index_past_8_aborts(machine, word):
    """A3.9: FP and address register indices >= 8 abort (all 32 GP indices are valid)."""
    h = machine()
    h.expect_abort([0x22 | 1 << 6 | 9 << 16, word], pc=1)
