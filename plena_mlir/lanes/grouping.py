"""Group the per-lane ops of a lane kernel into `lane.for_lanes` loops, still on `tile` ops.

In every block, each maximal run of consecutive per-lane ops (`op_classes`; an `scf.for`
holding only per-lane ops counts as one) and the neutral index math between them becomes ONE
loop over the lanes, not one loop per op:

    per-lane A; %i = arith...; per-lane B; multi-lane C; per-lane D
 -> lane.for_lanes { A; %i = ...; B }; C; lane.for_lanes { D }

Multi-lane ops never enter a loop (they end the run); a mixed `scf.for` ends the run and gets
its own loops inside its body.  Neutral ops at the ends of a run stay outside, and one inside
whose result is used after the loop is placed before it (index math is pure).  A copy of the
in-place legalisation (`in_place`) that touches no buffer the run so far reads or writes
moves above the run instead of ending it.
"""

from __future__ import annotations

from xdsl.ir import Block, Operation
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import MemoryEffectKind, get_effects

from plena_mlir.dialects.lane import ForLanesOp
from plena_mlir.dialects.tile import CopyOp
from plena_mlir.lanes.op_classes import LaneClass, classify
from plena_mlir.lanes.packing import LaneLayouts
from plena_mlir.target import Target


def group_lane_loops(block: Block, layouts: LaneLayouts, target: Target, copies: set[CopyOp]):
    """Put the per-lane runs of `block` (and of nested mixed loops) into lane loops."""
    run: list[tuple[Operation, LaneClass]] = []
    for op in list(block.ops):
        kind = classify(op, layouts, target)
        if kind is LaneClass.PER_LANE or (kind is LaneClass.NEUTRAL and run):
            run.append((op, kind))
            continue
        if kind is LaneClass.NEUTRAL:
            continue
        if op in copies and run and _commutes(op, [o for o, _ in run]):
            op.detach()
            Rewriter.insert_op(op, InsertPoint.before(run[0][0]))
            continue
        _close(run, target)
        run = []
        if kind is LaneClass.MIXED:
            for region in op.regions:
                for inner in region.blocks:
                    group_lane_loops(inner, layouts, target, copies)
    _close(run, target)


def _touched(ops: list[Operation]) -> tuple[set, set]:
    """(buffers read, buffers written) by `ops` and everything nested in them."""
    read, written = set(), set()
    for op in ops:
        for inner in op.walk():
            for effect in get_effects(inner) or ():
                (written if effect.kind is MemoryEffectKind.WRITE else read).add(effect.value)
    return read, written


def _commutes(copy: CopyOp, run: list[Operation]) -> bool:
    """Whether `copy` may run before `run`: the run neither writes its source nor touches its
    destination."""
    read, written = _touched(run)
    return copy.src not in written and copy.dst not in read | written


def _close(run: list[tuple[Operation, LaneClass]], target: Target) -> None:
    """Wrap `run` in a lane loop (module docstring)."""
    while run and run[-1][1] is LaneClass.NEUTRAL:
        run.pop()
    if not run:
        return
    ops = [op for op, _ in run]
    inside = set(ops)
    hoisted: set[Operation] = set()
    for op, kind in reversed(run):
        if kind is not LaneClass.NEUTRAL:
            continue
        users = {_top_level(use.operation, inside) for r in op.results for use in r.uses}
        if None in users or users & hoisted:
            hoisted.add(op)
    loop = ForLanesOp(target.lanes)
    Rewriter.insert_op(loop, InsertPoint.before(ops[0]))
    for op in ops:
        op.detach()
        if op in hoisted:
            Rewriter.insert_op(op, InsertPoint.before(loop))
        else:
            loop.body.block.add_op(op)


def _top_level(op: Operation, run: set[Operation]) -> Operation | None:
    """The op of `run` that is or encloses `op`, or None."""
    current: Operation | None = op
    while current is not None and current not in run:
        current = current.parent_op()
    return current
