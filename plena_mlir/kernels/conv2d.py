"""`conv2d`: a stride-1 2-D convolution, NCHW, batch 1, as one gemm per output channel.

    y[oc, oh, ow] = bias[oc] + sum over ic, kh, kw of w[oc, ic, kh, kw] * x[ic, oh + kh, ow + kw]

for oh < H_out = H_in - KH + 1 and ow < W, x zero beyond its last column.  The DMAs move
whole VLEN-element rows at VLEN-aligned column offsets, so x and y share the row width W (a
multiple of VLEN = MLEN): the columns ow < W - KW + 1 are the valid ("no padding")
convolution, the last KW - 1 columns of y hold the taps that stay inside x (x zero-extended
on the right).

Formulation (the published `conv2d_min` shifts every input row element by element through
FPRAM; here the matrix unit does the shifts and the sums).  For each (ic, kh) the rows
x[ic, kh : kh + H_out, :] are a row-offset slice of x, one contiguous HBM row range, and the kw
taps are a banded (Toeplitz) W x W matrix, so

    y[oc] = sum over (ic, kh) of X(ic, kh) . T(oc, ic, kh) = A . T(oc)
    T(oc, ic, kh)[iw, ow] = w[oc, ic, kh, iw - ow]   (0 <= iw - ow < KW, else 0)

with A = [X(0, 0) | X(0, 1) | ... | X(C_in-1, KH-1)] (H_out x C_in*KH*W, built in VRAM by
C_in*KH DMAs) and T(oc) the K = C_in*KH*W long stack of the bands: one gemm, K tiled by
plena-select-gemm.

Weight layout (the kernel's, as nn.Linear's weight is linear's): MRAM is written only from
HBM, so the host packs the bands.  `t` is (C_out*W, C_in*KH*W), stored (N, K) like
nn.Linear's weight:

    t[oc*W + ow, (ic*KH + kh)*W + iw] = w[oc, ic, kh, iw - ow]   if 0 <= iw - ow < KW, else 0

(`pack_weight(w, width)`).  Per output channel the kernel loads its W x K panel of t into
MRAM, computes the H_out x W block with the gemm, adds bias[oc] (an FPRAM scalar: bias is
loaded as one VLEN-entry VRAM row, the entries past C_out read but unused, and moved to
FPRAM once) and stores y[oc].  The sizes: W a multiple of MLEN, H_out a multiple of the rows
one H_PREFETCH_V moves, C_out <= VLEN; A (VRAM) and one panel of t (MRAM) must fit, which
plena-allocate-memory checks.
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.gemm.forms import GemmShape, select_form
from plena_mlir.gemm.results import gemm_result
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM = MemorySpace.VRAM


def output_rows(h_in: int, kh: int) -> int:
    """H_out: the rows of y."""
    return h_in - kh + 1


def check_sizes(
    c_in: int, c_out: int, h_in: int, w: int, kh: int, kw: int, target: Target = DEFAULT_TARGET
) -> None:
    """ValueError naming the constraint the sizes break on `target`."""
    sizes = {"c_in": c_in, "c_out": c_out, "h_in": h_in, "w": w, "kh": kh, "kw": kw}
    if bad := [f"{name}={value}" for name, value in sizes.items() if value <= 0]:
        raise ValueError(f"conv2d: every size must be positive, got {', '.join(bad)}")
    if w % target.mlen:
        raise ValueError(
            f"conv2d: the width w ({w}) must be a multiple of {target.mlen} (MLEN: t's panel "
            "is whole MRAM tiles, the DMAs move VLEN-element rows)"
        )
    if kw > w:
        raise ValueError(f"conv2d: the kernel width kw ({kw}) exceeds the width w ({w})")
    h_out = output_rows(h_in, kh)
    group = target.hbm_v_prefetch_rows
    if h_out <= 0 or h_out % group:
        raise ValueError(
            f"conv2d: the output rows h_in - kh + 1 ({h_in} - {kh} + 1 = {h_out}) must be a "
            f"positive multiple of {group} (H_PREFETCH_V loads {group} rows at a time)"
        )
    if c_out > target.vlen:
        raise ValueError(
            f"conv2d: c_out ({c_out}) must be at most {target.vlen} (the bias is loaded as one "
            "VRAM row)"
        )


def build(
    c_in: int | None = None,
    c_out: int | None = None,
    h_in: int | None = None,
    w: int | None = None,
    kh: int | None = None,
    kw: int | None = None,
    bias: bool = True,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    """The tile IR on `target` (a size not given takes its default there)."""
    given = {"c_in": c_in, "c_out": c_out, "h_in": h_in, "w": w, "kh": kh, "kw": kw}
    defaults = default_sizes(target)
    c_in, c_out, h_in, w, kh, kw = (
        defaults[name] if size is None else size for name, size in given.items()
    )
    check_sizes(c_in, c_out, h_in, w, kh, kw, target)
    h_out, depth = output_rows(h_in, kh), c_in * kh * w
    with KernelBuilder("conv2d", target=target) as k:
        x = k.tensor("x", (c_in, h_in, w))
        t = k.tensor("t", (c_out * w, depth))
        bias_vector = k.tensor("bias", (c_out,)) if bias else None
        y = k.tensor("y", (c_out, h_out, w))
        a = k.alloc((h_out, depth), name="a")
        t_panel = k.alloc((w, depth), "mram", name="t_panel")
        acc = k.alloc((h_out, w), name="acc")
        for ic in range(c_in):
            for row in range(kh):
                k.copy(x[ic, row, 0], a[0, (ic * kh + row) * w], src_sizes=(1, h_out, w))
        if bias_vector is not None:
            bias_row = k.alloc((1, target.vlen), name="bias_row")
            bias_fp = k.alloc((target.vlen,), "fpram", name="bias_fp")
            k.copy(bias_vector[0], bias_row[0, 0], src_sizes=(c_out,), dst_sizes=(1, c_out))
            k.copy(bias_row, bias_fp)
        for oc in k.range(0, c_out, name="oc"):
            k.copy(t[oc * w, 0], t_panel)
            k.gemm(acc, a, t_panel, "mk,nk->mn")
            if bias_vector is not None:
                acc += bias_fp[oc]
            k.copy(acc, y[oc, 0, 0], dst_sizes=(1, h_out, w))
    return k.module


def pack_weight(weight: np.ndarray, width: int) -> np.ndarray:
    """The kernel's weight operand t (module docstring) from w[oc, ic, kh, kw]."""
    c_out, c_in, kh, kw = weight.shape
    t = np.zeros((c_out, width, c_in, kh, width), np.float32)
    for tap in range(kw):
        for ow in range(width - tap):
            t[:, ow, :, :, ow + tap] = weight[:, :, :, tap]
    return t.reshape(c_out * width, c_in * kh * width)


