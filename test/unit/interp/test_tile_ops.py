"""The interpreter's meaning of every `tile` op, exact and with the machine's rounding."""

import ml_dtypes
import numpy as np
import pytest
from plena_mlir.dialects.tile import Tile
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser
from xdsl.utils.exceptions import InterpretationError

from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.gemm.forms import (
    Form,
    GemmFormError,
    GemmShape,
    candidate_forms,
    select_form,
)
from plena_mlir.gemm.results import gemm_result
from plena_mlir.interp import KernelInputError, interpret_kernel
from plena_mlir.numerics.formats import mx_quantize, round_bf16, round_fp16
from plena_mlir.target import DEFAULT_TARGET

RNG = np.random.default_rng(7)


def _parse(text: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Arith, Scf, Tile):
        ctx.load_dialect(dialect)
    return Parser(ctx, text).parse_module()


def _bf16(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)


def _tile(rows: int = 64, cols: int = 64) -> np.ndarray:
    """Random values already representable in bf16 (so loading them is exact)."""
    return _bf16(RNG.standard_normal((rows, cols)))


# ---------------------------------------------------------------------------------------------
# copies and the grid
# ---------------------------------------------------------------------------------------------


def test_every_program_instance_copies_its_own_block():
    with KernelBuilder("k", grid={"i": 2, "j": 3}) as k:
        x, y = k.tensor("x", (128, 192)), k.tensor("y", (128, 192))
        t = k.alloc((64, 64))
        r, c = k.axis("i") * 64, k.axis("j") * 64
        k.copy(x[r, c], t)
        k.copy(t, y[r, c])
    x = _tile(128, 192)
    np.testing.assert_array_equal(interpret_kernel(k.module, "k", {"x": x})["y"], x)


def test_head_copy_with_sizes_and_a_bias_row():
    with KernelBuilder("k", grid={"h": 8}, lane="h") as k:
        q, o = k.tensor("q", (1, 64, 8, 16)), k.tensor("o", (1, 64, 8, 16))
        bias = k.tensor("bias", (16,))
        qh, row = k.alloc((64, 16)), k.alloc((1, 16))
        h = k.axis("h")
        k.copy(q[0, 0, h, 0], qh, src_sizes=(1, 64, 1, 16))
        k.copy(bias[0], row)
        qh += row
        k.copy(qh, o[0, 0, h, 0], dst_sizes=(1, 64, 1, 16))
    q, bias = _bf16(RNG.standard_normal((1, 64, 8, 16))), _bf16(RNG.standard_normal(16))
    out = interpret_kernel(k.module, "k", {"q": q, "bias": bias})["o"]
    np.testing.assert_array_equal(out, q + bias)


def test_copies_between_on_chip_buffers():
    with KernelBuilder("k") as k:
        x, y = k.tensor("x", (64, 64)), k.tensor("y", (64, 64))
        t, wide = k.alloc((64, 16)), k.alloc((64, 64))
        m = k.alloc((64,), "fpram")
        k.copy(x[0, 16], t, src_sizes=(64, 16))  # a column block
        k.copy(x[0, 0], wide)
        k.copy(t, wide[0, 48])  # into another column block
        k.copy(wide[5, 0], m)  # row 5 -> FPRAM
        k.copy(m, wide[0, 0])  # FPRAM -> row 0
        k.copy(wide, y)
    x = _tile()
    expected = x.copy()
    expected[:, 48:] = x[:, 16:32]
    expected[0] = expected[5]
    np.testing.assert_array_equal(interpret_kernel(k.module, "k", {"x": x})["y"], expected)


def test_a_buffer_read_before_it_is_written_is_nan():
    with KernelBuilder("k") as k:
        y = k.tensor("y", (64, 64))
        k.copy(k.alloc((64, 64)), y)
    assert np.isnan(interpret_kernel(k.module, "k", {})["y"]).all()


