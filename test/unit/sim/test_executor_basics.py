"""Smoke tests of the executor, its statistics and the Simulator API (the exhaustive
per-opcode semantics are in test/unit/sim/semantics)."""

import numpy as np
import pytest

from plena_mlir.isa.encoding import encode
from plena_mlir.isa.instruction import Instruction
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.errors import MachineFault, SimulationError
from plena_mlir.target import PLENA_TVM

STATS_KEYS = {
    "cycles",
    "instructions",
    "per_opcode",
    "per_class_cycles",
    "hbm_bytes_read",
    "hbm_bytes_written",
    "mac_utilisation",
}


def test_fresh_simulator_is_in_the_reset_state():
    s = Simulator().state
    assert s.gp == [0] * 32 and s.areg == [0] * 8
    assert (s.scale, s.stride, s.vmask) == (0, 1, 0)
    assert s.fp.dtype == np.float32 and not s.fp.any()
    assert s.vram.shape == (PLENA_TVM.vram_rows, 64) and s.mram.shape == (512, 64, 64)
    assert s.fpram.shape == (65536,) and s.intram.dtype == np.uint32
    assert s.hm_accum.shape == (4, 64, 64) and s.hv_accum.shape == (4, 64)


def test_scalar_loop_result_and_statistics():
    sim = Simulator()
    stats = sim.run(
        """
        S_ADDI_INT gp1, gp0, 5
        C_LOOP_START gp2, 3
        S_ADDI_INT gp1, gp1, 3
        C_LOOP_END gp2
        """
    )
    assert sim.state.gp[1] == 14 and sim.state.gp[2] == 0
    assert stats.instructions == 8 and stats.cycles == 8
    assert stats.per_opcode == {"S_ADDI_INT": 4, "C_LOOP_END": 3, "C_LOOP_START": 1}
    assert stats.per_class_cycles == {
        "MATRIX": 0, "VECTOR": 0, "SCALAR_FP": 0, "SCALAR_INT": 4, "HBM": 0, "CONTROL": 4
    }
    assert set(stats.to_json()) == STATS_KEYS
    assert sim.stats is stats


def test_words_instructions_and_text_run_alike():
    text = "S_LUI_INT gp3, 2\nS_ADDI_INT gp3, gp3, 7\nS_SLLI_INT gp4, gp3, 33\n"
    program = [Instruction("S_LUI_INT", (3, 2)), Instruction("S_ADDI_INT", (3, 3, 7)),
               Instruction("S_SLLI_INT", (4, 3, 33))]
    results = []
    for form in (text, program, [encode(i) for i in program]):
        sim = Simulator()
        sim.run(form)
        results.append(sim.state.gp[3:5])
    assert results == [[8199, 16398]] * 3


def test_runs_keep_state_and_reset_statistics():
    sim = Simulator()
    sim.run("S_ADDI_INT gp1, gp1, 10\n")
    stats = sim.run("S_ADDI_INT gp1, gp1, 10\nC_SET_STRIDE_REG gp1\n")
    assert sim.state.gp[1] == 20 and sim.state.stride == 20
    assert stats.instructions == 2


def test_loops_close_out_of_order_and_read_the_current_counter():
    # pass 1 adds gp2 = 3 to gp5, C_LOOP_END gp1 jumps back (gp1: 2 -> 1); pass 2 adds 3 and
    # closes the outer frame; gp6 += 1; C_LOOP_END gp2 jumps back (gp2: 3 -> 2); gp5 += 2;
    # the second C_LOOP_END gp1 then has no frame left.
    sim = Simulator()
    with pytest.raises(SimulationError) as err:
        sim.run(
            """
            C_LOOP_START gp1, 2
            C_LOOP_START gp2, 3
            S_ADD_INT gp5, gp5, gp2
            C_LOOP_END gp1
            S_ADDI_INT gp6, gp6, 1
            C_LOOP_END gp2
            """
        )
    e = err.value
    assert (e.pc, e.line, e.instruction) == (3, 5, "C_LOOP_END gp1")
    assert "no open loop" in e.reason
    # executed before the abort: gp5 += 3 twice, gp6 += 1, gp5 += 2
    assert sim.state.gp[5] == 8 and sim.state.gp[6] == 1


def test_c_break_pops_the_innermost_frame():
    sim = Simulator()
    sim.run(
        """
        C_LOOP_START gp1, 4
        C_LOOP_START gp2, 9
        C_BREAK
        S_ADDI_INT gp7, gp7, 1
        C_LOOP_END gp1
        """
    )
    # C_BREAK (0x31) zeroes gp2 and pops its frame each pass; the outer loop runs 4 times
    assert sim.state.gp[7] == 4 and sim.state.gp[2] == 0


