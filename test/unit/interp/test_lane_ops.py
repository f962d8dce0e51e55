"""The interpreter's meaning of every `lane` op, checked against NumPy by hand, and one
per-head `tile` kernel against the same computation written in lane IR."""

import ml_dtypes
import numpy as np
import pytest
from plena_mlir.dialects import tile
from plena_mlir.dialects.lane import Lane
from plena_mlir.dialects.plena import Plena
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser
from xdsl.utils.exceptions import InterpretationError

from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.gemm.forms import Form, GemmShape, select_form
from plena_mlir.gemm.results import gemm_result
from plena_mlir.interp import Numerics, interpret_kernel
from plena_mlir.numerics.formats import round_bf16
from plena_mlir.target import PLENA_TVM

RNG = np.random.default_rng(11)

# The types of the examples (plena-tvm: L = 4 lanes, MLEN 64, HLEN 16).
COL = "!lane.buffer<4x64x16xbf16, vram, col_pack>"
KCOL = "!lane.buffer<4x64x16xbf16, mram, col_pack>"
STACK = "!lane.buffer<4x64x64xbf16, vram, row_stack>"
FPL = "!lane.buffer<4x64xf32, fpram, fp_lane>"
ROW = "!lane.buffer<4x1x64xbf16, vram, row_stack>"  # one fp_lane lane as a row per lane
HEADS = "!tile.tensor<1x64x4x16xf32>"
SCORES = "!tile.tensor<1x4x64x64xf32>"
PER_LANE = "!tile.tensor<4x64xf32>"


def _parse(text: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Arith, Scf, tile.Tile, Lane, Plena):
        ctx.load_dialect(dialect)
    return Parser(ctx, text).parse_module()


def _kernel(args: str, body: str, grid: str = "%g = 1") -> ModuleOp:
    return _parse(f"tile.kernel @k grid({grid}) args({args}) {{\n{body}\n}}")


def _bf16(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)


def _heads() -> np.ndarray:
    """A BSHD tensor of 4 heads of 64 x 16, bf16 values (loading them is exact)."""
    return _bf16(RNG.standard_normal((1, 64, 4, 16)))


def _by_lane(x: np.ndarray) -> np.ndarray:
    """BSHD (1, 64, 4, 16) -> lanes first (4, 64, 16)."""
    return x[0].transpose(1, 0, 2)


# ---------------------------------------------------------------------------------------------
# copies, fill
# ---------------------------------------------------------------------------------------------


def test_lane_copies_move_head_h0_plus_l_to_lane_l():
    """Group %g loads heads 4g .. 4g+3 and stores them at the other group's heads 4(1-g) ..
    (dynamic offsets), through an on-chip copy: lane l of the buffers holds head h0 + l."""
    module = _kernel(
        "%X : !tile.tensor<1x64x8x16xf32>, %Y : !tile.tensor<1x64x8x16xf32>",
        f"""
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %h0 = arith.muli %g, %c4 : index
  %other = arith.subi %c1, %g : index
  %h1 = arith.muli %other, %c4 : index
  %x = lane.alloc : {COL}
  %y = lane.alloc : {COL}
  lane.copy %X[0, 0, lanes %h0, 0] to %x : !tile.tensor<1x64x8x16xf32> to {COL}
  lane.copy %x to %y : {COL} to {COL}
  lane.copy %y to %Y[0, 0, lanes %h1, 0] : {COL} to !tile.tensor<1x64x8x16xf32>""",
        grid="%g = 2",
    )
    x = _bf16(RNG.standard_normal((1, 64, 8, 16)))
    y = interpret_kernel(module, "k", {"X": x})["Y"]
    np.testing.assert_array_equal(y[:, :, :4], x[:, :, 4:])
    np.testing.assert_array_equal(y[:, :, 4:], x[:, :, :4])


