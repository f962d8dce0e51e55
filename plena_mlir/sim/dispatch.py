"""The dispatch loop: a program as *units* run until pc passes the end.

Only C_LOOP_START, C_LOOP_END and C_BREAK change the pc, so the program splits into units:
each of those instructions alone, and every maximal run of other instructions as one
*block*.  A block always runs whole, and every jump lands on the start of a unit (the
instruction after a loop instruction).  Dispatching a block costs what dispatching one
instruction costs; its handlers run in order, each with its own pc (the ones known to do
nothing are left out), and once it has run a few times a block holding inlinable handlers
(`inline.py`) is compiled into one function with their statements pasted in.  The loop
counts dispatches per unit; `Units.expand` adds them to the per-pc counts.

    while pc < n:
        size = sizes[pc]
        if tick + size > checkpoint:     # a check falls inside this unit: step through it,
            ... one instruction at a time, checking where the watch says (exact budgets)
        tick += size
        unit_counts[pc] += 1
        pc = units[pc](pc, tick)
        tick += skipped                  # instructions a timing-only loop summary charged

`tick` is the number of instructions run so far, the one being dispatched included (the
loop instructions read it, `watch.py` checks against it).  A fault, a budget stop or a
Ctrl-C leaves the loop as `Halted` with the pc of the instruction concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from plena_mlir.isa.opcodes import TVM_OPCODES
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.inline import inline_source
from plena_mlir.sim.ops_common import Handler, skip
from plena_mlir.sim.watch import StopRun

_CONTROL = frozenset(TVM_OPCODES[m] for m in ("C_LOOP_START", "C_LOOP_END", "C_BREAK"))


class Halted(Exception):
    """The loop stopped early: `cause` (a MachineFault, StopRun or KeyboardInterrupt) at `pc`
    after `tick` instructions; the counts of pcs in `uncounted` include one dispatch that
    never ran (the rest of a block Ctrl-C interrupted)."""

    def __init__(self, cause: BaseException, pc: int, tick: int, uncounted: range = range(0)):
        super().__init__(str(cause))
        self.cause, self.pc, self.tick, self.uncounted = cause, pc, tick, uncounted


class _StoppedIn(Exception):
    """Raised by a block: `cause` at `pc`, the block ending before `end`."""

    def __init__(self, cause: BaseException, pc: int, end: int):
        super().__init__(str(cause))
        self.cause, self.pc, self.end = cause, pc, end


@dataclass(eq=False)
class Units:
    """The units of a program (see the module docstring)."""

    handlers: list[Handler]
    """Every pc's own handler (stepping)."""
    sizes: list[int] = field(default_factory=list)
    """Per unit start: its instructions (0 elsewhere)."""
    units: list[Handler | None] = field(default_factory=list)
    """Per unit start: its handler (a block's runs all of its instructions)."""
    blocks: list[range] = field(default_factory=list)
    unit_counts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, words: list[int], handlers: list[Handler]) -> Units:
        """Split a program into units."""
        n = len(words)
        units = cls(handlers, [0] * n, [None] * n, [], [0] * n)
        pc = 0
        while pc < n:
            end = pc + 1
            if words[pc] & 0x3F not in _CONTROL:
                while end < n and words[end] & 0x3F not in _CONTROL:
                    end += 1
            units.sizes[pc] = end - pc
            if end - pc == 1:
                units.units[pc] = handlers[pc]
            else:
                units.units[pc] = units._block(pc, end)
                units.blocks.append(range(pc, end))
            pc = end
        return units

    def expand(self, counts: list[int]) -> None:
        """Add the unit dispatch counts to the per-pc `counts` (and reset them)."""
        unit_counts = self.unit_counts
        for pc, size in enumerate(self.sizes):
            if size == 1 and unit_counts[pc]:
                counts[pc] += unit_counts[pc]
                unit_counts[pc] = 0
        for block in self.blocks:
            if c := unit_counts[block.start]:
                for pc in block:
                    counts[pc] += c
                unit_counts[block.start] = 0

    def run(self, counts: list[int], check: Callable[[int, int], int], skipped: list[int]) -> int:
        """Dispatch from pc 0 to the end (Halted if stopped early); the instructions run."""
        sizes, units, handlers = self.sizes, self.units, self.handlers
        unit_counts = self.unit_counts
        n = len(sizes)
        pc = tick = checkpoint = 0
        stepping = False
        try:
            while pc < n:
                size = sizes[pc]
                if tick + size > checkpoint:
                    stepping = True
                    for at in range(pc, pc + size):
                        tick += 1
                        if tick > checkpoint:
                            checkpoint = check(at, tick)
                        counts[at] += 1
                        pc = handlers[at](at, tick)
                        if skipped[0]:
                            tick += skipped[0]
                            skipped[0] = 0
                    stepping = False
                    continue
                tick += size
                unit_counts[pc] += 1
                pc = units[pc](pc, tick)
                if skipped[0]:
                    tick += skipped[0]
                    skipped[0] = 0
        except _StoppedIn as stop:
            raise Halted(stop.cause, stop.pc, tick, range(stop.pc + 1, stop.end)) from None
        except (MachineFault, StopRun, KeyboardInterrupt) as cause:
            raise Halted(cause, at if stepping else pc, tick) from None
        return tick

    def _block(self, start: int, end: int) -> Handler:
        """The handler of the block `start .. end - 1`: its handlers called in order; once it
        has run `HOT` times, and if some of them are inlinable, the compiled form
        (`_compiled_block`) takes its place (compiling costs more than a few runs save)."""
        items = [(pc, self.handlers[pc]) for pc in range(start, end)
                 if self.handlers[pc] is not skip]
        called = _called_block(items, start, end)
        if not any(hasattr(handler, "inline") for _, handler in items):
            return called
        runs = 0

        def block(pc: int, tick: int) -> int:
            nonlocal runs
            runs += 1
            if runs == HOT:
                self.units[start] = _compiled_block(items, end)
            return called(pc, tick)

        return block