@pytest.mark.parametrize("body, aborts", [(3, False), (4, True)])
def test_loop_guard_counts_every_dispatch_of_an_iteration(body, aborts):
    # one iteration = body + its C_LOOP_END; the limit is 4 dispatches
    sim = Simulator(PLENA_TVM.with_overrides(max_loop_instructions=4))
    program = "C_LOOP_START gp1, 2\n" + "S_ADDI_INT gp2, gp2, 1\n" * body + "C_LOOP_END gp1\n"
    if not aborts:
        assert sim.run(program).instructions == 1 + 2 * (body + 1)
        return
    with pytest.raises(SimulationError) as err:
        sim.run(program)
    assert err.value.pc == body + 1  # the C_LOOP_END is the 5th dispatch of iteration 1
    assert "MAX_LOOP_INSTRUCTIONS = 4" in err.value.reason


def test_loop_guard_includes_inner_loops_in_the_outer_iteration():
    sim = Simulator(PLENA_TVM.with_overrides(max_loop_instructions=10))
    program = """
        C_LOOP_START gp1, 2
        C_LOOP_START gp2, 5
        C_LOOP_END gp2
        C_LOOP_END gp1
    """
    # outer iteration 1: C_LOOP_START gp2 + 5 x C_LOOP_END gp2 + C_LOOP_END gp1 = 7 <= 10
    sim.run(program)
    with pytest.raises(SimulationError) as err:
        sim.run(program.replace("gp2, 5", "gp2, 10"))
    assert err.value.pc == 2 and "started at pc 0" in err.value.reason


@pytest.mark.parametrize(
    "program, pc, text, reason",
    [
        ([0x000000A2, 0x00000032], 1, "0x00000032", "opcode 0x32 is not an instruction"),
        ([0x00000000], 0, "0x00000000", "opcode 0x00 is not an instruction"),
        ("C_BREAK\n", 0, "C_BREAK", "no open loop"),
        ([0x2F | 1 << 6], 0, "C_LOOP_START gp1, 0", "iteration count of 0"),
        ("M_BMV gp0, gp0, gp0\n", 0, "M_BMV gp0, gp0, gp0", "always aborts"),
        ("S_ADDI_INT gp1, gp0, 3\nV_ADD_VV gp0, gp1, gp0, 0\n", 1, "V_ADD_VV gp0, gp1, gp0, 0",
         "not a multiple of VLEN"),
        ("S_LD_INT gp1, gp0, 1024\n", 0, "S_LD_INT gp1, gp0, 1024", "past the end of INTRAM"),
    ],
)
def test_aborts_name_pc_instruction_and_reason(program, pc, text, reason):
    with pytest.raises(SimulationError) as err:
        Simulator().run(program)
    assert (err.value.pc, err.value.instruction) == (pc, text)
    assert reason in err.value.reason


def test_register_indices_past_the_file_abort_only_when_executed():
    s_add_fp_f9 = 0x17 | 9 << 6 | 1 << 11 | 2 << 16  # S_ADD_FP f9, f1, f2
    s_add_fp_f0 = 0x17 | 9 << 11  # S_ADD_FP f0, f9, f0: rd = 0 is skipped, nothing read
    sim = Simulator()
    assert sim.run([s_add_fp_f0]).cycles == 0
    with pytest.raises(SimulationError) as err:
        sim.run([s_add_fp_f0, s_add_fp_f9])
    assert err.value.pc == 1 and "f9 does not exist" in err.value.reason


def test_instruction_lists_execute_as_their_words():
    # the published assembler puts the M_MV_WO immediate at bit 11; the machine reads bit 16
    sim = Simulator()
    sim.state.v_accum[:] = [1.5, 2.5]
    sim.run([Instruction("S_ADDI_INT", (1, 0, 128)), Instruction("M_MV_WO", (1, 64))])
    np.testing.assert_array_equal(sim.state.vram[2, 2:4], [1.5, 2.5])  # 128 + 64/32 = 130
    with pytest.raises(SimulationError) as err:
        sim.run([Instruction("S_ADDI_INT", (1, 0, 1 << 16))])
    assert "does not fit its 16-bit field" in err.value.reason


