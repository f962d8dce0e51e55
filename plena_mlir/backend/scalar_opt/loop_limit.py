"""The static MAX_LOOP_INSTRUCTIONS check (plena-isa.md section 6).

The machine counts every dispatched instruction in every open loop frame and aborts when one
frame counts more than MAX_LOOP_INSTRUCTIONS since its C_LOOP_START or its last repeat; the
C_LOOP_END that closes an iteration is counted in it.  So one iteration of a loop executes

    iteration(loop) = body(loop) + 1                       # + its C_LOOP_END
    body(block)     = sum over its ops of: 1 per instruction, per plena.li the most
                      instructions it legalises to (2 with a 16-bit imm2 field),
                      1 + count * iteration(inner) per nested loop

and every loop, outer loops included, needs iteration(loop) <= max_loop_instructions.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.scalar_opt.immediates import most_constant_instructions
from plena_mlir.dialects.plena import LoopOp, PlenaInstruction, target_of
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp


def check_loop_instruction_limit(module: ModuleOp) -> None:
    """DiagnosticException naming the first loop (innermost first) one of whose iterations
    can execute more than the target's `max_loop_instructions`."""
    target = target_of(module)
    _body_instructions(
        module.body.block, target.max_loop_instructions, most_constant_instructions(target), ()
    )


def _body_instructions(block: Block, limit: int, per_constant: int, path: tuple[int, ...]) -> int:
    total = 0
    loops = 0
    for op in block.ops:
        if isinstance(op, PlenaInstruction):
            total += 1
        elif isinstance(op, LoadImmediateOp):
            total += per_constant
        elif isinstance(op, LoopOp):
            loops += 1
            body = _body_instructions(op.body.block, limit, per_constant, (*path, loops))
            if body + 1 > limit:
                raise DiagnosticException(_message(op, (*path, loops), body, limit))
            total += 1 + op.count.value.data * (body + 1)
    return total


def _message(loop: LoopOp, path: tuple[int, ...], body: int, limit: int) -> str:
    counter = f"counter %{loop.counter.name_hint}, " if loop.counter.name_hint else ""
    name = f"plena.loop #{'.'.join(map(str, path))} ({counter}count {loop.count.value.data})"
    return (
        f"plena-optimize-scalar: {name}: "
        f"one iteration can execute {body + 1} instructions ({body} in its body, nested "
        f"loops included, + C_LOOP_END) but the target's MAX_LOOP_INSTRUCTIONS is {limit}, so "
        "the machine would abort; give one iteration less work. (#a.b is the b-th loop in "
        "the body of the a-th top-level loop.)"
    )
