"""`plena-optimize-scalar`: scalar clean-up of the `plena` program before register allocation.

Input: `plena` instructions on unallocated registers, `plena.loop`, gp0 read through
`plena.get_register`, and integer constants as `plena.li` (any u32).  Output: the same
program with no `plena.li` left and every op legal for the target, after these steps
(each in `plena_mlir/backend/scalar_opt/`, whose docstrings give the exact rules):

1. constant folding and algebraic simplification of the scalar integer instructions;
2. CSE (xDSL's algorithm, driven by the ops' memory effects: an instruction on unallocated
   registers that touches no machine state is pure), within a block and from enclosing blocks;
3. hoisting of loop-invariant constants and scalar arithmetic out of `plena.loop`;
4. removal of C_SET_SCALE/STRIDE/V_MASK/ADDR_REG writes of what the register already holds;
5. unrolling of loops of at most `unroll-max-iterations` iterations whose body has at most
   `unroll-max-body` instructions (then steps 1-4 again);
6. legalisation of `plena.li` into S_ADDI_INT / S_LUI_INT with the target's immediate widths;
7. a DiagnosticException naming the loop when one iteration of a hardware loop can execute
   more than the target's `max_loop_instructions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from plena_mlir.backend.scalar_opt.folding import fold_scalar_arithmetic
from plena_mlir.backend.scalar_opt.hoisting import hoist_loop_invariants
from plena_mlir.backend.scalar_opt.immediates import legalise_constants
from plena_mlir.backend.scalar_opt.loop_limit import check_loop_instruction_limit
from plena_mlir.backend.scalar_opt.sharing import share_common_subexpressions
from plena_mlir.backend.scalar_opt.state_writes import remove_redundant_state_writes
from plena_mlir.backend.scalar_opt.unrolling import unroll_tiny_loops
from plena_mlir.backend.scalar_opt.values import ScalarFacts


@dataclass(frozen=True)
class OptimizeScalarPass(ModulePass):
    """Fold, share, hoist, drop redundant state writes, unroll tiny loops, legalise
    constants, check the hardware-loop instruction limit."""

    name = "plena-optimize-scalar"

    unroll_max_body: int = 2
    """Unroll a loop only if its body has at most this many instructions."""

    unroll_max_iterations: int = 4
    """Unroll a loop only if it runs at most this many iterations (0: never unroll)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        facts = ScalarFacts.of(op)
        _simplify(facts)
        while unroll_tiny_loops(op, self.unroll_max_body, self.unroll_max_iterations):
            _simplify(facts)
        legalise_constants(facts)
        share_common_subexpressions(op)
        check_loop_instruction_limit(op)


def _simplify(facts: ScalarFacts) -> None:
    """Steps 1-4 of the module docstring."""
    fold_scalar_arithmetic(facts)
    share_common_subexpressions(facts.module)
    if hoist_loop_invariants(facts.module):
        share_common_subexpressions(facts.module)
    remove_redundant_state_writes(facts)
