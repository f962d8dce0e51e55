"""Loop-invariant code motion out of `plena.loop` bodies.

An op moves to just before its loop when it is a constant (`plena.li`) or a scalar
arithmetic instruction (`ARITHMETIC_OPS`: no INTRAM access, never faults), its results are
unallocated, and every operand is defined outside the loop, so it neither reads the loop's
counter nor a value computed by an earlier iteration.  A hardware loop runs at least once,
so the op runs exactly as often as it is used, and once instead of `count` times.  Inner loops
go first: what leaves an inner loop may then leave the loop around it.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from plena_mlir.backend.scalar_opt.values import ARITHMETIC_OPS, has_unallocated_results
from plena_mlir.dialects.plena import LoopOp
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp

HOISTABLE_OPS = ARITHMETIC_OPS | {LoadImmediateOp}


def hoist_loop_invariants(root: Operation) -> bool:
    """Hoist invariant scalar computations out of every loop in `root`; True if any moved."""
    changed = False
    loops = [op for op in root.walk() if isinstance(op, LoopOp)]
    for loop in reversed(loops):  # an inner loop comes after its parent in `walk` order
        for op in list(loop.body.block.ops):
            if _is_invariant(op, loop):
                op.detach()
                Rewriter.insert_op(op, InsertPoint.before(loop))
                changed = True
    return changed


def _is_invariant(op: Operation, loop: LoopOp) -> bool:
    return (
        type(op) in HOISTABLE_OPS
        and has_unallocated_results(op)
        and not any(_defined_inside(value, loop) for value in op.operands)
    )


def _defined_inside(value: SSAValue, loop: LoopOp) -> bool:
    owner = value.owner
    defining_op = owner if isinstance(owner, Operation) else owner.parent_op()
    return defining_op is not None and loop.is_ancestor(defining_op)
