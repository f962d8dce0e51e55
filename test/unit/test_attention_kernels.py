"""The attention-family lane kernels (flash_attention, flash_decode, flash_attention_gqa,
online_softmax) and rmsnorm's per-head form, before the lane pipeline compiles them:

- the tile interpreter in rounded mode is the golden, bit for bit, at every size of the spec,
  with fp32 and mxfp8 HBM;
- the exact interpreter is the float64 textbook formula (attention: softmax(QKᵀ/4) V in one
  go, not online);
- plena-infer-memory + plena-expand-lanes keep the meaning: the lane interpreter on the
  expanded kernel is the golden, bit for bit;
- sizes the kernels cannot have are rejected with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects import tile
from plena_mlir.dialects.plena import target_of
from plena_mlir.passes.expand_lanes import ExpandLanesPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.interp import interpret_kernel
from plena_mlir.kernels import (
    flash_attention,
    flash_attention_gqa,
    flash_decode,
    online_softmax,
    rmsnorm,
)
from plena_mlir.kernels.spec import KernelSizeError, KernelSpec
from plena_mlir.target import DEFAULT_TARGET, PRESETS

SPECS: dict[str, KernelSpec] = {
    spec.name: spec
    for module in (flash_attention, flash_decode, flash_attention_gqa, online_softmax)
    for spec in module.SPECS
}
HBM_FORMATS = ("fp32", "mxfp8")
CASES = [
    pytest.param(name, overrides, id=f"{name}-" + "-".join(f"{k}{v}" for k, v in overrides.items()))
    for name, spec in SPECS.items()
    for overrides in ({}, *spec.sizes_to_test())
]


def _split(inputs: dict) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    tensors = {k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}
    return tensors, {k: v for k, v in inputs.items() if k not in tensors}


def _kernel(module: ModuleOp) -> tile.KernelOp:
    return next(op for op in module.walk() if isinstance(op, tile.KernelOp))


def _run(spec: KernelSpec, sizes: dict, module: ModuleOp, mode: str, hbm_format: str = "fp32"):
    tensors, scalars = _split(spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET))
    name = _kernel(module).sym_name.data
    return interpret_kernel(module, name, tensors, mode=mode, hbm_format=hbm_format, **scalars)


# ---------------------------------------------------------------------------------------------
# rounded interpreter = golden
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hbm_format", HBM_FORMATS)
@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_rounded_interpreter_is_the_golden_on_every_element(name, overrides, hbm_format):
    spec = SPECS[name]
    sizes = spec.resolve(overrides)
    module = spec.build(sizes)
    outputs = _run(spec, sizes, module, "rounded", hbm_format)
    inputs = spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET)
    expected = spec.golden(inputs, sizes, target_of(_kernel(module)), hbm_format)
    for tensor, golden in expected.items():
        # not a comparison of zeros (an output head slice of a wider O leaves half of it 0)
        assert np.isfinite(golden).all() and np.count_nonzero(golden) > golden.size // 3
        np.testing.assert_array_equal(outputs[tensor], golden, err_msg=f"{name} {tensor}")


# ---------------------------------------------------------------------------------------------
# exact interpreter = textbook math
# ---------------------------------------------------------------------------------------------


def _textbook_attention(inputs: dict, sizes: dict, kv_heads: int, o_heads: int, offset: int):
    """softmax(Q·Kᵀ / sqrt(D)) V per head in float64, the whole key sequence at once (the
    scale 1/sqrt(D) as the kernel's f32 constant holds it)."""
    q, k, v = (inputs[n][0].astype(np.float64) for n in "QKV")  # [seq, heads, D]
    heads = q.shape[1]
    kv = np.arange(heads) % kv_heads
    scale = np.float64(np.float32(1.0 / np.sqrt(q.shape[2])))
    scores = np.einsum("shd,thd->hst", q, k[:, kv]) * scale
    p = np.exp(scores - scores.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    out = np.zeros((1, q.shape[0], o_heads, q.shape[2]))
    out[0, :, offset : offset + heads] = np.einsum("hst,thd->shd", p, v[:, kv])
    return out


def _textbook_online_softmax(inputs: dict) -> dict[str, np.ndarray]:
    s = inputs["S"].astype(np.float64)  # [1, rows, heads, MLEN]
    m_in, l_in = (inputs[n][..., 0].astype(np.float64) for n in ("m_in", "l_in"))
    m_new = np.maximum(m_in, s.max(axis=3))
    p = np.exp(s - m_new[..., None])
    alpha = np.exp(m_in - m_new)
    l_new = l_in * alpha + p.sum(axis=3)
    state = {"m_out": m_new, "l_out": l_new, "alpha": alpha}
    width = inputs["m_in"].shape[3]  # head_dim: the state is the same in every column
    return {"P": p, **{n: np.repeat(x[..., None], width, axis=3) for n, x in state.items()}}


def _textbook(name: str, inputs: dict, sizes: dict) -> dict[str, np.ndarray]:
    if name == "online_softmax":
        return _textbook_online_softmax(inputs)
    heads = sizes["heads"]
    o_heads = sizes.get("o_heads") or heads
    o = _textbook_attention(
        inputs, sizes, sizes.get("kv_heads", heads), o_heads, sizes.get("o_head_offset", 0)
    )
    return {"O": o}


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_exact_interpreter_is_the_textbook_formula(name, overrides):
    """Exact mode is float64 without rounding; the online softmax only reorders the sums and
    factors exp(s - m) = exp(s - m_new) * exp(m_new - m), so every element agrees to a few
    float64 ulps of the largest value (a 1e-12 relative bound leaves 4 decimal orders of
    margin over the 2^-52 * (kv length) a sum of up to 192 terms can lose)."""
    spec = SPECS[name]
    sizes = spec.resolve(overrides)
    exact = _run(spec, sizes, spec.build(sizes), "exact")
    math = _textbook(name, spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET), sizes)
    for tensor, expected in math.items():
        np.testing.assert_allclose(
            exact[tensor], expected, rtol=0, atol=1e-12 * np.abs(expected).max(), err_msg=tensor
        )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_golden_is_near_the_textbook_formula(name):
    """The machine's rounding points (bf16 scores, probabilities and products, fp16 state)
    stay within 2^-5 of the largest output of the exact result with fp32 HBM: bf16 keeps 8
    significant bits (relative 2^-9 per rounding), and about eight roundings lie between an
    input and an output.  A golden that dropped a rescale or a row would be off by O(1)."""
    spec = SPECS[name]
    sizes = spec.resolve({})
    inputs = spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET)
    golden = spec.golden(inputs, sizes, target_of(_kernel(spec.build(sizes))), "fp32")
    for tensor, expected in _textbook(name, inputs, sizes).items():
        bound = 2**-5 * np.abs(expected).max()
        assert np.abs(golden[tensor] - expected).max() <= bound, tensor
        assert not np.array_equal(golden[tensor], expected)  # the golden really rounds


