"""Register assignment: tied values grouped, copies coalesced, groups coloured greedily.

A group is a set of values that get one register: the values of a register constraint
(`register_copies`), plus, when `coalesce` is set, the source and result of each allocator
copy whose live ranges do not overlap (most expensive copies first), so that the copy can be
deleted.  A group occupies the union of its members' ranges, holes included: a register is
free for another value inside a loop body between the last read of a carried block argument
and the definition of the next value.  Groups are coloured in order of their first position,
each taking the lowest register of its file whose occupied positions it does not overlap.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from xdsl.ir import Operation, SSAValue

from plena_mlir.backend.register_live_ranges import LiveRange
from plena_mlir.dialects.plena import PlenaRegisterType

Segments = list[tuple[int, int]]


@dataclass
class Conflict:
    """A group that found no free register."""

    register_type: type[PlenaRegisterType]
    segments: Segments


@dataclass
class _Groups:
    """Union-find over values, each root holding its group's sorted, disjoint segments."""

    parent: dict[SSAValue, SSAValue] = field(default_factory=dict)
    segments: dict[SSAValue, Segments] = field(default_factory=dict)

    def find(self, value: SSAValue) -> SSAValue:
        while self.parent[value] is not value:
            self.parent[value] = self.parent[self.parent[value]]
            value = self.parent[value]
        return value

    def overlap(self, a: SSAValue, b: SSAValue) -> bool:
        return _overlap(self.segments[a], self.segments[b])

    def union(self, a: SSAValue, b: SSAValue) -> None:
        self.parent[b] = a
        self.segments[a] = sorted(self.segments[a] + self.segments.pop(b))


def _overlap(a: Segments, b: Segments) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


@dataclass
class _Occupancy:
    """The positions one register is taken, as sorted disjoint segments."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def is_free(self, segments: Segments) -> bool:
        for first, last in segments:
            i = bisect_right(self.starts, last) - 1
            if i >= 0 and self.ends[i] >= first:
                return False
        return True

    def take(self, segments: Segments) -> None:
        for first, last in segments:
            i = bisect_right(self.starts, first)
            self.starts.insert(i, first)
            insort(self.ends, last)


def colour(
    ranges: dict[SSAValue, LiveRange],
    ties: Iterable[Sequence[SSAValue]],
    copies: Iterable[tuple[Operation, int]],
    pools: dict[type[PlenaRegisterType], Sequence[PlenaRegisterType]],
    coalesce: bool,
) -> dict[SSAValue, PlenaRegisterType] | Conflict:
    """A register for every value of `ranges`, or the first group that found none.

    `ties` are groups of values that must share a register (never overlapping, by
    construction); `copies` are (copy op, how often it runs) for coalescing."""
    groups = _Groups({v: v for v in ranges}, {v: [(r.start, r.end)] for v, r in ranges.items()})
    for tie in ties:
        members = [v for v in tie if v in ranges]
        for other in members[1:]:
            a, b = groups.find(members[0]), groups.find(other)
            assert not groups.overlap(a, b), "values tied to one register overlap"
            groups.union(a, b)
    if coalesce:
        for op, _ in sorted(copies, key=lambda c: -c[1]):
            source, result = op.operands[0], op.results[0]
            if source not in ranges or result not in ranges:
                continue
            a, b = groups.find(source), groups.find(result)
            if a is not b and not groups.overlap(a, b):
                groups.union(a, b)
    # per register file, the occupancy of each register of its pool, in pool order
    occupancy = {f: [_Occupancy() for _ in pool] for f, pool in pools.items()}
    assignment: dict[SSAValue, PlenaRegisterType] = {}
    roots = sorted(groups.segments, key=lambda root: groups.segments[root][0][0])
    for root in roots:
        segments = _merged(groups.segments[root])
        register_type = ranges[root].register_type
        index = next(
            (i for i, taken in enumerate(occupancy[register_type]) if taken.is_free(segments)),
            None,
        )
        if index is None:
            return Conflict(register_type, segments)
        occupancy[register_type][index].take(segments)
        assignment[root] = pools[register_type][index]
    return {value: assignment[groups.find(value)] for value in ranges}


def _merged(segments: Segments) -> Segments:
    """Sorted segments with touching or overlapping neighbours joined."""
    merged: Segments = []
    for first, last in segments:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
