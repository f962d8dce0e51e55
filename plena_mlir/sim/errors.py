"""Errors raised while simulating a PLENA program."""

from __future__ import annotations


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
