"""Unrolling of hardware loops whose body is tiny.

A loop of `count` <= max_iterations iterations whose body has at most `max_body` instructions
(plena instructions and constants), no nested loop and no C_BREAK, and whose counter, carried
values and body results are all unallocated, becomes `count` copies of its body.  Copy i
(i = 0 .. count-1) reads the counter as the constant count - i (the machine's counter runs
N, N-1, ..., 1) and the carried values as what copy i-1 yielded (the initial values for copy
0); the loop's results become what the last copy yields.  Saved per loop: C_LOOP_START, the
`count` C_LOOP_ENDs and the counter register.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from plena_mlir.backend.scalar_opt.values import has_unallocated_results
from plena_mlir.dialects.plena import LoopOp, PlenaInstruction, YieldOp
from plena_mlir.dialects.plena.control_ops import C_BreakOp
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp


def unroll_tiny_loops(root: Operation, max_body: int, max_iterations: int) -> bool:
    """Unroll every loop in `root` that qualifies; True if any was unrolled."""
    loops = [
        op
        for op in root.walk()
        if isinstance(op, LoopOp) and _qualifies(op, max_body, max_iterations)
    ]
    for loop in loops:
        unroll(loop)
    return bool(loops)


def _qualifies(loop: LoopOp, max_body: int, max_iterations: int) -> bool:
    body = list(loop.body.block.ops)
    instructions = sum(isinstance(op, PlenaInstruction | LoadImmediateOp) for op in body)
    return (
        loop.count.value.data <= max_iterations
        and instructions <= max_body
        and not any(isinstance(op, LoopOp | C_BreakOp) for op in body)
        and all(not arg.type.is_allocated for arg in loop.body.block.args)
        and all(has_unallocated_results(op) for op in body)
    )


def unroll(loop: LoopOp) -> None:
    """Replace `loop` by `count` copies of its body (see the module docstring)."""
    count = loop.count.value.data
    counter, *carried = loop.body.block.args
    values: list[SSAValue] = list(loop.iter_args)
    for iteration in range(count):
        mapping: dict[SSAValue, SSAValue] = dict(zip(carried, values, strict=True))
        if counter.first_use is not None:
            counter_value = LoadImmediateOp(count - iteration)
            Rewriter.insert_op(counter_value, InsertPoint.before(loop))
            mapping[counter] = counter_value.res
        for op in loop.body.block.ops:
            if isinstance(op, YieldOp):
                values = [mapping.get(v, v) for v in op.operands]
            else:
                Rewriter.insert_op(op.clone(value_mapper=mapping), InsertPoint.before(loop))
    for result, value in zip(loop.results, values, strict=True):
        result.replace_all_uses_with(value)
    Rewriter.erase_op(loop)
