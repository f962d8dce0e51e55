"""Every kernel of `plena_mlir.kernels` at its default sizes and its `test_sizes`, compiled,
simulated with fp32 and with mxfp8 HBM, and compared element by element with its golden
(`plena_mlir.driver.compare`: a few bf16 ulps with fp32 HBM, one MX step with mxfp8 HBM)."""

import numpy as np
import pytest

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel
from plena_mlir.target import DEFAULT_TARGET

CASES = [
    pytest.param(spec, overrides, id=f"{name}-" + "-".join(f"{k}{v}" for k, v in overrides.items()))
    for name, spec in all_kernels().items()
    for overrides in ({}, *spec.sizes_to_test())
]


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize("spec, overrides", CASES)
def test_kernel_matches_golden(spec, overrides, hbm_format) -> None:
    sizes = spec.resolve(overrides)
    inputs = spec.make_inputs(sizes, np.random.default_rng(len(str(sizes))), DEFAULT_TARGET)
    compiled = compile_kernel(spec.build(sizes))
    outputs, stats = run_kernel(compiled, inputs, hbm_format)
    expected = spec.golden(inputs, sizes, compiled.target, hbm_format)
    assert stats.instructions > 0
    for name, golden in expected.items():
        result = compare(outputs[name], golden, hbm_format)
        if not result.passed:
            pytest.fail(f"{spec.name} {sizes}, output {name}: {result.describe()}")
