"""conv2d: the packed weight is the convolution's banded matrix, the kernel's tile IR computes
the textbook convolution (exact interpreter), its golden is the rounded interpreter bit for
bit and differs from a float64 direct convolution only by the machine's roundings; sizes the
machine cannot run give errors naming the constraint."""

import numpy as np
import pytest

from plena_mlir.interp import hbm_input, hbm_store, interpret_kernel
from plena_mlir.kernels import all_kernels, conv2d
from plena_mlir.kernels.spec import KernelSizeError

SPEC = all_kernels()["conv2d"]
ALL_SIZES = [SPEC.resolve(), *(SPEC.resolve(s) for s in SPEC.sizes_to_test())]
BF16_ULP = 2.0**-8  # bf16 unit roundoff (8 significant bits)


def _direct_conv(x, weight, bias, width):
    """float64 y[oc, oh, ow] = bias[oc] + sum w[oc, ic, kh, kw] * x[ic, oh+kh, ow+kw], x zero
    right of its last column (the kernel's definition of the last kw-1 columns), and the same
    with |w| * |x| + |bias| (the scale of the rounding errors)."""
    c_out, c_in, kh, kw = weight.shape
    h_out = x.shape[1] - kh + 1
    padded = np.concatenate([x, np.zeros((c_in, x.shape[1], kw - 1))], axis=2).astype(np.float64)
    y = np.zeros((c_out, h_out, width)) + bias[:, None, None]
    size = np.zeros_like(y) + np.abs(bias)[:, None, None]
    for i in range(kh):
        for j in range(kw):
            window = padded[:, i : i + h_out, j : j + width]
            y += np.einsum("oc,chw->ohw", weight[:, :, i, j], window)
            size += np.einsum("oc,chw->ohw", np.abs(weight[:, :, i, j]), np.abs(window))
    return y, size


def _inputs(sizes, seed=0):
    rng = np.random.default_rng(seed)
    shape = (sizes["c_out"], sizes["c_in"], sizes["kh"], sizes["kw"])
    weight = rng.standard_normal(shape).astype(np.float32)
    x = rng.standard_normal((sizes["c_in"], sizes["h_in"], sizes["w"])).astype(np.float32)
    bias = rng.standard_normal(sizes["c_out"]).astype(np.float32)
    inputs = {"x": x, "t": conv2d.pack_weight(weight, sizes["w"])}
    if sizes["bias"]:
        inputs["bias"] = bias
    return inputs, weight, bias if sizes["bias"] else np.zeros_like(bias)


def test_pack_weight_is_the_banded_matrix_of_each_tap():
    weight = np.arange(1.0, 1 + 2 * 3 * 2 * 3).reshape(2, 3, 2, 3).astype(np.float32)
    t = conv2d.pack_weight(weight, 64)
    assert t.shape == (2 * 64, 3 * 2 * 64)
    bands = t.reshape(2, 64, 3, 2, 64)  # [oc, ow, ic, kh, iw]
    for ow in range(64):
        for iw in range(64):
            expected = weight[:, :, :, iw - ow] if 0 <= iw - ow < 3 else 0.0
            assert np.array_equal(bands[:, ow, :, :, iw], np.broadcast_to(expected, (2, 3, 2)))


@pytest.mark.parametrize("sizes", ALL_SIZES, ids=lambda s: "-".join(map(str, s.values())))
def test_golden_is_the_interpreter_and_the_direct_convolution(sizes):
    inputs, weight, bias = _inputs(sizes)
    module = SPEC.build(sizes)
    kh = sizes["kh"]
    direct, size = _direct_conv(inputs["x"], weight, bias, sizes["w"])
    exact = interpret_kernel(module, "conv2d", inputs)["y"]
    np.testing.assert_allclose(exact, direct, rtol=0, atol=1e-12 * size.max())
    goldens = {}
    for hbm_format in ("fp32", "mxfp8"):
        rounded = interpret_kernel(module, "conv2d", inputs, mode="rounded", hbm_format=hbm_format)
        goldens[hbm_format] = conv2d.golden(inputs, kh, hbm_format=hbm_format)["y"]
        np.testing.assert_array_equal(rounded["y"], goldens[hbm_format])
    # fp32 HBM: bf16 x, four bf16 lane partials summed in three bf16 adds, a bf16 bias add:
    # at most 6 roundings of at most one bf16 ulp of sum |w| |x| + |bias| each (+ 1 for slack
    # in second-order terms)
    error = np.abs(goldens["fp32"] - direct)
    assert np.all(error <= 7 * BF16_ULP * size)
    assert error.max() > 0  # the roundings are modelled, not skipped
    # mxfp8 HBM: the same machine on the MX-quantised inputs, the result MX-quantised by the store
    quantised = {name: hbm_input(value, "mxfp8") for name, value in inputs.items()}
    on_quantised = conv2d.golden(quantised, kh, hbm_format="fp32")["y"]
    np.testing.assert_array_equal(goldens["mxfp8"], hbm_store(on_quantised, "mxfp8"))


def test_the_first_columns_are_the_valid_convolution():
    sizes = SPEC.resolve({"c_in": 1, "c_out": 1, "h_in": 18, "kh": 3, "kw": 3, "bias": False})
    inputs, weight, _ = _inputs(sizes, seed=3)
    y = interpret_kernel(SPEC.build(sizes), "conv2d", inputs)["y"]
    x = inputs["x"].astype(np.float64)
    valid = sum(
        weight[0, 0, i, j] * x[0, i : i + 16, j : j + 62] for i in range(3) for j in range(3)
    )
    np.testing.assert_allclose(y[0, :, :62], valid, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"w": 96}, r"width w \(96\) must be a multiple of 64"),
        ({"h_in": 70}, r"output rows h_in - kh \+ 1 \(70 - 3 \+ 1 = 68\) must be a positive "),
        ({"h_in": 2}, r"\(2 - 3 \+ 1 = 0\) must be a positive multiple of 16"),
        ({"kw": 65}, r"kernel width kw \(65\) exceeds the width w \(64\)"),
        ({"c_out": 65}, r"c_out \(65\) must be at most 64"),
        ({"c_in": 0}, "every size must be positive"),
    ],
)
def test_impossible_sizes_name_the_constraint(sizes, message):
    with pytest.raises(KernelSizeError, match=message):
        SPEC.build(SPEC.resolve(sizes))
