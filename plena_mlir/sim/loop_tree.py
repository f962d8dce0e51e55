"""The static loop tree of a program: its hardware loops and the instructions a run executes.

A program has no jumps but its loops, and every loop count is an immediate, so the words
alone say how often each instruction runs when every loop runs its count:

    run(block)     = sum over its items of: 1 per instruction, per loop 1 + count * iteration
    iteration(loop) = run(its body) + 1                       # + its C_LOOP_END

`LoopTree.instructions` is run(program).  It is *exact* (`LoopTree.exact`) when the loops
nest: every C_LOOP_END closes the innermost open C_LOOP_START, with the same counter
register, no instruction in a body writes the counter of a loop around it (an S_*_INT
destination, an S_LD_INT, a nested C_LOOP_START on the same register), there is no
C_BREAK and every word is an instruction.  Then a run that completes executes exactly that
many instructions.  Otherwise it is an estimate: a C_LOOP_END closing an outer loop closes
the loops inside it too, a loop never closed and its body count once.  Each `Loop` says the
same of itself and the loops inside it (`Loop.exact`): then every entry runs its body
exactly `count` times.

The executor derives its default instruction budget and the total of its progress bar
from it (`budget.py`); timing-only runs summarise exact loops (`loop_summary.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plena_mlir.isa.opcodes import TVM_BY_OPCODE, TVM_OPCODES
from plena_mlir.sim.ops_common import Fields

_START, _END, _BREAK = (TVM_OPCODES[m] for m in ("C_LOOP_START", "C_LOOP_END", "C_BREAK"))

#: Opcodes whose rd field is a GP register they write.
GP_WRITERS = frozenset(
    TVM_OPCODES[m]
    for m in ("S_ADD_INT", "S_ADDI_INT", "S_SUB_INT", "S_MUL_INT", "S_SLL_INT", "S_SRL_INT",
              "S_DIV_INT", "S_REM_INT", "S_SLLI_INT", "S_SRLI_INT", "S_LUI_INT", "S_LD_INT")
)


@dataclass(frozen=True, eq=False)
class Loop:
    """One hardware loop: C_LOOP_START at `start`, its C_LOOP_END at `end`."""

    start: int
    end: int
    counter: int
    count: int
    inner: tuple[Loop, ...]
    iteration: int
    """Instructions one iteration executes: the body, nested loops included, + C_LOOP_END."""
    exact: bool
    """Whether this loop and every loop inside it nest (see the module docstring)."""

    @property
    def instructions(self) -> int:
        """Instructions one entry executes, C_LOOP_START included."""
        return 1 + self.count * self.iteration


@dataclass(frozen=True)
class LoopTree:
    """The loops of a program (outermost first, in program order) and what a run executes."""

    loops: tuple[Loop, ...]
    instructions: int
    exact: bool

    def largest_loop(self) -> Loop | None:
        """The loop with the largest count (the likeliest culprit of a huge total)."""
        return max(self.walk(), key=lambda loop: loop.count, default=None)

    def walk(self):
        """Every loop, outer before inner."""
        stack = list(reversed(self.loops))
        while stack:
            loop = stack.pop()
            yield loop
            stack.extend(reversed(loop.inner))


@dataclass(eq=False)
class _Open:
    """A loop being read: its C_LOOP_START, and its body so far."""

    start: int
    counter: int
    count: int
    inner: list[Loop] = field(default_factory=list)
    body: int = 0
    exact: bool = True


def loop_tree(words: list[int]) -> LoopTree:
    """The loop tree of a program's words (see the module docstring)."""
    top = _Open(start=-1, counter=-1, count=1)
    stack = [top]
    for pc, word in enumerate(words):
        f = Fields.of(word)
        opcode = f.opcode
        if opcode == _START:
            _counter_written(stack, f.rd)
            stack.append(_Open(pc, f.rd, max(f.imm, 1)))
            continue
        if opcode == _END:
            depth = next((i for i in range(len(stack) - 1, 0, -1) if stack[i].counter == f.rd), 0)
            if depth:
                if depth < len(stack) - 1:
                    top.exact = stack[depth].exact = False
                    while len(stack) > depth + 1:
                        _fold(stack)
                _close(stack, pc)
                continue
            _inexact(stack)  # no loop of this register is open: the machine aborts here
        elif opcode == _BREAK or opcode not in TVM_BY_OPCODE:
            _inexact(stack)
        elif opcode in GP_WRITERS:
            _counter_written(stack, f.rd)
        stack[-1].body += 1
    if len(stack) > 1:
        top.exact = False
        while len(stack) > 1:
            _fold(stack)
    return LoopTree(tuple(top.inner), top.body, top.exact)


def _counter_written(stack: list[_Open], register: int) -> None:
    """An instruction writes `register`: the open loops it counts (and the tree) are inexact."""
    for frame in stack[1:]:
        if frame.counter == register:
            frame.exact = stack[0].exact = False


def _inexact(stack: list[_Open]) -> None:
    """The word here is not a loop-tree instruction: every open loop is inexact."""
    for frame in stack:
        frame.exact = False


def _close(stack: list[_Open], end: int) -> None:
    """Close the innermost open loop at its C_LOOP_END `end`."""
    loop = stack.pop()
    exact = loop.exact and all(inner.exact for inner in loop.inner)
    closed = Loop(loop.start, end, loop.counter, loop.count, tuple(loop.inner), loop.body + 1,
                  exact)
    stack[-1].inner.append(closed)
    stack[-1].body += closed.instructions


def _fold(stack: list[_Open]) -> None:
    """The innermost open loop has no C_LOOP_END of its own: its start and body run once."""
    loop = stack.pop()
    stack[-1].inner.extend(loop.inner)
    stack[-1].body += 1 + loop.body
    stack[-1].exact = False