def test_flat_and_fp_lane_copies():
    """A flat region of a tensor; flat VRAM -> flat FPRAM; fp_lane <-> row_stack slabs."""
    module = _kernel(
        f"%B : !tile.tensor<2x64xf32>, %M : {PER_LANE}",
        f"""
  %zero = arith.constant 0.0 : f32
  %b = lane.alloc : !lane.buffer<1x64xbf16, vram, flat>
  %bf = lane.alloc : !lane.buffer<64xf32, fpram, flat>
  %m = lane.alloc : {FPL}
  %r = lane.alloc : {ROW}
  lane.copy %B[1, 0] to %b : !tile.tensor<2x64xf32> to !lane.buffer<1x64xbf16, vram, flat>
  lane.copy %b to %bf : !lane.buffer<1x64xbf16, vram, flat> to !lane.buffer<64xf32, fpram, flat>
  lane.fill %m, %zero : {FPL}, f32
  lane.for_lanes %l = 4 {{
    lane.fp_add %m, %m, %bf lane %l : {FPL}, {FPL}, !lane.buffer<64xf32, fpram, flat>
  }}
  lane.copy %m to %r : {FPL} to {ROW}
  lane.copy %r to %M[lanes 0, 0] : {ROW} to {PER_LANE}""",
    )
    b = _bf16(RNG.standard_normal((2, 64)))
    m = interpret_kernel(module, "k", {"B": b})["M"]
    np.testing.assert_array_equal(m, np.broadcast_to(b[1], (4, 64)))


def test_a_dynamic_head_offset_out_of_bounds_is_a_fault():
    module = _kernel(
        f"%X : {HEADS}",
        f"""
  %x = lane.alloc : {COL}
  lane.copy %X[0, 0, lanes %g, 0] to %x : {HEADS} to {COL}""",
        grid="%g = 2",
    )
    with pytest.raises(InterpretationError, match=r"lane.copy: heads 1 .. 4 are out of bounds"):
        interpret_kernel(module, "k", {})


def test_fill_rounds_to_the_buffer_space():
    module = _kernel(
        f"%Y : {HEADS}, %v : f32",
        f"""
  %y = lane.alloc : {COL}
  lane.fill %y, %v : {COL}, f32
  lane.copy %y to %Y[0, 0, lanes 0, 0] : {COL} to {HEADS}""",
    )
    v = 1.0 + 2.0**-10  # fp16 keeps it, bf16 rounds it to 1
    np.testing.assert_array_equal(interpret_kernel(module, "k", {}, v=v)["Y"], v)
    np.testing.assert_array_equal(interpret_kernel(module, "k", {}, mode="rounded", v=v)["Y"], 1)


# ---------------------------------------------------------------------------------------------
# whole-tile vector ops (multi-lane)
# ---------------------------------------------------------------------------------------------

_VECTOR_CASES = {
    "lane.add %o, %x, %y : {COL}": lambda x, y, s, b: x + y,
    "lane.sub %o, %x, %y : {COL}": lambda x, y, s, b: x - y,
    "lane.mul %o, %x, %y : {COL}": lambda x, y, s, b: x * y,
    "lane.exp %o, %x : {COL}": lambda x, y, s, b: np.exp(x),
    "lane.reci %o, %x : {COL}": lambda x, y, s, b: 1 / x,
    "lane.add_scalar %o, %x, %bf : {COL}, {COL}, {FLAT}": lambda x, y, s, b: x + b[:, None],
    "lane.sub_scalar %o, %x, %s : {COL}, {COL}, f32": lambda x, y, s, b: x - s,
    "lane.rsub_scalar %o, %x, %s : {COL}, {COL}, f32": lambda x, y, s, b: s - x,
    "lane.mul_scalar %o, %x, %bf : {COL}, {COL}, {FLAT}": lambda x, y, s, b: x * b[:, None],
}