@pytest.mark.parametrize("mode", ["exact", "rounded"])
def test_tensors_not_given_start_as_zeros_and_inputs_are_not_modified(mode):
    with KernelBuilder("k") as k:
        x, y = k.tensor("x", (64, 64)), k.tensor("y", (128, 64))
        t = k.alloc((64, 64))
        k.copy(x[0, 0], t)
        k.copy(t, y[64, 0])
        k.fill(t, 0.0)
        k.copy(t, x)  # the kernel overwrites its input in HBM
    x = _tile().astype(np.float32)
    before = x.copy()
    outputs = interpret_kernel(k.module, "k", {"x": x}, mode=mode)
    np.testing.assert_array_equal(outputs["y"][:64], 0)
    np.testing.assert_array_equal(outputs["y"][64:], x)
    np.testing.assert_array_equal(outputs["x"], 0)
    np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------------------------------------
# rounding points
# ---------------------------------------------------------------------------------------------


def _load_store_kernel(space: str) -> ModuleOp:
    with KernelBuilder("k") as k:
        x, y = k.tensor("x", (64, 64)), k.tensor("y", (64, 64))
        t = k.alloc((64, 64))
        k.copy(x[0, 0], t)
        if space == "fpram":
            m = k.alloc((64,), "fpram")
            for r in k.range(0, 64):
                k.copy(t[r, 0], m)
                k.copy(m, t[r, 0])
        k.copy(t, y)
    return k.module


def test_rounded_mode_rounds_vram_writes_to_bf16_and_fpram_to_fp16():
    x = RNG.standard_normal((64, 64)) * 1e-5  # fp16 subnormals: fp16 rounding is visible
    exact = interpret_kernel(_load_store_kernel("vram"), "k", {"x": x})["y"]
    np.testing.assert_array_equal(exact, x)
    vram = interpret_kernel(_load_store_kernel("vram"), "k", {"x": x}, mode="rounded")["y"]
    np.testing.assert_array_equal(vram, round_bf16(x.astype(np.float32)))
    assert vram.dtype == np.float32
    fpram = interpret_kernel(_load_store_kernel("fpram"), "k", {"x": x}, mode="rounded")["y"]
    np.testing.assert_array_equal(fpram, round_bf16(round_fp16(round_bf16(x.astype(np.float32)))))
    assert not np.array_equal(fpram, vram)


def test_mxfp8_hbm_quantises_inputs_like_the_image_writer_and_stores_like_h_store_v():
    x = RNG.standard_normal((64, 64))
    y = interpret_kernel(
        _load_store_kernel("vram"), "k", {"x": x}, mode="rounded", hbm_format="mxfp8"
    )["y"]
    loaded = round_bf16(mx_quantize(x.astype(np.float32).ravel(), "writer").reshape(64, 64))
    np.testing.assert_array_equal(y, mx_quantize(loaded, "tvm"))


def test_an_mxfp8_store_of_partial_blocks_is_an_error():
    with KernelBuilder("k") as k:
        y = k.tensor("y", (64, 64))
        t = k.alloc((64, 4))
        k.fill(t, 1.0)
        k.copy(t, y[0, 0])
    with pytest.raises(InterpretationError, match="tile.copy: an MXFP8 store writes blocks of 8"):
        interpret_kernel(k.module, "k", {}, mode="rounded", hbm_format="mxfp8")
    np.testing.assert_array_equal(interpret_kernel(k.module, "k", {})["y"][:, :4], 1.0)


# ---------------------------------------------------------------------------------------------
# gemm
# ---------------------------------------------------------------------------------------------


def _gemm_kernel(roles: str, accumulate: bool, b_space: str = "mram") -> ModuleOp:
    a_roles, rest = roles.split(",")
    b_roles = rest.split("->")[0]
    a_shape = (64, 128) if a_roles == "mk" else (128, 64)
    b_shape = (128, 64) if b_roles == "kn" else (64, 128)
    with KernelBuilder("k") as k:
        at, bt = k.tensor("a", a_shape), k.tensor("b", b_shape)
        ct = k.tensor("c", (64, 64))
        a, b, c = k.alloc(a_shape), k.alloc(b_shape, b_space), k.alloc((64, 64))
        k.copy(at[0, 0], a)
        k.copy(bt[0, 0], b)
        k.copy(ct[0, 0], c)
        k.gemm(c, a, b, roles, accumulate)
        k.copy(c, ct)
    return k.module