def test_vector_ops_round_to_bf16_and_masks_keep_the_source():
    sim = Simulator()
    sim.load_vram(np.stack([np.full(64, 1.0), np.full(64, 2.0 ** -9)]))
    sim.run(
        """
        S_ADDI_INT gp1, gp0, 64
        S_ADDI_INT gp2, gp0, 128
        S_ADDI_INT gp3, gp0, 5
        C_SET_V_MASK_REG gp3
        V_ADD_VV gp2, gp0, gp1, 0
        V_ADD_VV gp2, gp2, gp2, 1
        """
    )
    row = sim.read_vram(128)[0]
    # 1 + 2^-9 rounds to 1.0 in bf16; the masked add doubles heads 0 and 2 only
    np.testing.assert_array_equal(row, np.repeat([2.0, 1.0, 2.0, 1.0], 16))


def test_reductions_with_f0_cost_nothing():
    sim = Simulator()
    stats = sim.run("V_RED_SUM f0, gp0, 0\nV_RED_MAX f0, gp0, 0\nS_EXP_FP f0, f1\n")
    assert stats.cycles == 0 and stats.instructions == 3


def test_gemm_block_cycles_and_mac_utilisation():
    sim = Simulator()
    rng = np.random.default_rng(1)
    a = rng.integers(-1, 2, (2, 64)).astype(np.float32)  # products exact in bf16
    w = rng.integers(-1, 2, (64, 64)).astype(np.float32)
    sim.load_vram(a)
    sim.state.mram[3] = w
    stats = sim.run(
        f"""
        S_ADDI_INT gp1, gp0, {3 * 4096 + 6}
        S_ADDI_INT gp3, gp0, {64 * 10 + 4}
        M_MM 0, gp1, gp0
        M_MM_WO gp3, gp0, 0
        """
    )
    np.testing.assert_array_equal(sim.read_vram(640, 2)[:, 4:6], a @ w[:, 6:8])
    assert not sim.state.m_accum.any()
    assert stats.cycles == 1 + 1 + 64 + 1
    assert stats.per_class_cycles["MATRIX"] == 65
    assert stats.mac_utilisation == pytest.approx(2 * 2 * 64 / (67 * 64 * 64))


def test_dma_round_trip_in_fp32_mode_counts_bytes_and_cycles():
    sim = Simulator(hbm_format="fp32")
    data = ((np.arange(16 * 64, dtype=np.float32) % 256 - 128) / 4).reshape(16, 64)  # bf16-exact
    sim.hbm.write_tensor(0, data)
    stats = sim.run(
        """
        S_ADDI_INT gp1, gp0, 4096
        H_PREFETCH_V gp0, gp0, a0, 0, 0
        H_STORE_V gp0, gp1, a0, 0, 0
        """
    )
    np.testing.assert_array_equal(sim.read_vram(0, 16), data)  # all bf16-exact
    np.testing.assert_array_equal(sim.hbm.read_tensor(4096, (16, 64)), data)
    assert stats.hbm_bytes_read == stats.hbm_bytes_written == 16 * 64 * 4
    assert stats.per_class_cycles["HBM"] == stats.cycles - 1 > 0


def test_preload_checks():
    sim = Simulator()
    sim.load_fpram([1.0, 0.1])
    assert sim.state.fpram[1] == np.float32(np.float16(0.1))
    with pytest.raises(MachineFault, match="larger than INTRAM"):
        sim.load_intram(np.zeros(1025, dtype=np.uint32))
    with pytest.raises(ValueError, match="u32|2\\^32"):
        sim.load_intram([-1])
    with pytest.raises(ValueError, match="shape"):
        sim.load_vram(np.zeros((2, 32)))
    with pytest.raises(ValueError, match="VLEN-aligned"):
        sim.read_vram(32)


def test_a_fault_in_a_hot_compiled_block_names_its_instruction():
    # the block S_ADDI_INT, S_LD_FP, S_ADDI_INT is compiled after a few runs; in iteration
    # 31 the FPRAM index passes the end
    sim = Simulator(PLENA_TVM.with_overrides(fpram_entries=64))
    with pytest.raises(SimulationError) as err:
        sim.run(
            """
            C_LOOP_START gp1, 100
            S_ADDI_INT gp2, gp2, 2
            S_LD_FP f1, gp2, 0
            S_ADDI_INT gp3, gp3, 1
            C_LOOP_END gp1
            """
        )
    assert (err.value.pc, err.value.instruction) == (2, "S_LD_FP f1, gp2, 0")
    assert "FPRAM index 64 is past the end of FPRAM (64 entries)" in err.value.reason
    assert sim.state.gp[2] == 64 and sim.state.gp[3] == 31
