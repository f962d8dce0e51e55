"""The element-wise kernels at their default sizes execute at most half the dynamic
instructions of the published compiler (reference-compiler.md figures, MLEN 64 / BLEN 2)."""

import numpy as np
import pytest

from plena_mlir.driver.run import run_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel
from plena_mlir.target import DEFAULT_TARGET

PUBLISHED_INSTRUCTIONS = {
    "layernorm": 325_968,
    "modulate": 7_516,
    "residual_gate": 7_516,
    "concat": 1_370,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_INSTRUCTIONS))
def test_at_most_half_the_published_instructions(name) -> None:
    spec = all_kernels()[name]
    sizes = spec.resolve()
    compiled = compile_kernel(spec.build(sizes))
    inputs = spec.make_inputs(sizes, np.random.default_rng(0), DEFAULT_TARGET)
    _, stats = run_kernel(compiled, inputs, "mxfp8")
    assert stats.instructions <= PUBLISHED_INSTRUCTIONS[name] // 2, stats.per_opcode