def golden(
    inputs: Mapping[str, np.ndarray],
    kh: int,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: A from bf16 rows of x, t as HBM holds it (MRAM is f32), each
    channel's gemm as the form plena-select-gemm picks computes it (`gemm_result`), plus
    bias[oc] (a bf16 VRAM row moved to FPRAM) in bf16, stored to HBM."""
    num = Numerics("rounded", target, hbm_format)
    x = num.store(VRAM, num.hbm_input(inputs["x"]))
    t = num.hbm_input(inputs["t"])
    c_in, h_in, w = x.shape
    h_out = output_rows(h_in, kh)
    a = np.concatenate([x[ic, row : row + h_out] for ic in range(c_in) for row in range(kh)], 1)
    best, _ = select_form(GemmShape(h_out, w, a.shape[1], True), target)
    c_out = t.shape[0] // w
    y = np.stack(
        [gemm_result(best.form, a, t[oc * w : (oc + 1) * w], True, target) for oc in range(c_out)]
    )
    if "bias" in inputs:
        bias = num.fp(num.store(VRAM, num.hbm_input(inputs["bias"])))
        y = num.store(VRAM, y + bias[:, None, None])
    return {"y": num.store("hbm", y)}


def make_inputs(sizes: Mapping[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    c_in, c_out, w = sizes["c_in"], sizes["c_out"], sizes["w"]
    weight = rng.standard_normal((c_out, c_in, sizes["kh"], sizes["kw"])).astype(np.float32)
    inputs = {
        "x": rng.standard_normal((c_in, sizes["h_in"], w)).astype(np.float32),
        "t": pack_weight(weight, w),
    }
    if sizes["bias"]:
        inputs["bias"] = rng.standard_normal(c_out).astype(np.float32)
    return inputs


def default_sizes(target: Target) -> dict[str, int]:
    """One MLEN x MLEN output tile per channel (w = h_out = MLEN) from up to 4 input channels
    of 3 x 3 taps: K = c_in * 3 tiles, as many channels as MRAM holds the panel of (4 -> 4
    channels, 66 x 64 on plena-tvm)."""
    t, taps = target.mlen, 3
    c_in = max(1, min(4, target.mram_tiles // taps))
    return {
        "c_in": c_in,
        "c_out": 4,
        "h_in": t + taps - 1,
        "w": t,
        "kh": taps,
        "kw": taps,
        "bias": True,
    }


def sizes_to_test(target: Target) -> tuple[dict[str, int], ...]:
    """One channel of 4 x 4 taps without a bias; two tiles of output rows and of width (M and
    N tiled), 3 x 5 taps (fewer rows of taps if MRAM is short) from up to 3 channels, 8 out;
    1 x 1 taps over one DMA row group of output rows (3 x 5 x 3 channels, 130 x 128 on
    plena-tvm)."""
    t, group = target.mlen, target.hbm_v_prefetch_rows
    panel_per_tap_row = 2 * 2  # MRAM tiles a row of taps adds to the wide case's panel
    kh = max(1, min(3, target.mram_tiles // panel_per_tap_row))
    c_in = max(1, min(3, target.mram_tiles // (kh * panel_per_tap_row)))
    return (
        {"c_in": 1, "c_out": 1, "h_in": t + 3, "kh": 4, "kw": 4, "bias": False},
        {"c_in": c_in, "c_out": 8, "h_in": 2 * t + kh - 1, "w": 2 * t, "kh": kh, "kw": 5},
        {"c_in": 2, "c_out": 3, "h_in": group, "kh": 1, "kw": 1},
    )


SPECS = (
    KernelSpec(
        name="conv2d",
        summary="stride-1 NCHW convolution y[oc] = bias[oc] + sum w * x, one gemm per output "
        "channel against host-packed Toeplitz bands t",
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(sizes, rng),
        golden=lambda inputs, sizes, target, fmt: golden(inputs, sizes["kh"], target, fmt),
        test_sizes=sizes_to_test,
    ),
)
