"""The goldens of the lane-free kernels (rope, copy_offset, gelu, silu, modulate,
residual_gate with head offsets): the interpreter's rounded mode on the kernel's tile IR is
the golden bit for bit; its exact mode is the textbook maths; the golden differs from the
maths only by the machine's rounding.  Every element is compared."""

import numpy as np
import pytest

from plena_mlir.interp import interpret_kernel
from plena_mlir.kernels import all_kernels, copy_offset, rope
from plena_mlir.kernels.spec import KernelSizeError
from plena_mlir.target import DEFAULT_TARGET

HBM_FORMATS = ("fp32", "mxfp8")


def _textbook_rope(x: np.ndarray, angles: np.ndarray, head_dim: int) -> np.ndarray:
    """RoPE on interleaved pairs in float64: angles[s, i] for pair i of every head."""
    rows, cols = x.shape
    pairs = x.astype(np.float64).reshape(rows, cols // head_dim, head_dim // 2, 2)
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    even, odd = pairs[..., 0], pairs[..., 1]
    out = np.stack([even * cos - odd * sin, odd * cos + even * sin], axis=-1)
    return out.reshape(rows, cols)


@pytest.mark.parametrize(
    ("rows", "heads", "head_dim"), [(128, 8, 16), (64, 4, 64), (64, 2, 128), (192, 16, 16)]
)
def test_rope_golden_is_the_interpreter_and_the_textbook_formula(rows, heads, head_dim):
    sizes = {"rows": rows, "heads": heads, "head_dim": head_dim}
    inputs = rope.make_inputs(sizes, np.random.default_rng(rows + heads))
    module = rope.build(rows=rows, heads=heads, head_dim=head_dim)
    angles = np.arange(rows)[:, None] * rope.BASE ** (
        -2.0 * np.arange(head_dim // 2) / head_dim
    )
    math = _textbook_rope(inputs["x"], angles, head_dim)
    exact = interpret_kernel(module, "rope", inputs)["y"]
    np.testing.assert_allclose(exact, math, rtol=0, atol=1e-6)  # the f32 tables' rounding
    for hbm_format in HBM_FORMATS:
        rounded = interpret_kernel(module, "rope", inputs, mode="rounded", hbm_format=hbm_format)
        golden = rope.golden(inputs, hbm_format=hbm_format)["y"]
        np.testing.assert_array_equal(rounded["y"], golden)
    # bf16 products and sum: a few bf16 ulps of |x| (<= 5 here), not more
    fp32 = rope.golden(inputs)["y"]
    assert not np.array_equal(fp32, math)
    np.testing.assert_allclose(fp32, math, rtol=0, atol=3 * 2**-8 * np.abs(inputs["x"]).max())


def test_rope_rotation_swaps_pairs_with_the_sign_folded_in():
    mlen = DEFAULT_TARGET.mlen
    r = rope.rotation(DEFAULT_TARGET).T  # R = [I ; P] as (K, N)
    v = np.arange(1.0, mlen + 1.0)
    assert np.array_equal(v @ r[:mlen], v)
    swapped = v @ r[mlen:]
    assert np.array_equal(swapped[0::2], -v[1::2]) and np.array_equal(swapped[1::2], v[0::2])


def test_rope_tables_hold_one_row_per_position_repeated_over_the_heads():
    cos, sin = rope.tables(3, 16)
    assert cos.shape == sin.shape == (3, 64)
    assert np.array_equal(cos[:, :16], cos[:, 16:32]) and np.array_equal(cos[:, 0], cos[:, 1])
    np.testing.assert_allclose(sin[2, 2], np.sin(2 * rope.BASE ** (-2 / 16)), rtol=1e-6)
    assert rope.tables(1, 128)[0].shape == (1, 128)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"rows": 100}, "multiple of 64"),
        ({"heads": 3}, "multiple of 64"),
        ({"heads": 8, "head_dim": 24}, "must divide 64"),
    ],
)
def test_rope_rejects_sizes_it_cannot_run(sizes, message):
    with pytest.raises(ValueError, match=message):
        rope.build(**{"rows": 128, "heads": 8, "head_dim": 16, **sizes})


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


#: The maths of each kernel with a head offset, on float64 inputs.
MATH = {
    "gelu": lambda v: _gelu(v["x"]),
    "silu": lambda v: v["x"] / (1 + np.exp(-v["x"])),
    "modulate": lambda v: (1 + v["scale"]) * v["x"] + v["shift"],
    "residual_gate": lambda v: v["x"] + v["gate"] * v["r"],
    "copy_offset": lambda v: v["x"],
    "copy_offset_const_mul": lambda v: copy_offset.SCALE * v["x"],
    "copy_offset_exp": lambda v: np.exp(v["x"]),
    "copy_offset_reci": lambda v: 1 / v["x"],
}


@pytest.mark.parametrize("name", sorted(MATH))
@pytest.mark.parametrize("offset", [0, 4, 8])
def test_head_offset_golden_is_the_interpreter_and_the_maths(name, offset):
    """heads offset.. offset+7 of a 16-head y: exact mode is the maths in those columns (to the
    f32 rounding of the kernel's constants) and
    y's prior contents elsewhere; the rounded interpreter is the golden bit for bit; the
    golden is the maths to bf16 precision."""
    spec = all_kernels()[name]
    sizes = spec.resolve({"o_heads": 16, "o_head_offset": offset})
    inputs = spec.make_inputs(sizes, np.random.default_rng(offset), DEFAULT_TARGET)
    assert inputs["y"].shape == (128, 256)
    module = spec.build(sizes)
    inside = np.zeros(256, bool)
    inside[offset * 16 : offset * 16 + 128] = True
    math = MATH[name]({n: v.astype(np.float64) for n, v in inputs.items()})
    exact = interpret_kernel(module, name, inputs)["y"]
    scale = np.abs(math).max()
    np.testing.assert_allclose(exact[:, inside], math, rtol=1e-6, atol=1e-6 * scale)
    assert np.array_equal(exact[:, ~inside], inputs["y"][:, ~inside])
    for hbm_format in HBM_FORMATS:
        rounded = interpret_kernel(module, name, inputs, mode="rounded", hbm_format=hbm_format)
        golden = spec.golden(inputs, sizes, DEFAULT_TARGET, hbm_format)["y"]
        np.testing.assert_array_equal(rounded["y"], golden)
    golden = spec.golden(inputs, sizes, DEFAULT_TARGET, "fp32")["y"]
    assert np.array_equal(golden[:, ~inside], inputs["y"][:, ~inside])
    np.testing.assert_allclose(golden[:, inside], math, rtol=2**-6, atol=2**-6 * scale)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"o_heads": 16, "o_head_offset": 2}, r"column at 32.*o_head_offset a multiple of 4"),
        ({"o_heads": 16, "o_head_offset": 9}, "heads 9 .. 16 do not fit"),
        ({"o_heads": 4, "o_head_offset": 0}, "heads 0 .. 7 do not fit"),
        ({"o_heads": 16, "o_head_offset": -4}, "do not fit"),
        ({"heads": 2, "o_heads": 16}, "multiple of 64"),
        ({"heads": 4, "head_dim": 32, "o_heads": 12, "o_head_offset": 3},
         "column at 96.*o_head_offset a multiple of 2"),
    ],
)
@pytest.mark.parametrize("name", sorted(MATH))
def test_head_offsets_a_store_cannot_honour_are_build_errors(name, sizes, message):
    spec = all_kernels()[name]
    with pytest.raises(KernelSizeError, match=message):
        spec.build(spec.resolve(sizes))
