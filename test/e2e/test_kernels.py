"""Kernels from `plena_mlir.kernels`, compiled with `compile_kernel`, run on the simulator and
compared element by element with the kernel's `golden` (the machine's rounding points).

fp32 HBM: the program's bf16/fp16 results must match the golden to a few bf16 ulps.  MXFP8
HBM: the golden is computed on the same MX-quantised inputs and MX-encodes its result as
H_STORE_V does, so the two must agree to one MX step of the stored value.
"""

import numpy as np
import pytest

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.kernels import rmsnorm, softmax
from plena_mlir.numerics.rounding import hbm_input
from plena_mlir.pipeline import compile_kernel


def assert_matches(actual: np.ndarray, golden: np.ndarray, hbm_format: str) -> None:
    """Every element within `plena_mlir.driver.compare`'s tolerance; the failure gives max/mean
    error and the worst index."""
    result = compare(actual, golden, hbm_format)
    if not result.passed:
        pytest.fail(result.describe())


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize("rows, cols", [(64, 64), (128, 192)])
def test_softmax(rows: int, cols: int, hbm_format: str) -> None:
    x = np.random.default_rng(rows + cols).normal(0.0, 3.0, (rows, cols)).astype(np.float32)
    compiled = compile_kernel(softmax.build(rows, cols))
    outputs, stats = run_kernel(compiled, {"x": x}, hbm_format)
    golden = softmax.golden({"x": x}, hbm_format=hbm_format)
    assert_matches(outputs["y"], golden["y"], hbm_format)
    assert stats.instructions > 0
    if hbm_format == "fp32":  # rows sum to 1, to the bf16/fp16 rounding of the elements
        np.testing.assert_allclose(outputs["y"].sum(axis=1), 1.0, rtol=0.02)


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize("rows, hidden", [(64, 128), (128, 256)])
def test_rmsnorm(rows: int, hidden: int, hbm_format: str) -> None:
    rng = np.random.default_rng(rows * hidden)
    inputs = {
        "x": rng.normal(0.0, 2.0, (rows, hidden)).astype(np.float32),
        "w": rng.normal(1.0, 0.5, hidden).astype(np.float32),
    }
    eps = 1e-5
    compiled = compile_kernel(rmsnorm.build(rows, hidden))
    outputs, _ = run_kernel(compiled, {**inputs, "eps": eps}, hbm_format)
    golden = rmsnorm.golden(inputs, eps, hbm_format=hbm_format)
    assert_matches(outputs["y"], golden["y"], hbm_format)
    # the kernel does not write its inputs: HBM still holds them as the host placed them
    assert np.array_equal(outputs["x"], hbm_input(inputs["x"], hbm_format))
    assert np.array_equal(outputs["w"], hbm_input(inputs["w"], hbm_format))


def test_run_kernel_reports_bad_inputs() -> None:
    compiled = compile_kernel(rmsnorm.build(64, 128))
    with pytest.raises(ValueError, match="no argument z"):
        run_kernel(compiled, {"z": np.zeros(3), "eps": 1.0})
    with pytest.raises(ValueError, match="no value for the scalar eps"):
        run_kernel(compiled, {"x": np.zeros((64, 128))})
    with pytest.raises(ValueError, match=r"x must have shape \(64, 128\)"):
        run_kernel(compiled, {"x": np.zeros((64, 64)), "eps": 1.0})
