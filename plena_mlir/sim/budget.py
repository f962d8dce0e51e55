"""Run budgets: how many instructions and cycles a run may take before the simulator stops it.

    Budget()                                  # the default: instructions from the loop tree
    Budget(max_instructions=10**9)            # at most 10^9 instructions, no cycle limit
    Budget(max_instructions=0, max_cycles=N)  # no instruction limit, at most N cycles

`max_instructions=None` is the default budget, derived from the program's static loop tree
(`loop_tree.py`): `DEFAULT_MARGIN` times the instructions the tree executes, plus
`DEFAULT_SLACK`.  A program whose loops run their counts never reaches it; a run that does
has left its loop tree (a loop counter overwritten inside its loop, a C_LOOP_END naming the
wrong register ...) and is stopped long before it could run for hours.  0 means no limit.

A run stops *before* the instruction that would be one too many, or, for cycles, before the
next instruction once the cycles so far exceed `max_cycles`; it raises `BudgetExceeded`
(a `SimulationError` naming that pc and instruction) with the statistics so far.  A budget
given explicitly is also checked before the run: when the loops of an exactly nested program
(`LoopTree.exact`) execute more instructions than it allows, the run does not start.

`instructions_before` / `cycles_before` are what earlier runs covered by the same budget
spent (the stages of a chain, run one after the other): the limits apply to the sum.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.sim.loop_tree import LoopTree

DEFAULT_MARGIN = 2
DEFAULT_SLACK = 1_000_000


@dataclass(frozen=True)
class Budget:
    """Limits of a run; see the module docstring."""

    max_instructions: int | None = None
    max_cycles: int | None = None
    instructions_before: int = 0
    cycles_before: int = 0

    def __post_init__(self) -> None:
        for name in ("max_instructions", "max_cycles"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer or None, not {value!r}")

    def instruction_limit(self, tree: LoopTree) -> int | None:
        """The most instructions this run may execute (None: no limit)."""
        if self.max_instructions == 0:
            return None
        if self.max_instructions is None:
            return default_instructions(tree)
        return self.max_instructions - self.instructions_before

    def cycle_limit(self) -> int | None:
        """The most cycles this run may take (None: no limit)."""
        return self.max_cycles - self.cycles_before if self.max_cycles else None

    def describe_instructions(self, tree: LoopTree) -> str:
        """The instruction budget in words, for a diagnostic."""
        if self.max_instructions is None:
            about = "" if tree.exact else "~"
            return (
                f"the default instruction budget of {default_instructions(tree):,} "
                f"({DEFAULT_MARGIN} x {about}{tree.instructions:,}, the instructions of the "
                f"program's loop tree, + {DEFAULT_SLACK:,}): a loop ran more often than its "
                "count says; give a larger budget if that is intended"
            )
        return f"the instruction budget of {self.max_instructions:,}"

    def describe_cycles(self) -> str:
        """The cycle budget in words, for a diagnostic."""
        return f"the cycle budget of {self.max_cycles:,}"

    def spent(self, instructions: int, cycles: int) -> Budget:
        """This budget for a run after one that executed `instructions` and `cycles`."""
        return Budget(
            self.max_instructions,
            self.max_cycles,
            self.instructions_before + instructions,
            self.cycles_before + cycles,
        )


def default_instructions(tree: LoopTree) -> int:
    """The default instruction budget of a program with loop tree `tree`."""
    return DEFAULT_MARGIN * tree.instructions + DEFAULT_SLACK


def static_excess(budget: Budget, tree: LoopTree) -> str | None:
    """Why an exactly nested program with loops cannot complete within an explicit instruction
    budget, before it runs (None if it can, or the budget is the default or none)."""
    limit = budget.instruction_limit(tree)
    if budget.max_instructions is None or limit is None or not tree.exact or not tree.loops:
        return None
    if tree.instructions <= limit:
        return None
    return (
        f"the program's loops execute {tree.instructions:,} instructions, more than "
        f"{budget.describe_instructions(tree)}"
        + (f" ({budget.instructions_before:,} spent before)" if budget.instructions_before else "")
        + "; not run"
    )