@pytest.mark.parametrize("a_roles", ["mk", "km"])
@pytest.mark.parametrize("b_roles", ["kn", "nk"])
@pytest.mark.parametrize("accumulate", [False, True])
def test_gemm_follows_the_roles(a_roles, b_roles, accumulate):
    module = _gemm_kernel(f"{a_roles},{b_roles}->mn", accumulate)
    a = _tile(*((64, 128) if a_roles == "mk" else (128, 64)))
    b = _tile(*((128, 64) if b_roles == "kn" else (64, 128)))
    c = _tile()
    product = (a if a_roles == "mk" else a.T) @ (b if b_roles == "kn" else b.T)
    out = interpret_kernel(module, "k", {"a": a, "b": b, "c": c})["c"]
    np.testing.assert_allclose(out, product + c if accumulate else product, rtol=1e-13)


def test_rounded_gemm_is_the_chosen_forms_result_and_keeps_mram_in_f32():
    """Rounded mode computes what the compiled program does: the form plena-select-gemm
    picks (here the M_BMM lane-sum form: bf16 lane partials summed in bf16)."""
    a = _tile(64, 128)
    b = RNG.standard_normal((128, 64)).astype(np.float32)  # not bf16: MRAM keeps it
    c = _tile()
    form = select_form(GemmShape(64, 64, 128, transposed_b=False), DEFAULT_TARGET)[0].form
    assert form is Form.BMM_LANE_SUM
    module = _gemm_kernel("mk,kn->mn", accumulate=False)
    out = interpret_kernel(module, "k", {"a": a, "b": b, "c": c}, mode="rounded")["c"]
    np.testing.assert_array_equal(out, gemm_result(form, a, b, False, DEFAULT_TARGET))
    single_rounding = round_bf16((a @ b.astype(np.float64)).astype(np.float32))
    # the bf16 lane partials and sums cost a few bf16 ulps of the magnitudes summed
    magnitudes = np.abs(a) @ np.abs(b.astype(np.float64))
    assert (np.abs(out - single_rounding) <= 4 * 2**-8 * magnitudes).all()
    module = _gemm_kernel("mk,kn->mn", accumulate=True)
    out = interpret_kernel(module, "k", {"a": a, "b": b, "c": c}, mode="rounded")["c"]
    form = select_form(GemmShape(64, 64, 128, False, accumulate=True), DEFAULT_TARGET)[0].form
    np.testing.assert_array_equal(out, gemm_result(form, a, b, False, DEFAULT_TARGET, c))


def _per_head_attention_gemms():
    """One head of Q·Kᵀ and P·V (HLEN = 16 columns), the head axis a lane axis: the gemms
    plena-expand-lanes makes one lane of a lane.btmm and a per-lane lane.gemm."""
    with KernelBuilder("k", grid={"h": 4}, lane="h") as k:
        q, kt, v = (k.tensor(n, (1, 64, 4, 16)) for n in ("q", "k", "v"))
        s_out, o_out = k.tensor("s", (4, 64, 64)), k.tensor("o", (1, 64, 4, 16))
        qh, kh = k.alloc((64, 16)), k.alloc((64, 16), "mram")
        vh, s, o = k.alloc((64, 16), "mram"), k.alloc((64, 64)), k.alloc((64, 16))
        h = k.axis("h")
        for tensor, buffer in ((q, qh), (kt, kh), (v, vh)):
            k.copy(tensor[0, 0, h, 0], buffer, src_sizes=(1, 64, 1, 16))
        k.gemm(s, qh, kh, "mk,nk->mn")
        k.gemm(o, s, vh, "mk,kn->mn")
        k.copy(s, s_out[h, 0, 0], dst_sizes=(1, 64, 64))
        k.copy(o, o_out[0, 0, h, 0], dst_sizes=(1, 64, 1, 16))
    return k.module


