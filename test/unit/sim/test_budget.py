"""Budgets, Ctrl-C and the progress bar of a run, through the Simulator API."""

import io

import pytest

from plena_mlir.sim import machine
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.budget import DEFAULT_SLACK, Budget
from plena_mlir.sim.errors import BudgetExceeded, SimulationInterrupted
from plena_mlir.sim.progress import ProgressBar

# 1 + 300 * 3 = 901 instructions and cycles when the counter is left alone
LOOP = """
    C_LOOP_START gp2, 300
    S_ADDI_INT gp1, gp1, 3
    S_ADDI_INT gp3, gp2, 1
    C_LOOP_END gp2
"""
RUNAWAY = LOOP.replace("gp3, gp2, 1", "gp2, gp2, 1")  # the body keeps its counter from falling


def test_a_loop_that_leaves_its_loop_tree_meets_the_default_budget():
    sim = Simulator()
    with pytest.raises(BudgetExceeded) as err:
        sim.run(RUNAWAY)
    e = err.value
    limit = 2 * 901 + DEFAULT_SLACK
    assert e.stats.instructions == limit and sim.stats is e.stats
    assert e.pc in (1, 2, 3) and e.instruction.startswith(("S_ADDI_INT", "C_LOOP_END"))
    assert f"{limit:,} instructions used up the default instruction budget" in e.reason
    assert "2 x ~901" in e.reason  # the body writes its counter: the tree is an estimate


def test_the_instruction_budget_stops_before_the_instruction_past_it():
    sim = Simulator()
    with pytest.raises(BudgetExceeded) as err:
        sim.run(RUNAWAY, Budget(max_instructions=100))
    e = err.value
    assert e.stats.instructions == 100 and e.stats.cycles == 100
    assert (e.pc, e.instruction) == (1, "S_ADDI_INT gp1, gp1, 3")  # dispatch 101 = 1 + 33*3 + 1
    assert str(e) == (
        "pc 1 (line 3): S_ADDI_INT gp1, gp1, 3: stopped before this instruction: 100 "
        "instructions used up the instruction budget of 100"
    )
    assert sim.run(LOOP, Budget(max_instructions=901)).instructions == 901


def test_an_exact_loop_tree_over_an_explicit_budget_is_reported_before_it_runs():
    sim = Simulator()
    with pytest.raises(BudgetExceeded) as err:
        sim.run(LOOP, Budget(max_instructions=900))
    e = err.value
    assert (e.pc, e.instruction) == (0, "C_LOOP_START gp2, 300")
    assert "loops execute 901 instructions, more than the instruction budget of 900" in e.reason
    assert e.stats.instructions == 0 and sim.state.gp[1] == 0


def test_the_cycle_budget_stops_at_the_first_instruction_after_it_is_exceeded():
    # H_PREFETCH_V costs more than one cycle, so the check cannot simply count instructions
    program = "C_LOOP_START gp2, 50\nH_PREFETCH_V gp0, gp0, a0, 0, 0\nC_LOOP_END gp2\n"
    full = Simulator().run(program)
    per_iteration = (full.cycles - 1) // 50
    sim = Simulator()
    with pytest.raises(BudgetExceeded) as err:
        sim.run(program, Budget(max_cycles=10 * per_iteration))
    stats = err.value.stats
    assert stats.cycles > 10 * per_iteration
    assert stats.cycles - per_iteration <= 10 * per_iteration  # the last instruction crossed
    assert "cycles used up the cycle budget" in err.value.reason
    assert Simulator().run(program, Budget(max_cycles=full.cycles)).cycles == full.cycles


def test_zero_is_no_limit_and_budgets_add_up_across_runs():
    assert Simulator().run(LOOP, Budget(max_instructions=0)).instructions == 901
    later = Budget(max_instructions=1000).spent(instructions=500, cycles=7)
    assert (later.instructions_before, later.cycles_before) == (500, 7)
    with pytest.raises(BudgetExceeded, match=r"more than the instruction budget of 1,000 "
                                             r"\(500 spent before\)"):
        Simulator().run(LOOP, later)
    with pytest.raises(ValueError, match="max_cycles"):
        Budget(max_cycles=-1)


class _Interrupting(ProgressBar):
    """A progress bar whose first update after the start is a Ctrl-C."""

    def update(self, done: int) -> None:
        if done and not self.done:
            self.done = done
            raise KeyboardInterrupt


def test_ctrl_c_stops_with_the_statistics_so_far():
    sim = Simulator()
    with pytest.raises(SimulationInterrupted) as err:
        sim.run(RUNAWAY, Budget(max_instructions=0), _Interrupting(io.StringIO()))
    e = err.value
    assert isinstance(e, KeyboardInterrupt)
    assert e.stats.instructions == 1 + 65536 and sim.stats is e.stats  # one INTERVAL in
    assert sum(e.stats.per_opcode.values()) == e.stats.instructions


def test_the_progress_bar_waits_then_draws_done_of_total_then_erases():
    stream = io.StringIO()
    bar = ProgressBar(stream, delay=0.0, refresh=0.0)
    bar.begin(1000)
    bar.update(250)
    bar.end()
    bar.begin(3000)  # a second run counts on from the first
    bar.update(500)
    drawn = stream.getvalue().split("\r")
    assert "25.0 %" in drawn[1] and "250 / 1,000 instructions" in drawn[1]
    assert "750 / 3,250 instructions" in drawn[2]  # 250 done before + 3000 expected
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K")
    quiet = io.StringIO()
    slow = ProgressBar(quiet, total=10)
    slow.update(5)
    slow.close()
    assert quiet.getvalue() == ""  # nothing before the delay, nothing to erase
    assert ProgressBar.on_stderr() is None  # pytest's stderr is not a terminal


def test_a_run_updates_its_progress_bar_with_the_loop_tree_total():
    stream = io.StringIO()
    Simulator().run(LOOP, progress=ProgressBar(stream, delay=0.0, refresh=0.0))
    assert "901 / 901 instructions" in stream.getvalue()


def test_ctrl_c_inside_a_straight_line_block_counts_what_ran(monkeypatch):
    # the 500th S_LUI_INT is interrupted: the block after it has not run
    calls = [0]

    def interrupting(ex, f):
        def handler(pc, tick):
            calls[0] += 1
            if calls[0] == 500:
                raise KeyboardInterrupt
            return pc + 1

        return handler

    monkeypatch.setitem(machine._FACTORIES, "S_LUI_INT", interrupting)
    program = "C_LOOP_START gp2, 1000\nS_ADDI_INT gp1, gp1, 1\nS_LUI_INT gp3, 1\n" \
              "S_ADDI_INT gp4, gp4, 1\nC_LOOP_END gp2\n"
    sim = Simulator()
    with pytest.raises(SimulationInterrupted) as err:
        sim.run(program)
    stats = err.value.stats
    assert (err.value.pc, err.value.instruction) == (2, "S_LUI_INT gp3, 1")
    assert stats.per_opcode == {"S_ADDI_INT": 999, "S_LUI_INT": 500, "C_LOOP_END": 499,
                                "C_LOOP_START": 1}
    assert stats.instructions == sum(stats.per_opcode.values())
    assert sim.state.gp[1] == 500 and sim.state.gp[4] == 499
