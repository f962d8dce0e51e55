"""Program order and live ranges for register allocation over the `plena.loop` tree.

The program (the module body, loops nested to any depth) is numbered in emission order: op i
reads its operands at position 2i and writes its results at 2i+1, so a value last read by op i
and a value written by op i may share a register (instructions read before they write).  A
`plena.loop` at index s whose `plena.yield` has index e stands for C_LOOP_START (reads the
initial values at 2s, writes the counter and the carried block arguments at 2s+1) and
C_LOOP_END (reads the yielded values and the counter at 2e, writes the results at 2e+1).

The live range of a value is one closed interval [start, end] of positions: from its write to
its last read, where a read inside a loop that does not contain the definition counts as a
read at that loop's end (the body runs again, so the value must survive every iteration).
A loop counter lives until its C_LOOP_END.  Only values of unallocated register types get a
range; values already in a physical register are fixed by the input.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from xdsl.ir import Block, BlockArgument, Operation, SSAValue

from plena_mlir.dialects.plena import REGISTER_TYPES, LoopOp, PlenaRegisterType


def read_position(index: int) -> int:
    return 2 * index


def write_position(index: int) -> int:
    return 2 * index + 1


@dataclass
class ProgramOrder:
    """The ops of a program in emission order, with the loops around each block."""

    ops: list[Operation] = field(default_factory=list)
    index: dict[Operation, int] = field(default_factory=dict)
    #: the loops enclosing each block, outermost first
    loops: dict[Block, tuple[LoopOp, ...]] = field(default_factory=dict)
    #: the index of each loop's plena.yield (its C_LOOP_END)
    loop_end: dict[LoopOp, int] = field(default_factory=dict)
    #: how many times each op executes (the product of the counts of its loops)
    frequency: dict[Operation, int] = field(default_factory=dict)

    @property
    def positions(self) -> int:
        return 2 * len(self.ops)

    def op_at(self, position: int) -> Operation:
        return self.ops[position // 2]

    def extended_read(self, reader: Operation, defined_in: tuple[LoopOp, ...]) -> int:
        """The last position a value defined in the loops `defined_in` must be held for a read
        by `reader`: the reader's position, or the end of the outermost loop around the
        reader that does not contain the definition."""
        reader_loops = self.loops[reader.parent]  # type: ignore[index]
        if len(reader_loops) > len(defined_in):
            return read_position(self.loop_end[reader_loops[len(defined_in)]])
        return read_position(self.index[reader])


def program_order(block: Block) -> ProgramOrder:
    order = ProgramOrder()
    _number(block, (), 1, order)
    return order


def _number(block: Block, loops: tuple[LoopOp, ...], frequency: int, order: ProgramOrder) -> None:
    order.loops[block] = loops
    for op in block.ops:
        order.index[op] = len(order.ops)
        order.ops.append(op)
        order.frequency[op] = frequency
        if type(op) is LoopOp:
            body = op.body.block
            _number(body, (*loops, op), frequency * op.count.value.data, order)
            assert body.last_op is not None
            order.loop_end[op] = order.index[body.last_op]


def is_unallocated(value: SSAValue) -> bool:
    """A register value the allocator must place: unallocated, or in a virtual register."""
    register = value.type
    return type(register) in REGISTER_TYPES and register.physical_index is None  # type: ignore[attr-defined]


@dataclass(eq=False)
class LiveRange:
    """Where one value must be in a register, and what spilling it everywhere would cost."""

    value: SSAValue
    start: int
    end: int
    #: read positions of the ops that use the value, sorted
    uses: list[int]
    #: stores plus reloads executed if it is spilled everywhere; None if it must stay in a
    #: register (loop counters and carried values, copies tied to them, reloads)
    spill_cost: int | None

    @property
    def register_type(self) -> type[PlenaRegisterType]:
        return type(self.value.type)  # type: ignore[return-value]  (is_unallocated holds)

    def frees(self, first: int, last: int) -> bool:
        """Whether spilling it frees its register somewhere in positions [first, last]: a
        spilled value still occupies a register where it is defined and read."""
        lo, hi = max(first, self.start + 1), min(last, self.end)
        if lo > hi:
            return False
        return hi - lo + 1 > bisect_right(self.uses, hi) - bisect_left(self.uses, lo)

    def next_use_distance(self, position: int) -> int:
        """How far the next read after `position` is (a read in a later loop iteration counts
        as beyond the end of the range)."""
        i = bisect_left(self.uses, position)
        if i < len(self.uses):
            return self.uses[i] - position
        return self.end - position + self.end - self.start


def live_ranges(
    order: ProgramOrder, spill_cost: Callable[[SSAValue, int], int | None]
) -> dict[SSAValue, LiveRange]:
    """The live range of every unallocated register value; `spill_cost(value, reloads)` gives
    the cost of spilling a value whose reloads would execute `reloads` times, or None."""
    ranges: dict[SSAValue, LiveRange] = {}
    index, frequency = order.index, order.frequency
    for value, start, defined_in, minimum_end in _definitions(order):
        end, uses, reloads = minimum_end, [], 0
        for reader in {use.operation for use in value.uses}:
            end = max(end, order.extended_read(reader, defined_in))
            uses.append(read_position(index[reader]))
            reloads += frequency[reader]
        uses.sort()
        ranges[value] = LiveRange(value, start, end, uses, spill_cost(value, reloads))
    return ranges


def _definitions(order: ProgramOrder) -> Iterator[tuple[SSAValue, int, tuple[LoopOp, ...], int]]:
    """Each unallocated value with its write position, the loops around its definition and
    the least end of its range."""
    for i, op in enumerate(order.ops):
        outer = order.loops[op.parent]  # type: ignore[index]
        if type(op) is LoopOp:
            end = order.loop_end[op]
            counter, *carried = op.body.block.args
            if is_unallocated(counter):
                yield counter, write_position(i), (*outer, op), read_position(end)
            for arg in carried:
                if is_unallocated(arg):
                    yield arg, write_position(i), (*outer, op), write_position(i)
            for result in op.results:
                if is_unallocated(result):
                    yield result, write_position(end), outer, write_position(end)
            continue
        for result in op.results:
            if is_unallocated(result):
                yield result, write_position(i), outer, write_position(i)


def pressure(ranges: list[LiveRange], positions: int) -> np.ndarray:
    """How many of `ranges` cover each position."""
    delta = np.zeros(positions + 2, dtype=np.int64)
    for r in ranges:
        delta[r.start] += 1
        delta[r.end + 1] -= 1
    return np.cumsum(delta)[: positions + 1]


def describe_value(value: SSAValue) -> str:
    """`%name (what defines it)` for diagnostics."""
    name = f"%{value.name_hint}" if value.name_hint else "a value"
    if isinstance(value, BlockArgument):
        role = "loop counter" if value.index == 0 else "loop-carried value"
        return f"{name} (a {role} of plena.loop)"
    assert isinstance(value.owner, Operation)
    return f"{name} (a result of {value.owner.name})"