def test_rounded_per_head_gemms_of_a_lane_kernel_are_what_the_lane_program_computes():
    """A head's Q·Kᵀ (K = 16, no whole MLEN tile) is one lane of M_BTMM: the f32 product
    rounded once; its P·V one lane of a lane.gemm in the form plena-select-gemm picks for a
    lane (64 x 64 · 64 x 16 into H columns of a col_pack C: M_BMM + the lane sum)."""
    heads = {n: _bf16(RNG.standard_normal((1, 64, 4, 16))) for n in "qkv"}
    out = interpret_kernel(_per_head_attention_gemms(), "k", heads, mode="rounded")
    pv_form = select_form(GemmShape(64, 16, 64, False, packed_c=True), DEFAULT_TARGET)[0].form
    assert pv_form is Form.BMM_LANE_SUM
    for h in range(4):
        q, k, v = (heads[n][0, :, h] for n in "qkv")
        s = round_bf16((q @ k.T).astype(np.float32))
        assert np.count_nonzero(s) == s.size
        np.testing.assert_array_equal(out["s"][h], s)
        o = gemm_result(pv_form, s, v, False, DEFAULT_TARGET)
        np.testing.assert_array_equal(out["o"][0, :, h], o)


def test_no_form_is_offered_for_k_short_of_a_tile_and_the_gemm_rounds_once():
    """K = 16 is no whole MRAM tile: no instruction form computes it (compilation rejects
    such a gemm outside a lane kernel), and the rounded interpreter rounds the product once
    instead of replaying a lane-sum form over no K tile (zeros)."""
    with pytest.raises(GemmFormError, match="K must be whole 64-row MRAM tiles"):
        select_form(GemmShape(64, 64, 16, transposed_b=True), DEFAULT_TARGET)
    shape = GemmShape(64, 16, 64, transposed_b=False)  # 16 columns, not a packed lane
    assert Form.BMM_LANE_SUM not in candidate_forms(shape, DEFAULT_TARGET)
    with KernelBuilder("k") as k:
        a_in, b_in, c_out = (
            k.tensor("a", (64, 16)),
            k.tensor("b", (64, 16)),
            k.tensor("c", (64, 64)),
        )
        a, b, c = k.alloc((64, 16)), k.alloc((64, 16), "mram"), k.alloc((64, 64))
        k.copy(a_in, a)
        k.copy(b_in, b)
        k.gemm(c, a, b, "mk,nk->mn")
        k.copy(c, c_out)
    a, b = _tile(64, 16), _tile(64, 16)
    out = interpret_kernel(k.module, "k", {"a": a, "b": b}, mode="rounded")["c"]
    np.testing.assert_array_equal(out, round_bf16((a @ b.T).astype(np.float32)))


def test_an_inferred_gemm_b_operand_is_mram():
    b = RNG.standard_normal((128, 64)).astype(np.float32)
    inputs = {"a": _tile(64, 128), "b": b, "c": _tile()}
    mram = interpret_kernel(_gemm_kernel("mk,kn->mn", False, "mram"), "k", inputs, mode="rounded")
    inferred = interpret_kernel(_gemm_kernel("mk,kn->mn", False, "?"), "k", inputs, mode="rounded")
    np.testing.assert_array_equal(inferred["c"], mram["c"])


# ---------------------------------------------------------------------------------------------
# vector ops
# ---------------------------------------------------------------------------------------------

VECTOR = """
tile.kernel @k grid() args(%x : !tile.tensor<64x64xf32>, %z : !tile.tensor<64x64xf32>,
                           %bias : !tile.tensor<1x64xf32>, %y : !tile.tensor<64x64xf32>) {{
  %a = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %row = tile.alloc : !tile.buffer<1x64xbf16, vram>
  tile.copy %x to %a : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.copy %z to %b : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.copy %bias to %row : !tile.tensor<1x64xf32> to !tile.buffer<1x64xbf16, vram>
  {op}
  tile.copy %a to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}}
"""
T = "!tile.buffer<64x64xbf16, vram>"


