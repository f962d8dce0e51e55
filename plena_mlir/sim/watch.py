"""What the dispatch loop checks between instructions, every so often: the emulator's loop
guard, the run's budgets and its progress bar.

The executor calls `Watch.check(pc, tick)` before dispatching instruction number `tick` (at
`pc`) whenever `tick` passes the value the last call returned, so a check costs the hot loop
one comparison.  Each call works out the next tick that needs one:

- the loop guard: the tick at which the oldest open loop frame passes MAX_LOOP_INSTRUCTIONS;
- the instruction budget: the tick after the last instruction it allows;
- the cycle budget: no instruction costs more than `max_step` cycles (the dearest fixed cost
  plus the most DMA cycles of any instruction of the program), so with R cycles left the
  next `R // max_step` instructions cannot exceed it;
- the progress bar: `progress.INTERVAL` instructions later.

`hard` is the last tick the first three allow without a check: a timing-only run may charge
summarised loop iterations up to it (`loop_summary.py`), whose instructions and DMA cycles it
adds to the counters when `cycles` calls `flush`.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import mul
from typing import TYPE_CHECKING

from plena_mlir.isa.opcodes import TVM_BY_OPCODE
from plena_mlir.sim.budget import Budget
from plena_mlir.sim.cycles import dma_cycles_bound, fixed_cycles
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.loop_tree import LoopTree
from plena_mlir.sim.ops_common import Fields
from plena_mlir.sim.progress import INTERVAL, ProgressBar

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor, RunRecord


class StopRun(Exception):
    """A budget is used up: the run stops before the instruction about to be dispatched."""


class Watch:
    """The periodic checks of one run (see the module docstring)."""

    def __init__(
        self,
        ex: Executor,
        record: RunRecord,
        budget: Budget,
        tree: LoopTree,
        progress: ProgressBar | None,
    ):
        self.frames = ex.frames
        self.record = record
        self.loop_limit = ex.target.max_loop_instructions
        self.budget = budget
        self.tree = tree
        self.max_instructions = budget.instruction_limit(tree)
        self.max_cycles = budget.cycle_limit()
        self.progress = progress
        self.hard = 0
        self.flush: Callable[[], None] | None = None
        if self.max_cycles is not None:
            self.fixed = [0] * len(record.words)
            bounds = [1]
            for pc, word in enumerate(record.words):
                f = Fields.of(word)
                info = TVM_BY_OPCODE.get(f.opcode)
                if info is not None:
                    self.fixed[pc] = fixed_cycles(info.mnemonic, f, ex.target)
                    bounds.append(self.fixed[pc] + dma_cycles_bound(info.mnemonic, f, ex.hbm))
            self.max_step = max(bounds)

    def check(self, pc: int, tick: int) -> int:
        """Check before instruction `tick` runs; the last tick that needs no check."""
        done = tick - 1
        following = self._loop_deadline(tick)
        if self.max_instructions is not None:
            if done >= self.max_instructions:
                raise StopRun(self._stopped(self.budget.describe_instructions(self.tree), done))
            following = min(following, self.max_instructions)
        if self.max_cycles is not None:
            cycles = self.cycles()
            if cycles > self.max_cycles:
                raise StopRun(self._stopped(self.budget.describe_cycles(), done, cycles))
            following = min(following, tick + (self.max_cycles - cycles) // self.max_step)
        self.hard = following
        if self.progress is not None:
            self.progress.update(done)
            following = min(following, tick + INTERVAL)
        return following

    def cycles(self) -> int:
        """The cycles of the instructions run so far (only with a cycle budget)."""
        if self.flush is not None:
            self.flush()
        return sum(map(mul, self.record.counts, self.fixed)) + sum(self.record.dma_cycles)

    def _stopped(self, budget: str, done: int, cycles: int | None = None) -> str:
        b = self.budget
        cycles = self.cycles() if cycles is None and self.max_cycles is not None else cycles
        spent = f"{b.instructions_before + done:,} instructions"
        if cycles is not None:
            spent += f" and {b.cycles_before + cycles:,} cycles"
        return f"stopped before this instruction: {spent} used up {budget}"

    def _loop_deadline(self, tick: int) -> int:
        """The next tick at which a loop frame could exceed MAX_LOOP_INSTRUCTIONS.

        The emulator counts every dispatch in every open frame and aborts when one frame's
        count passes the limit (`main.rs` dispatch loop).  A frame reset at tick r reaches
        count k at tick r + k, so it aborts at the first tick > r + limit.  The minimum over
        open frames never decreases (pushes and resets happen later than existing resets),
        so it only needs recomputing when the cached value is passed.
        """
        limit = self.loop_limit
        if not self.frames:
            return tick + limit
        oldest = min(self.frames, key=lambda frame: frame[2])
        if tick > oldest[2] + limit:
            raise MachineFault(
                f"the loop started at pc {oldest[1]} (counter gp{oldest[0]}) executed more than "
                f"MAX_LOOP_INSTRUCTIONS = {limit} instructions in one iteration"
            )
        return oldest[2] + limit
