"""`plena_mlir.frontend.kernel_builder`: the IR a builder program makes."""

import re
from io import StringIO

import pytest
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, target_of
from plena_mlir.dialects.tile import KernelOp
from xdsl.printer import Printer

from plena_mlir.frontend.kernel_builder import KernelBuilder


def _text(k: KernelBuilder) -> str:
    out = StringIO()
    Printer(stream=out).print_op(k.module)
    return out.getvalue()


def _body(k: KernelBuilder) -> list[str]:
    """The kernel body, one op per line, without indentation, numbered SSA names as %N."""
    return [re.sub(r"%\d+", "%N", line.strip()) for line in _text(k).splitlines()[2:-2]]


def test_kernel_header_from_grid_lane_and_arguments():
    with KernelBuilder("k", grid={"q": 2, "h": 8}, lane="h", target="plena-tvm") as k:
        k.tensor("x", (128, 16))
        k.scalar("eps")
        k.tensor("w", (16,), dtype="bf16")
    (kernel,) = [op for op in k.module.walk() if isinstance(op, KernelOp)]
    assert kernel.grid == {"q": 2, "h": 8} and kernel.lane == "h"
    assert [a.data for a in kernel.arg_names.data] == ["x", "eps", "w"]
    assert _text(k).splitlines()[1].strip() == (
        "tile.kernel @k grid(%q = 2, %h = 8 lane) args(%x : !tile.tensor<128x16xf32>, "
        "%eps : f32, %w : !tile.tensor<16xbf16>) {"
    )
    assert TARGET_ATTR_NAME in k.module.attributes
    assert target_of(kernel).name == "plena-tvm"


def test_index_math_emits_arith_and_folds_identities():
    with KernelBuilder("k", grid={"i": 4}) as k:
        i = k.axis("i")
        assert (i + 0) is i and (i * 1) is i and (i - 0) is i
        j = 2 * (i + 3) - i
        t = k.alloc((64, 64), name="t")
        x = k.tensor("x", (512, 64))
        k.copy(x[j, 0], t)
    assert [line.strip() for line in _text(k).splitlines()[2:-2]] == [
        "%0 = arith.constant 2 : index",
        "%1 = arith.constant 3 : index",
        "%2 = arith.addi %i, %1 : index",
        "%3 = arith.muli %2, %0 : index",
        "%4 = arith.subi %3, %i : index",
        "%t = tile.alloc : !tile.buffer<64x64xbf16, vram>",
        "tile.copy %x[%4, 0] to %t : !tile.tensor<512x64xf32> to !tile.buffer<64x64xbf16, vram>",
    ]


def test_in_place_operators_pick_the_op_from_the_operand_types():
    with KernelBuilder("k") as k:
        eps = k.scalar("eps")
        t, u = k.alloc((64, 16), name="t"), k.alloc((64, 16), name="u")
        m = k.alloc((64,), "fpram", name="m")
        t += u
        t -= m
        t *= 0.5
        t *= m[3]
        m += eps
        m -= m[0]
        m *= 2.0
    assert _body(k)[-7:] == [
        "tile.add %t, %t, %u : !tile.buffer<64x16xbf16, vram>",
        "tile.sub_scalar %t, %t, %m : !tile.buffer<64x16xbf16, vram>, "
        "!tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>",
        "tile.mul_scalar %t, %t, %N : !tile.buffer<64x16xbf16, vram>, "
        "!tile.buffer<64x16xbf16, vram>, f32",
        "tile.mul_scalar %t, %t, %m[%N] : !tile.buffer<64x16xbf16, vram>, "
        "!tile.buffer<64x16xbf16, vram>, !tile.buffer<64xf32, fpram>",
        "tile.fp_add %m, %m, %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32",
        "tile.fp_sub %m, %m, %m[%N] : !tile.buffer<64xf32, fpram>",
        "tile.fp_mul %m, %m, %N : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32",
    ]