@pytest.mark.parametrize(
    ("op", "meaning"),
    [
        (f"tile.add %a, %a, %b : {T}", lambda x, z, bias: x + z),
        (f"tile.sub %a, %b, %a : {T}", lambda x, z, bias: z - x),
        (f"tile.mul %a, %a, %b : {T}", lambda x, z, bias: x * z),
        (
            f"tile.add %a, %a, %row : {T}, {T}, !tile.buffer<1x64xbf16, vram>",
            lambda x, z, bias: x + bias,
        ),
        (f"tile.exp %a, %b : {T}", lambda x, z, bias: np.exp(z)),
        (f"tile.reci %a, %a : {T}", lambda x, z, bias: 1 / x),
    ],
)
def test_vector_ops(op, meaning):
    x, z, bias = _tile(), _tile(), _tile(1, 64)
    module = _parse(VECTOR.format(op=op))
    inputs = {"x": x, "z": z, "bias": bias}
    exact = interpret_kernel(module, "k", inputs)["y"]
    np.testing.assert_allclose(exact, meaning(x, z, bias), rtol=1e-15)
    rounded = interpret_kernel(module, "k", inputs, mode="rounded")["y"]
    f32 = meaning(*(v.astype(np.float32) for v in (x, z, bias)))
    assert f32.dtype == np.float32
    np.testing.assert_array_equal(rounded, round_bf16(f32))


def _scalar_kernel(op: str, scalar: str) -> ModuleOp:
    """y = op(x, scalar) with scalar: "vector" (per row), "one" (1-entry buffer), "element"
    (m[3]), "arg" (an f32 argument)."""
    with KernelBuilder("k") as k:
        x, s, y = k.tensor("x", (64, 64)), k.tensor("s", (1, 64)), k.tensor("y", (64, 64))
        value = k.scalar("v")
        t, srow = k.alloc((64, 64)), k.alloc((1, 64))
        m, one = k.alloc((64,), "fpram"), k.alloc((1,), "fpram")
        k.copy(x, t)
        k.copy(s, srow)
        k.copy(srow, m)
        k.copy(m[3], one)
        operand = {"vector": m, "one": one, "element": m[3], "arg": value}[scalar]
        getattr(k, op)(t, t, operand)
        k.copy(t, y)
    return k.module


@pytest.mark.parametrize("scalar", ["vector", "one", "element", "arg"])
@pytest.mark.parametrize(
    ("op", "meaning"),
    [
        ("add_scalar", np.add),
        ("sub_scalar", np.subtract),
        ("rsub_scalar", lambda x, s: s - x),
        ("mul_scalar", np.multiply),
    ],
)
def test_row_broadcast_ops(op, meaning, scalar):
    x, s, v = _tile(), _tile(1, 64), 1 / 3
    per_row = {"vector": s[0][:, None], "one": s[0, 3], "element": s[0, 3], "arg": v}[scalar]
    module = _scalar_kernel(op, scalar)
    exact = interpret_kernel(module, "k", {"x": x, "s": s}, v=v)["y"]
    np.testing.assert_array_equal(exact, meaning(x, per_row))
    rounded = interpret_kernel(module, "k", {"x": x, "s": s}, mode="rounded", v=v)["y"]
    per_row32 = round_fp16(np.asarray(per_row, dtype=np.float32))  # FP registers are fp16
    np.testing.assert_array_equal(rounded, round_bf16(meaning(x.astype(np.float32), per_row32)))


def _reduce_kernel(op: str, accumulate: bool, cols: int = 64, element: bool = False):
    with KernelBuilder("k") as k:
        x, a = k.tensor("x", (64, cols)), k.tensor("a", (1, 64))
        out = k.tensor("out", (1, 64))
        t, row, m = k.alloc((64, cols)), k.alloc((1, 64)), k.alloc((64,), "fpram")
        k.copy(x, t)
        k.copy(a, row)
        k.copy(row, m)
        if element:
            for r in k.range(0, 64):
                single = k.alloc((1, cols))
                k.copy(t[r, 0], single)
                getattr(k, op)(m[r], single, accumulate)
        else:
            getattr(k, op)(m, t, accumulate)
        k.copy(m, row)
        k.copy(row, out)
    return k.module