#: Runs after which a block with inlinable handlers is compiled.
HOT = 8


def _compiled_block(items: list[tuple[int, Handler]], end: int) -> Handler:
    """One function running the handlers `items` (pc, handler) of a block: the inlinable ones'
    statements pasted in (`inline.py`), the others called, a line each; the line an exception
    passes through names its pc."""
    pcs = [pc for pc, _ in items]
    namespace: dict = {"_StoppedIn": _StoppedIn, "MachineFault": MachineFault}
    lines = []
    for pc, handler in items:
        statement = inline_source(handler, namespace)
        if statement is None:
            namespace[f"_h{pc}"] = handler
            statement = f"_h{pc}({pc}, tick)"
        lines.append(statement)

    def stopped_at(cause: BaseException) -> int:
        line = cause.__traceback__.tb_lineno - 3  # def, try, then a line per instruction
        return pcs[min(max(line, 0), len(pcs) - 1)]

    namespace["_stopped_at"] = stopped_at
    source = (
        "def block(pc, tick):\n    try:\n"
        + "".join(f"        {line}\n" for line in lines)
        + "    except (MachineFault, KeyboardInterrupt) as cause:\n"
        + f"        raise _StoppedIn(cause, _stopped_at(cause), {end}) from None\n"
        + f"    return {end}\n"
    )
    exec(compile(source, f"<block {pcs[0]}..{end - 1}>", "exec"), namespace)
    return namespace["block"]


def _called_block(items: list[tuple[int, Handler]], start: int, end: int) -> Handler:
    """A block of handlers none of which is inlinable: called in order."""

    def block(pc: int, tick: int) -> int:
        at = start
        try:
            for at, handler in items:
                handler(at, tick)
        except (MachineFault, KeyboardInterrupt) as cause:
            raise _StoppedIn(cause, at, end) from None
        return end

    return block