def test_constants_are_made_once_at_the_top_of_the_body():
    with KernelBuilder("k") as k:
        m = k.alloc((64,), "fpram", name="m")
        for _ in k.range(0, 4):
            m *= 0.5
            m *= 0.5
    lines = _body(k)
    assert lines[0] == "%N = arith.constant 5.000000e-01 : f32"
    assert sum("arith.constant 5.0" in line for line in lines) == 1


def test_range_builds_scf_for_and_returns_to_the_outer_body():
    with KernelBuilder("k", grid={"b": 2}) as k:
        x = k.tensor("x", (64, 256))
        panel = k.alloc((64, 256), name="panel")
        for kk in k.range(0, 256, 64, name="kk"):
            k.copy(x[0, kk], panel[0, kk], src_sizes=(64, 64))
        k.exp(panel, panel)
    lines = _body(k)
    loop = lines.index("scf.for %kk = %N to %N step %N {")
    assert lines[loop + 1].startswith("tile.copy %x[0, %kk] sizes [64, 64] to %panel[0, %kk]")
    assert lines[loop + 2] == "}"
    assert lines[loop + 3] == "tile.exp %panel, %panel : !tile.buffer<64x256xbf16, vram>"


def test_every_op_method_emits_its_op():
    with KernelBuilder("k") as k:
        x = k.tensor("x", (64, 64))
        a, c = k.alloc((64, 64), name="a"), k.alloc((64, 64), name="c")
        b = k.alloc((64, 64), "mram", name="b")
        m = k.alloc((64,), "fpram", name="m")
        k.copy(x[0, 0], a)
        k.copy(x[0, 0], b)
        k.fill(c, 0.0)
        k.gemm(c, a, b, "mk,nk->mn")
        k.gemm(c, a, b, "mk,kn->mn", accumulate=True)
        k.add(c, c, a)
        k.sub(c, c, a)
        k.mul(c, c, a)
        k.exp(c, c)
        k.reci(c, c)
        k.add_scalar(c, c, m)
        k.sub_scalar(c, c, m)
        k.rsub_scalar(c, c, 1.0)
        k.mul_scalar(c, c, m[0])
        k.reduce_max(m, c)
        k.reduce_sum(m, c, accumulate=True)
        k.fp_add(m, m, m)
        k.fp_sub(m, m, 1.0)
        k.fp_mul(m[1], m[1], m[2])
        k.fp_max(m, m, m[0])
        k.fp_exp(m, m)
        k.fp_reci(m, m)
        k.fp_sqrt(m, m)
    names = [line.split()[0] for line in _body(k) if line.startswith("tile.")]
    assert names == [
        "tile.copy",
        "tile.copy",
        "tile.fill",
        "tile.gemm",
        "tile.gemm",
        "tile.add",
        "tile.sub",
        "tile.mul",
        "tile.exp",
        "tile.reci",
        "tile.add_scalar",
        "tile.sub_scalar",
        "tile.rsub_scalar",
        "tile.mul_scalar",
        "tile.reduce_max",
        "tile.reduce_sum",
        "tile.fp_add",
        "tile.fp_sub",
        "tile.fp_mul",
        "tile.fp_max",
        "tile.fp_exp",
        "tile.fp_reci",
        "tile.fp_sqrt",
    ]
    text = _text(k)
    assert "tile.gemm %c[m, n] += %a[m, k] * %b[k, n]" in text
    assert "tile.reduce_sum %m, %c accumulate" in text
    assert "tile.fp_mul %m[%" in text


def test_a_bad_kernel_fails_verification_on_exit():
    with pytest.raises(Exception, match="K of a \\(32\\) does not match K of b \\(64\\)"):
        with KernelBuilder("k") as k:
            a, c = k.alloc((64, 32)), k.alloc((64, 64))
            b = k.alloc((64, 64), "mram")
            k.gemm(c, a, b, "mk,kn->mn")