@pytest.mark.parametrize("element", [False, True])
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize(("op", "ufunc"), [("reduce_max", np.maximum), ("reduce_sum", np.add)])
def test_row_reductions(op, ufunc, accumulate, element):
    x, a = _tile(), _tile(1, 64) + 10  # acc values above the row max: accumulate shows
    module = _reduce_kernel(op, accumulate, element=element)
    out = interpret_kernel(module, "k", {"x": x, "a": a})["out"][0]
    reduced = ufunc.reduce(x, axis=1)
    np.testing.assert_allclose(out, ufunc(a[0], reduced) if accumulate else reduced, rtol=1e-15)


def test_rounded_sum_rounds_after_each_vlen_chunk():
    x = np.zeros((64, 128))
    x[:, 0] = 1000.0
    x[:, 1] = 0.25  # chunk 1 sums to 1000.25: fp16 (ulp 0.5 at 1000) rounds to 1000.0
    x[:, 64] = 0.25  # chunk 2 adds 0.25 again: 1000.25 -> 1000.0
    out = interpret_kernel(
        _reduce_kernel("reduce_sum", False, cols=128),
        "k",
        {"x": x, "a": np.zeros((1, 64))},
        mode="rounded",
    )["out"][0]
    np.testing.assert_array_equal(out, 1000.0)  # one rounding of 1000.5 would give 1000.5
    exact = interpret_kernel(
        _reduce_kernel("reduce_sum", False, cols=128), "k", {"x": x, "a": np.zeros((1, 64))}
    )["out"][0]
    np.testing.assert_array_equal(exact, 1000.5)


# ---------------------------------------------------------------------------------------------
# fill and scalar FP ops
# ---------------------------------------------------------------------------------------------


def _fp_kernel(build) -> ModuleOp:
    with KernelBuilder("k") as k:
        a, b = k.tensor("a", (1, 64)), k.tensor("b", (1, 64))
        out = k.tensor("out", (1, 64))
        value = k.scalar("v")
        row = k.alloc((1, 64))
        m, n = k.alloc((64,), "fpram"), k.alloc((64,), "fpram")
        k.copy(a, row)
        k.copy(row, m)
        k.copy(b, row)
        k.copy(row, n)
        build(k, m, n, value)
        k.copy(m, row)
        k.copy(row, out)
    return k.module


@pytest.mark.parametrize(
    ("name", "build", "meaning"),
    [
        ("add", lambda k, m, n, v: k.fp_add(m, m, n), lambda a, b, v: a + b),
        ("sub", lambda k, m, n, v: k.fp_sub(m, n, m), lambda a, b, v: b - a),
        ("mul", lambda k, m, n, v: k.fp_mul(m, m, v), lambda a, b, v: a * v),
        ("max", lambda k, m, n, v: k.fp_max(m, m, n[5]), lambda a, b, v: np.fmax(a, b[5])),
        ("exp", lambda k, m, n, v: k.fp_exp(m, n), lambda a, b, v: np.exp(b)),
        ("reci", lambda k, m, n, v: k.fp_reci(m, m), lambda a, b, v: 1 / a),
        ("sqrt", lambda k, m, n, v: k.fp_sqrt(m, n), lambda a, b, v: np.sqrt(b)),
        ("fill", lambda k, m, n, v: k.fill(m, v), lambda a, b, v: np.full(64, v)),
    ],
)
def test_scalar_fp_ops_over_a_buffer(name, build, meaning):
    a, b, v = _tile(1, 64)[0], np.abs(_tile(1, 64)[0]), 0.3
    module = _fp_kernel(build)
    inputs = {"a": a[None], "b": b[None]}
    exact = interpret_kernel(module, "k", inputs, v=v)["out"][0]
    np.testing.assert_allclose(exact, meaning(a, b, v), rtol=1e-15)
    rounded = interpret_kernel(module, "k", inputs, mode="rounded", v=v)["out"][0]
    a16, b16 = (round_fp16(np.float32(x)) for x in (a, b))
    f32 = np.asarray(meaning(a16, b16, round_fp16(np.float32(v))), dtype=np.float32)
    np.testing.assert_array_equal(rounded, round_bf16(round_fp16(f32)))


