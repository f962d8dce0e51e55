"""Live ranges of on-chip buffers over a kernel body, for memory reuse.

Ops are numbered in program order (a pre-order walk: an op, then everything nested in it).
The live range of a buffer is the closed interval from its first use (its first write, in a
well-formed kernel) to its last use.  A use nested in a loop (or any op with regions:
`scf.for`, `lane.for_lanes`) that does not also contain the buffer's `tile.alloc` (or
`lane.alloc`) counts as a use over that whole op, first to last nested op: the loop may
run its body again, so the buffer is live across every iteration.  A buffer allocated
inside a loop body is a new buffer per iteration, so its uses in that body count where they
are.  Two buffers whose live ranges do not intersect may share memory.  A buffer without
uses is live at its alloc only.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import Block, Operation

from plena_mlir.dialects import lane, tile

#: The ops that make a buffer: `tile.alloc` and `lane.alloc`.
AllocOp = tile.AllocOp | lane.AllocOp


@dataclass(frozen=True)
class LiveRange:
    """The closed interval [start, end] of program positions where a buffer is live."""

    start: int
    end: int

    def overlaps(self, other: LiveRange) -> bool:
        return self.start <= other.end and other.start <= self.end


def program_spans(block: Block) -> dict[Operation, LiveRange]:
    """Each op of `block` (and nested in it) -> [its position, the last nested position]."""
    spans: dict[Operation, LiveRange] = {}
    counter = 0

    def visit(body: Block) -> None:
        nonlocal counter
        for op in body.ops:
            start = counter
            counter += 1
            for region in op.regions:
                for nested in region.blocks:
                    visit(nested)
            spans[op] = LiveRange(start, counter - 1)

    visit(block)
    return spans


def live_range(alloc: AllocOp, spans: dict[Operation, LiveRange]) -> LiveRange:
    """The live range of the buffer `alloc` makes (module docstring)."""
    block = alloc.parent_block()
    assert block is not None
    ranges = []
    for use in alloc.result.uses:
        ancestor = block.find_ancestor_op_in_block(use.operation)
        assert ancestor is not None, "a use of a buffer outside the block of its tile.alloc"
        ranges.append(spans[ancestor])
    if not ranges:
        return LiveRange(spans[alloc].start, spans[alloc].start)
    return LiveRange(min(r.start for r in ranges), max(r.end for r in ranges))
