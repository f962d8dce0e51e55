"""Timing-only runs on programs built to exercise the loop analysis: the statistics and the
timing state (GP and address registers, SCALE, STRIDE, INTRAM) are the full run's, loops are
summarised where they can be, aborts and budgets stop both runs at the same instruction."""

import numpy as np
import pytest

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import pack
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.budget import Budget
from plena_mlir.sim.errors import BudgetExceeded, SimulationError
from plena_mlir.sim.machine import Executor
from plena_mlir.target import PLENA_TVM

SMALL_HBM = PLENA_TVM.with_overrides(hbm_bytes=1 << 20)

SETUP = """
    S_ADDI_INT gp2, gp0, 512
    C_SET_STRIDE_REG gp2
    S_ADDI_INT gp3, gp0, 4096
    C_SET_SCALE_REG gp3
    C_SET_ADDR_REG a1, gp0, gp0
    S_ADDI_INT gp9, gp0, 16
    S_ST_INT gp9, gp0, 5
"""

# An outer loop with a prefetch whose offset steps by 192 (its scale lines change from one
# iteration to the next), a spill reloaded from INTRAM, vector and FP work, an inner loop with
# an induction variable stepping by a reloaded value and a store at a derived offset.
SUMMARISED = SETUP + """
    C_LOOP_START gp4, 37
      S_LD_INT gp10, gp0, 5
      H_PREFETCH_V gp0, gp1, a1, 1, 0
      V_ADD_VV gp0, gp0, gp0, 0
      S_ADD_FP f1, f1, f1
      S_ADDI_INT gp1, gp1, 192
      C_LOOP_START gp5, 3
        S_ADD_INT gp6, gp6, gp10
        S_SLLI_INT gp7, gp6, 2
        H_STORE_V gp0, gp7, a1, 0, 1
        S_MUL_INT gp8, gp7, gp4
      C_LOOP_END gp5
      S_ST_INT gp6, gp0, 6
    C_LOOP_END gp4
"""

NOT_SUMMARISED = {
    # an INTRAM cell carries the offset from one iteration to the next
    "carried cell": SETUP + """
        C_LOOP_START gp4, 9
          S_LD_INT gp11, gp0, 8
          S_ADDI_INT gp11, gp11, 64
          S_ST_INT gp11, gp0, 8
          H_PREFETCH_V gp0, gp11, a1, 0, 0
        C_LOOP_END gp4
    """,
    # the offset is no linear function of the induction variable
    "shifted right": SETUP + """
        C_LOOP_START gp4, 9
          S_ADDI_INT gp1, gp1, 1
          S_SLLI_INT gp12, gp1, 13
          S_SRLI_INT gp12, gp12, 1
          H_PREFETCH_V gp0, gp12, a1, 0, 0
        C_LOOP_END gp4
    """,
    # a register carries a value that is no induction variable
    "doubling": SETUP + """
        S_ADDI_INT gp1, gp0, 1
        C_LOOP_START gp4, 9
          S_ADD_INT gp1, gp1, gp1
          S_ADD_INT gp13, gp13, gp1
        C_LOOP_END gp4
    """,
    # the body writes its own counter: the loop's trip count is not its count
    "counter written": SETUP + """
        S_ADDI_INT gp1, gp0, 1
        C_LOOP_START gp4, 9
          S_ADDI_INT gp13, gp13, 3
          S_ADD_INT gp4, gp4, gp1
          S_SUB_INT gp1, gp1, gp1
        C_LOOP_END gp4
    """,
}


def words(text: str, target=PLENA_TVM) -> list[int]:
    return [pack(i, target) for i in parse_asm(text, target)]


def both(text: str, target=PLENA_TVM, budget: Budget | None = None):
    """The full and the timing-only run of `text`: (simulator, stats or exception) each."""
    runs = []
    for timing_only in (False, True):
        sim = Simulator(target)
        sim.load_intram(np.arange(16, dtype=np.uint32) * 64)
        try:
            runs.append((sim, sim.run(text, budget, timing_only=timing_only)))
        except SimulationError as e:
            runs.append((sim, e))
    return runs


def timing_state(sim: Simulator) -> tuple:
    s = sim.state
    return list(s.gp), list(s.areg), s.scale, s.stride, s.intram.tolist()


@pytest.mark.parametrize("text", [SUMMARISED, *NOT_SUMMARISED.values()],
                         ids=["summarised", *NOT_SUMMARISED])
def test_statistics_and_timing_state_are_the_full_runs(text):
    (full, full_stats), (fast, fast_stats) = both(text)
    assert fast_stats == full_stats
    assert timing_state(fast) == timing_state(full)


def test_summarised_iterations_are_charged_not_dispatched():
    sim = Simulator()
    record = Executor(sim.state, sim.hbm, timing_only=True).run(words(SUMMARISED))
    outer_iteration = 5 + 1 + 3 * 5 + 1 + 1  # S_LD_INT .. S_ADDI_INT, inner loop, S_ST_INT, END
    # iterations 1..36 of the outer loop, and 2 of the 3 of the inner loop in the last one
    assert record.summarised == 36 * outer_iteration + 2 * 5
    for text in NOT_SUMMARISED.values():
        sim = Simulator()
        assert Executor(sim.state, sim.hbm, timing_only=True).run(words(text)).summarised == 0


def test_a_transfer_that_faults_in_a_later_iteration_aborts_both_runs_alike():
    text = SETUP + """
        C_LOOP_START gp4, 40
          H_PREFETCH_V gp0, gp1, a1, 0, 0
          S_LUI_INT gp14, 8
          S_ADD_INT gp1, gp1, gp14
        C_LOOP_END gp4
    """  # the offset steps by 32768: iteration 32 reads past the end of the 1 MiB HBM
    (_, full), (_, fast) = both(text, SMALL_HBM)
    assert isinstance(full, SimulationError) and not isinstance(full, BudgetExceeded)
    assert (fast.pc, fast.reason) == (full.pc, full.reason)
    assert "past the end of HBM" in full.reason


@pytest.mark.parametrize("budget", [Budget(max_instructions=1000), Budget(max_cycles=5000)])
def test_budgets_stop_both_runs_at_the_same_instruction(budget):
    (_, full), (_, fast) = both(SUMMARISED.replace("gp4, 37", "gp4, 3700"), budget=budget)
    assert isinstance(full, BudgetExceeded) and isinstance(fast, BudgetExceeded)
    assert (fast.pc, fast.reason) == (full.pc, full.reason)
    assert fast.stats == full.stats


def test_the_loop_guard_aborts_both_runs_at_the_same_instruction():
    # an outer iteration is 1 + 300 * 2 + 1 instructions: the first one passes the limit
    text = "C_LOOP_START gp1, 50\nC_LOOP_START gp2, 300\nS_ADDI_INT gp3, gp3, 1\n" \
           "C_LOOP_END gp2\nC_LOOP_END gp1\n"
    (_, full), (_, fast) = both(text, PLENA_TVM.with_overrides(max_loop_instructions=500))
    assert "MAX_LOOP_INSTRUCTIONS" in full.reason
    assert (fast.pc, fast.reason) == (full.pc, full.reason)