def test_scalar_fp_ops_on_one_element():
    def build(k, m, n, v):
        for i in k.range(0, 64, 2):
            k.fp_mul(m[i], m[i], n[i])
        k.fp_add(m[1], m[1], v)

    a, b = _tile(1, 64)[0], _tile(1, 64)[0]
    out = interpret_kernel(_fp_kernel(build), "k", {"a": a[None], "b": b[None]}, v=2.0)["out"][0]
    expected = a.copy()
    expected[::2] *= b[::2]
    expected[1] += 2.0
    np.testing.assert_array_equal(out, expected)


def test_fp_max_ignores_nan_like_s_max_fp():
    a = np.full(64, np.nan)
    b = np.arange(64.0)
    out = interpret_kernel(
        _fp_kernel(lambda k, m, n, v: k.fp_max(m, m, n)), "k", {"a": a[None], "b": b[None]}, v=0
    )["out"][0]
    np.testing.assert_array_equal(out, b)


def test_fill_vram():
    with KernelBuilder("k") as k:
        y = k.tensor("y", (64, 64))
        t = k.alloc((64, 64))
        k.fill(t, 1 / 3)
        k.copy(t, y)
    exact = interpret_kernel(k.module, "k", {})["y"]
    np.testing.assert_array_equal(exact, np.float32(1 / 3))  # the constant is an f32
    rounded = interpret_kernel(k.module, "k", {}, mode="rounded")["y"]
    np.testing.assert_array_equal(rounded, round_bf16(round_fp16(np.float32(1 / 3))))


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


def test_a_dynamic_offset_out_of_bounds_names_the_op_and_the_offset():
    with KernelBuilder("k", grid={"i": 3}) as k:
        x = k.tensor("x", (128, 64))
        t = k.alloc((64, 64))
        k.copy(x[k.axis("i") * 64, 0], t)
    with pytest.raises(
        InterpretationError,
        match=r"tile.copy: offset 128 \+ size 64 is out of bounds for dimension 0 of src "
        r"\(128x64\)",
    ):
        interpret_kernel(k.module, "k", {})


def test_a_dynamic_index_out_of_bounds_names_the_op():
    with KernelBuilder("k", grid={"i": 65}) as k:
        m = k.alloc((64,), "fpram")
        k.fill(m, 0.0)
        k.fp_exp(m[k.axis("i")], m[k.axis("i")])
    with pytest.raises(InterpretationError, match="tile.fp_exp: index 64 of src is out of bounds"):
        interpret_kernel(k.module, "k", {})


def test_bad_inputs_are_reported_by_name():
    with KernelBuilder("k") as k:
        k.tensor("x", (64, 64))
        k.scalar("eps")
    module = k.module
    with pytest.raises(KernelInputError, match="no tile.kernel @nope in the module .kernels: k."):
        interpret_kernel(module, "nope", {}, eps=1.0)
    with pytest.raises(KernelInputError, match="needs the f32 scalar argument 'eps'"):
        interpret_kernel(module, "k", {})
    with pytest.raises(KernelInputError, match="has no scalar argument x"):
        interpret_kernel(module, "k", {}, eps=1.0, x=2.0)
    with pytest.raises(KernelInputError, match="has no tensor argument y .tensors: x."):
        interpret_kernel(module, "k", {"y": np.zeros(3)}, eps=1.0)
    with pytest.raises(KernelInputError, match=r"input 'x' has shape \(64, 32\)"):
        interpret_kernel(module, "k", {"x": np.zeros((64, 32))}, eps=1.0)
    with pytest.raises(ValueError, match="unknown mode 'fast'"):
        interpret_kernel(module, "k", {}, mode="fast", eps=1.0)