@pytest.mark.parametrize("line", list(_VECTOR_CASES))
def test_whole_tile_ops_apply_the_tile_op_to_every_lane(line):
    flat = "!lane.buffer<64xf32, fpram, flat>"
    module = _kernel(
        f"%X : {HEADS}, %Y : {HEADS}, %B : !tile.tensor<64xf32>, %O : {HEADS}, %s : f32",
        f"""
  %x = lane.alloc : {COL}
  %y = lane.alloc : {COL}
  %o = lane.alloc : {COL}
  %b = lane.alloc : !lane.buffer<1x64xbf16, vram, flat>
  %bf = lane.alloc : {flat}
  lane.copy %X[0, 0, lanes 0, 0] to %x : {HEADS} to {COL}
  lane.copy %Y[0, 0, lanes 0, 0] to %y : {HEADS} to {COL}
  lane.copy %B to %b : !tile.tensor<64xf32> to !lane.buffer<1x64xbf16, vram, flat>
  lane.copy %b to %bf : !lane.buffer<1x64xbf16, vram, flat> to {flat}
  {line.format(COL=COL, FLAT=flat)}
  lane.copy %o to %O[0, 0, lanes 0, 0] : {COL} to {HEADS}""",
    )
    x, y, b = _heads(), _heads(), _bf16(RNG.standard_normal(64))
    s = 0.375
    out = interpret_kernel(module, "k", {"X": x, "Y": y, "B": b}, s=s)["O"]
    expected = _VECTOR_CASES[line](_by_lane(x), _by_lane(y), s, b)
    np.testing.assert_allclose(_by_lane(out), expected, rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# per-lane row ops and FPRAM scalar ops in lane.for_lanes
# ---------------------------------------------------------------------------------------------


def _row_kernel(loop_body: str) -> ModuleOp:
    """x: the 4 heads of X, col_pack; s: S, row_stack; m, d: fp_lane, m = lane l's row max of
    s and d = lane l's (accumulated) row sum of x; results O (x), P (p), M, D."""
    return _kernel(
        f"%X : {HEADS}, %S : {SCORES}, %O : {HEADS}, %P : {SCORES}, %M : {PER_LANE}, "
        f"%D : {PER_LANE}, %c : f32",
        f"""
  %x = lane.alloc : {COL}
  %s = lane.alloc : {STACK}
  %p = lane.alloc : {STACK}
  %m = lane.alloc : {FPL}
  %d = lane.alloc : {FPL}
  %r = lane.alloc : {ROW}
  lane.copy %X[0, 0, lanes 0, 0] to %x : {HEADS} to {COL}
  lane.copy %S[0, lanes 0, 0, 0] to %s : {SCORES} to {STACK}
  lane.fill %d, %c : {FPL}, f32
  lane.for_lanes %l = 4 {{
{loop_body}
  }}
  lane.copy %x to %O[0, 0, lanes 0, 0] : {COL} to {HEADS}
  lane.copy %p to %P[0, lanes 0, 0, 0] : {STACK} to {SCORES}
  lane.copy %m to %r : {FPL} to {ROW}
  lane.copy %r to %M[lanes 0, 0] : {ROW} to {PER_LANE}
  lane.copy %d to %r : {FPL} to {ROW}
  lane.copy %r to %D[lanes 0, 0] : {ROW} to {PER_LANE}""",
    )


def test_row_ops_work_on_the_named_lane_of_col_pack_and_row_stack_buffers():
    module = _row_kernel(f"""
    lane.row_max %m, %s lane %l : {FPL}, {STACK}
    lane.row_sum %d, %x lane %l accumulate : {FPL}, {COL}
    lane.row_sub %p, %s, %m lane %l : {STACK}, {STACK}, {FPL}
    lane.row_mul %p, %p, %c lane %l : {STACK}, {STACK}, f32
    lane.row_rsub %x, %x, %c lane %l : {COL}, {COL}, f32
    lane.row_add %x, %x, %d lane %l : {COL}, {COL}, {FPL}""")
    x = _heads()
    s = _bf16(RNG.standard_normal((1, 4, 64, 64)))
    c = 0.5
    out = interpret_kernel(module, "k", {"X": x, "S": s}, c=c)
    xl, sl = _by_lane(x), s[0]
    m = sl.max(axis=2)
    d = c + xl.sum(axis=2)
    np.testing.assert_array_equal(out["M"], m)
    np.testing.assert_allclose(out["D"], d, rtol=1e-14)
    np.testing.assert_array_equal(out["P"][0], (sl - m[:, :, None]) * c)
    np.testing.assert_allclose(_by_lane(out["O"]), (c - xl) + d[:, :, None], rtol=1e-14)


def test_an_initialising_reduction_ignores_the_old_accumulator():
    module = _row_kernel(f"""
    lane.row_sum %d, %x lane %l : {FPL}, {COL}
    lane.row_max %m, %x lane %l : {FPL}, {COL}""")
    x = _heads()
    out = interpret_kernel(module, "k", {"X": x}, c=1e6)
    np.testing.assert_allclose(out["D"], _by_lane(x).sum(axis=2), rtol=1e-14)
    np.testing.assert_array_equal(out["M"], _by_lane(x).max(axis=2))


def test_rounded_row_reduction_is_the_tile_reduction_of_each_lane():
    module = _row_kernel(f"    lane.row_sum %d, %s lane %l : {FPL}, {STACK}")
    s = _bf16(RNG.standard_normal((1, 4, 64, 64)))
    numerics = Numerics("rounded")
    out = interpret_kernel(module, "k", {"S": s}, mode="rounded", c=0.0)
    for lane in range(4):  # D leaves through a VRAM row: bf16
        sums = numerics.reduce_rows(np.add, s[0, lane].astype(np.float32), 0.0)
        np.testing.assert_array_equal(out["D"][lane], round_bf16(sums))


def test_fp_ops_compute_each_entry_of_the_named_lane():
    module = _row_kernel(f"""
    lane.row_max %m, %s lane %l : {FPL}, {STACK}
    lane.fp_max %m, %m, %c lane %l : {FPL}, {FPL}, f32
    lane.fp_sub %d, %m, %c lane %l : {FPL}, {FPL}, f32
    lane.fp_mul %d, %d, %m lane %l : {FPL}
    lane.fp_add %d, %d, %m lane %l : {FPL}
    lane.fp_sqrt %d, %d lane %l : {FPL}
    lane.fp_reci %d, %d lane %l : {FPL}
    lane.fp_exp %m, %m lane %l : {FPL}""")
    s = _bf16(RNG.standard_normal((1, 4, 64, 64)))
    c = 1.5
    out = interpret_kernel(module, "k", {"S": s}, c=c)
    m = np.fmax(s[0].max(axis=2), c)
    d = 1 / np.sqrt((m - c) * m + m)
    np.testing.assert_allclose(out["D"], d, rtol=1e-14)
    np.testing.assert_allclose(out["M"], np.exp(m), rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# matrix ops
# ---------------------------------------------------------------------------------------------


def _attention_kernel() -> ModuleOp:
    """S = Q·Kᵀ per head (btmm), S1 = row 0 of the same (btmv), O = S·V per lane (gemm) plus
    P = S·W + S with a flat W (gemm, accumulating)."""
    q1 = "!lane.buffer<4x1x16xbf16, vram, col_pack>"
    s1 = "!lane.buffer<4x1x64xbf16, vram, row_stack>"
    w = "!lane.buffer<64x64xbf16, mram, flat>"
    return _kernel(
        f"%Q : {HEADS}, %K : {HEADS}, %V : {HEADS}, %W : !tile.tensor<64x64xf32>, "
        f"%S : {SCORES}, %S1 : {PER_LANE}, %O : {HEADS}, %P : {SCORES}",
        f"""
  %q = lane.alloc : {COL}
  %k = lane.alloc : {KCOL}
  %v = lane.alloc : {KCOL}
  %w = lane.alloc : {w}
  %s = lane.alloc : {STACK}
  %p = lane.alloc : {STACK}
  %q1 = lane.alloc : {q1}
  %s1 = lane.alloc : {s1}
  %o = lane.alloc : {COL}
  lane.copy %Q[0, 0, lanes 0, 0] to %q : {HEADS} to {COL}
  lane.copy %Q[0, 0, lanes 0, 0] to %q1 : {HEADS} to {q1}
  lane.copy %K[0, 0, lanes 0, 0] to %k : {HEADS} to {KCOL}
  lane.copy %V[0, 0, lanes 0, 0] to %v : {HEADS} to {KCOL}
  lane.copy %W to %w : !tile.tensor<64x64xf32> to {w}
  lane.btmm %s = %q * %k : {STACK}, {COL}, {KCOL}
  lane.btmv %s1 = %q1 * %k : {s1}, {q1}, {KCOL}
  lane.copy %s to %p : {STACK} to {STACK}
  lane.for_lanes %l = 4 {{
    lane.gemm %o[m, n] = %s[m, k] * %v[k, n] lane %l : {COL}, {STACK}, {KCOL}
    lane.gemm %p[m, n] += %s[m, k] * %w[k, n] lane %l via M_MM : {STACK}, {STACK}, {w}
  }}
  lane.copy %s to %S[0, lanes 0, 0, 0] : {STACK} to {SCORES}
  lane.copy %s1 to %S1[lanes 0, 0] : {s1} to {PER_LANE}
  lane.copy %o to %O[0, 0, lanes 0, 0] : {COL} to {HEADS}
  lane.copy %p to %P[0, lanes 0, 0, 0] : {STACK} to {SCORES}""",
    )


def _attention_inputs() -> dict[str, np.ndarray]:
    return {"Q": _heads(), "K": _heads(), "V": _heads(), "W": _bf16(RNG.standard_normal((64, 64)))}


def test_btmm_btmv_and_gemm_are_per_head_products():
    inputs = _attention_inputs()
    out = interpret_kernel(_attention_kernel(), "k", inputs)
    q, k, v = (_by_lane(inputs[n]) for n in "QKV")
    s = q @ k.transpose(0, 2, 1)
    np.testing.assert_allclose(out["S"][0], s, rtol=1e-13)
    np.testing.assert_allclose(out["S1"], s[:, 0], rtol=1e-13)
    np.testing.assert_allclose(_by_lane(out["O"]), s @ v, rtol=1e-12)
    np.testing.assert_allclose(out["P"][0], s @ inputs["W"] + s, rtol=1e-12)


def test_rounded_matrix_ops_compute_what_the_compiled_forms_write():
    """lane.btmm / lane.btmv write each lane's f32 product once as bf16; a lane.gemm is its
    form's result (`gemm_result`): the `via` recorded (M_MM: the product rounded once, then
    the += add rounded) or, with none, the form plena-select-gemm chooses for one lane (one
    head's 64 x 64 · 64 x 16 into a col_pack C: M_BMM with the bf16 lane partials summed in
    bf16)."""
    inputs = _attention_inputs()
    out = interpret_kernel(_attention_kernel(), "k", inputs, mode="rounded")
    q, k, v = (_by_lane(inputs[n]) for n in "QKV")

    def written(x):  # an exact sum, held in f32, written to VRAM as bf16
        return round_bf16(np.asarray(x, dtype=np.float32))

    s = written(q @ k.transpose(0, 2, 1))
    np.testing.assert_array_equal(out["S"][0], s)
    np.testing.assert_array_equal(out["S1"], s[:, 0])
    pv_form = select_form(GemmShape(64, 16, 64, False, packed_c=True), PLENA_TVM)[0].form
    assert pv_form is Form.BMM_LANE_SUM
    pv = np.stack([gemm_result(pv_form, s[lane], v[lane], False, PLENA_TVM) for lane in range(4)])
    np.testing.assert_array_equal(_by_lane(out["O"]), pv)
    assert not np.array_equal(pv, written(s.astype(np.float64) @ v))  # the form matters
    product = written(s.astype(np.float64) @ inputs["W"])
    np.testing.assert_array_equal(out["P"][0], written(s + product))


# ---------------------------------------------------------------------------------------------
# a per-head tile kernel and the same computation in lane IR
# ---------------------------------------------------------------------------------------------


def _tile_rmsnorm() -> ModuleOp:
    """y = x / sqrt(mean(x^2) + eps) over each head of 16 columns, one head per program."""
    with KernelBuilder("k", grid={"head": 4}, lane="head") as k:
        x, y, eps = k.tensor("X", (1, 64, 4, 16)), k.tensor("Y", (1, 64, 4, 16)), k.scalar("eps")
        head = k.axis("head")
        t, sq = k.alloc((64, 16)), k.alloc((64, 16))
        inv_rms = k.alloc((64,), "fpram")
        k.copy(x[0, 0, head, 0], t, src_sizes=(1, 64, 1, 16))
        k.mul(sq, t, t)
        k.reduce_sum(inv_rms, sq)
        inv_rms *= 1.0 / 16
        inv_rms += eps
        k.fp_sqrt(inv_rms, inv_rms)
        k.fp_reci(inv_rms, inv_rms)
        t *= inv_rms
        k.copy(t, y[0, 0, head, 0], dst_sizes=(1, 64, 1, 16))
    return k.module


def _lane_rmsnorm() -> ModuleOp:
    """The same, the 4 heads as one group of 4 lanes."""
    return _kernel(
        f"%X : {HEADS}, %Y : {HEADS}, %eps : f32",
        f"""
  %inv_n = arith.constant 0.0625 : f32
  %t = lane.alloc : {COL}
  %sq = lane.alloc : {COL}
  %inv = lane.alloc : {FPL}
  lane.copy %X[0, 0, lanes 0, 0] to %t : {HEADS} to {COL}
  lane.mul %sq, %t, %t : {COL}
  lane.for_lanes %l = 4 {{
    lane.row_sum %inv, %sq lane %l : {FPL}, {COL}
    lane.fp_mul %inv, %inv, %inv_n lane %l : {FPL}, {FPL}, f32
    lane.fp_add %inv, %inv, %eps lane %l : {FPL}, {FPL}, f32
    lane.fp_sqrt %inv, %inv lane %l : {FPL}
    lane.fp_reci %inv, %inv lane %l : {FPL}
    lane.row_mul %t, %t, %inv lane %l : {COL}, {COL}, {FPL}
  }}
  lane.copy %t to %Y[0, 0, lanes 0, 0] : {COL} to {HEADS}""",
    )


def test_the_lane_form_is_rmsnorm_per_head():
    x = RNG.normal(0.0, 2.0, (1, 64, 4, 16))
    y = interpret_kernel(_lane_rmsnorm(), "k", {"X": x}, eps=1e-6)["Y"]
    np.testing.assert_allclose(
        y, x / np.sqrt((x * x).mean(axis=3, keepdims=True) + 1e-6), rtol=1e-14
    )


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_per_head_tile_kernel_and_its_lane_form_agree_bit_for_bit(hbm_format):
    x = RNG.normal(0.0, 2.0, (1, 64, 4, 16))
    tile_y, lane_y = (
        interpret_kernel(module, "k", {"X": x}, mode="rounded", hbm_format=hbm_format, eps=1e-6)[
            "Y"
        ]
        for module in (_tile_rmsnorm(), _lane_rmsnorm())
    )
    assert np.isfinite(lane_y).all()
    np.testing.assert_array_equal(lane_y, tile_y)
    assert np.array_equal(lane_y, round_bf16(lane_y))  # really rounded: bf16 values
