"""The library kernels: interpreter(exact) is the NumPy math, interpreter(rounded) is the golden.

Every element is compared; a failure names the max and mean error and the worst index.
"""

import numpy as np
import pytest

from plena_mlir.interp import interpret_kernel
from plena_mlir.kernels import linear, rmsnorm, softmax

RNG = np.random.default_rng(2024)
HBM_FORMATS = ("fp32", "mxfp8")


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    """|actual - expected| <= rtol * max|expected| everywhere, else a message with the max and
    mean error and the worst index."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    bound = rtol * np.max(np.abs(expected))
    if not np.all(error <= bound):  # also fails on NaN
        worst = np.unravel_index(np.nanargmax(error), error.shape)
        raise AssertionError(
            f"{what}: max error {np.nanmax(error):.3g} (bound {bound:.3g}), mean error "
            f"{np.nanmean(error):.3g}, worst at {worst}: got {actual[worst]!r}, expected "
            f"{expected[worst]!r}; {np.isnan(error).sum()} NaN"
        )


def _inputs(**shapes: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {name: RNG.standard_normal(shape) for name, shape in shapes.items()}


# ---------------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "cols"), [(64, 64), (128, 64), (64, 192)])
def test_softmax(rows, cols):
    module = softmax.build(rows, cols)
    inputs = _inputs(x=(rows, cols))
    x = inputs["x"] * 4
    inputs["x"] = x
    math = np.exp(x - x.max(axis=1, keepdims=True))
    math /= math.sum(axis=1, keepdims=True)
    exact = interpret_kernel(module, "softmax", inputs)["y"]
    assert_close(exact, math, 1e-14, "softmax exact vs NumPy")
    for hbm_format in HBM_FORMATS:
        rounded = interpret_kernel(module, "softmax", inputs, mode="rounded", hbm_format=hbm_format)
        golden = softmax.golden(inputs, hbm_format=hbm_format)
        assert_close(rounded["y"], golden["y"], 0.0, f"softmax rounded ({hbm_format}) vs golden")
    # the rounding is modelled, and is bf16-sized: a few bf16 ulps of the largest output
    fp32 = softmax.golden(inputs)["y"]
    assert not np.array_equal(fp32, math)
    assert_close(fp32, math, 2**-6, "softmax golden vs NumPy")


# ---------------------------------------------------------------------------------------------
# rmsnorm
# ---------------------------------------------------------------------------------------------


def _rmsnorm_math(x: np.ndarray, w: np.ndarray, head_dim: int, eps: float) -> np.ndarray:
    groups = x.reshape(x.shape[0], -1, head_dim)
    rms = np.sqrt(np.mean(groups**2, axis=-1, keepdims=True) + eps)
    return (groups / rms * w).reshape(x.shape)


@pytest.mark.parametrize(
    ("rows", "hidden", "head_dim"),
    [(128, 1024, 1024), (128, 128, 16), (64, 256, 64), (128, 128, 128)],
)
def test_rmsnorm(rows, hidden, head_dim):
    module = rmsnorm.build(rows, hidden, head_dim)
    inputs = _inputs(x=rmsnorm.tensor_shape(rows, hidden, head_dim), w=(head_dim,))
    eps = 1e-6
    exact = interpret_kernel(module, "rmsnorm", inputs, eps=eps)["y"]
    math = _rmsnorm_math(inputs["x"], inputs["w"], head_dim, eps)
    assert_close(exact, math, 1e-14, "rmsnorm exact vs NumPy")
    for hbm_format in HBM_FORMATS:
        rounded = interpret_kernel(
            module, "rmsnorm", inputs, mode="rounded", hbm_format=hbm_format, eps=eps
        )
        golden = rmsnorm.golden(inputs, eps, head_dim, hbm_format=hbm_format)
        assert_close(rounded["y"], golden["y"], 0.0, f"rmsnorm rounded ({hbm_format}) vs golden")
    assert_close(rmsnorm.golden(inputs, eps, head_dim)["y"], math, 2**-6, "golden vs NumPy")


def test_rmsnorm_marks_the_head_axis_as_the_lane_axis_only_with_several_heads():
    assert "%head = 8 lane" in str(rmsnorm.build(128, 128, 16))
    assert "lane" not in str(rmsnorm.build(128, 128, 128))


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m", "n", "k", "bias", "transpose_b"),
    [
        (128, 128, 128, True, True),
        (64, 64, 64, False, True),
        (128, 192, 256, True, False),
        (256, 512, 512, True, True),
    ],
)
def test_linear(m, n, k, bias, transpose_b):
    module = linear.build(m, n, k, bias, transpose_b)
    shapes = {"a": (m, k), "b": (n, k) if transpose_b else (k, n)}
    inputs = _inputs(**shapes, **({"bias": (n,)} if bias else {}))
    b = inputs["b"].T if transpose_b else inputs["b"]
    math = inputs["a"] @ b + (inputs["bias"] if bias else 0)
    exact = interpret_kernel(module, "linear", inputs)["c"]
    assert_close(exact, math, 1e-14, "linear exact vs NumPy")
    for hbm_format in HBM_FORMATS:
        rounded = interpret_kernel(module, "linear", inputs, mode="rounded", hbm_format=hbm_format)
        golden = linear.golden(inputs, transpose_b, hbm_format=hbm_format)
        assert_close(rounded["c"], golden["c"], 0.0, f"linear rounded ({hbm_format}) vs golden")
    assert_close(linear.golden(inputs, transpose_b)["c"], math, 2**-6, "golden vs NumPy")


@pytest.mark.parametrize("build", [lambda: linear.build(100), lambda: softmax.build(rows=96)])
def test_sizes_that_do_not_tile_are_refused(build):
    with pytest.raises(ValueError, match="must be (a )?(positive )?multiples? of 64"):
        build()
