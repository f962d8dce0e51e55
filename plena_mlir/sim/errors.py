"""Errors raised while simulating a PLENA program, and the two ways a run is stopped early."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plena_mlir.sim.stats import Stats


class MachineFault(Exception):
    """A condition the published emulator aborts on, raised by a machine component.

    The executor turns it into a SimulationError that names the instruction.
    """


class SimulationError(Exception):
    """A run that the published emulator would abort, with the pc, instruction and reason."""

    def __init__(self, pc: int, instruction: str, reason: str, line: int | None = None):
        self.pc = pc
        self.instruction = instruction
        self.reason = reason
        self.line = line
        where = f"pc {pc}" + (f" (line {line})" if line is not None else "")
        super().__init__(f"{where}: {instruction}: {reason}")


class BudgetExceeded(SimulationError):
    """A run stopped before `pc` because it reached its instruction or cycle budget
    (`budget.py`).  `stats` are the statistics of what ran (None if nothing did)."""

    def __init__(self, pc: int, instruction: str, reason: str, line: int | None = None):
        super().__init__(pc, instruction, reason, line)
        self.stats: Stats | None = None


class SimulationInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C at `pc`, with the statistics of what ran (`stats`)."""

    def __init__(self, pc: int, instruction: str, stats: Stats | None = None):
        super().__init__(f"interrupted at pc {pc}: {instruction}")
        self.pc = pc
        self.instruction = instruction
        self.stats = stats