# ---------------------------------------------------------------------------------------------
# the kernels as plena-expand-lanes sees them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hbm_format", HBM_FORMATS)
@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_expanded_lane_kernel_is_the_golden(name, overrides, hbm_format):
    spec = SPECS[name]
    sizes = spec.resolve(overrides)
    module = spec.build(sizes)
    for compile_pass in (InferMemoryPass(), ExpandLanesPass()):
        compile_pass.apply(Context(), module)
    module.verify()
    kernel = _kernel(module)
    assert kernel.lane is None
    packed = sizes.get("head_dim", DEFAULT_TARGET.hlen) < DEFAULT_TARGET.mlen
    # heads of HLEN become lane IR; heads of whole rows stay tile IR, one head per instance
    assert packed != any(isinstance(op, tile.TileOp) for op in kernel.body.walk())
    outputs = _run(spec, sizes, module, "rounded", hbm_format)
    inputs = spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET)
    for tensor, golden in spec.golden(inputs, sizes, target_of(kernel), hbm_format).items():
        np.testing.assert_array_equal(outputs[tensor], golden, err_msg=f"{name} {tensor}")


def _preset_case(name: str, preset: str):
    """The 8-lane flash attention interprets 1024-wide tiles for a while: a geometry case."""
    slow = preset == "plena-tvm-mlen1024" and name.startswith("flash_attention")
    marks = (pytest.mark.geometry,) if slow else ()
    return pytest.param(name, preset, marks=marks, id=f"{name}-{preset}")


