"""The pieces of `plena-optimize-scalar` (passes/optimize_scalar.py), one file per step.

- `values.py`: u32 semantics of the scalar integer instructions, which SSA values are
  constants, the zero register;
- `effects.py`: the memory effects of the plena ops as CSE and dead-code checks ask them;
- `folding.py`: constant folding and algebraic simplification (rewrite patterns);
- `sharing.py`: common subexpression elimination;
- `hoisting.py`: loop-invariant code motion out of `plena.loop`;
- `state_writes.py`: removal of C_SET_* writes of a value the register already holds;
- `unrolling.py`: unrolling of loops whose body is tiny;
- `immediates.py`: `plena.li` -> S_ADDI_INT / S_LUI_INT;
- `loop_limit.py`: the static MAX_LOOP_INSTRUCTIONS check.
"""