@pytest.mark.parametrize(
    ("name", "preset"),
    [_preset_case(n, p) for n in SPECS for p in PRESETS if p != DEFAULT_TARGET.name],
)
def test_expanded_lane_kernel_is_the_golden_at_every_preset(name, preset):
    """The lane engine at every geometry (L = 4 lanes of 16, 64 and 128 columns, L = 8 at
    MLEN 1024): the default sizes there, expanded, interpret to the golden bit for bit."""
    spec, target = SPECS[name], PRESETS[preset]
    sizes = spec.resolve({}, target)
    module = spec.build(sizes, target)
    for compile_pass in (InferMemoryPass(), ExpandLanesPass()):
        compile_pass.apply(Context(), module)
    assert "lane.for_lanes" in str(module)
    inputs = spec.make_inputs(sizes, np.random.default_rng(3), target)
    tensors, scalars = _split(inputs)
    outputs = interpret_kernel(module, name, tensors, mode="rounded", **scalars)
    for tensor, golden in spec.golden(inputs, sizes, target, "fp32").items():
        np.testing.assert_array_equal(outputs[tensor], golden, err_msg=f"{name} {tensor}")


def test_flash_attention_scores_are_one_btmm_and_pv_a_per_lane_gemm():
    module = flash_attention.build()
    for compile_pass in (InferMemoryPass(), ExpandLanesPass()):
        compile_pass.apply(Context(), module)
    text = str(module)
    assert text.count("lane.btmm") == 1 and text.count("lane.gemm") == 1
    assert "grid(%q_block = 2, %head = 2)" in text  # 8 heads = 2 groups of 4 lanes


def test_flash_decode_scores_are_one_btmv():
    module = flash_decode.build()
    for compile_pass in (InferMemoryPass(), ExpandLanesPass()):
        compile_pass.apply(Context(), module)
    assert str(module).count("lane.btmv") == 1


# ---------------------------------------------------------------------------------------------
# rmsnorm per head (QK-norm): a BSHD [rows, heads, 16] tensor, the head axis a lane axis
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hbm_format", HBM_FORMATS)
def test_rmsnorm_per_head_expands_to_the_golden(hbm_format):
    spec = rmsnorm.SPECS[0]
    sizes = spec.resolve({"hidden": 128, "head_dim": 16})
    module = spec.build(sizes)
    assert "%x : !tile.tensor<128x8x16xf32>" in str(module)
    assert "%head = 8 lane" in str(module)
    for compile_pass in (InferMemoryPass(), ExpandLanesPass()):
        compile_pass.apply(Context(), module)
    assert "lane.for_lanes" in str(module)
    outputs = _run(spec, sizes, module, "rounded", hbm_format)
    inputs = spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET)
    golden = spec.golden(inputs, sizes, target_of(_kernel(module)), hbm_format)
    np.testing.assert_array_equal(outputs["y"], golden["y"])


# ---------------------------------------------------------------------------------------------
# sizes a kernel cannot have
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("flash_attention", {"heads": 6}, r"heads \(6\) must be a positive multiple of 4$"),
        ("flash_attention", {"q_blocks": 0}, r"q_blocks \(0\) and kv_blocks \(2\) must be"),
        (
            "flash_attention",
            {"o_heads": 12, "o_head_offset": 8},
            r"heads 8 \.\. 15 of the output do not fit its o_heads \(12\)",
        ),
        (
            "flash_attention_gqa",
            {"kv_heads": 2},
            r"kv_heads \(2\) must be a positive multiple of 4 dividing heads \(8\)",
        ),
        ("flash_decode", {"kv_blocks": 0}, r"kv_blocks \(0\) must be positive"),
        ("online_softmax", {"heads": 2}, r"heads \(2\) must be a positive multiple of 4"),
        (
            "flash_attention",
            {"head_dim": 32},
            r"head_dim \(32\) must be HLEN = 16 \(heads packed into lanes\) or a positive "
            r"multiple of MLEN = 64 \(one head per tile width\)",
        ),
        ("online_softmax", {"head_dim": 8}, r"head_dim \(8\) must be HLEN = 16"),
        (
            "flash_attention_gqa",
            {"heads": 6, "kv_heads": 4, "head_dim": 64},
            r"kv_heads \(4\) must be positive, dividing heads \(6\)",
        ),
    ],
)
def test_impossible_sizes_are_rejected_with_the_reason(name, overrides, message):
    spec = SPECS[name]
    with pytest.raises(KernelSizeError, match=f"^{name}: .*{message}"):
        spec.build(spec.resolve(overrides))
