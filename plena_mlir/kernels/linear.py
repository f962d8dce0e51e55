"""`linear`: C = A·Bᵀ + bias (B stored (N, K) as nn.Linear stores it), or C = A·B + bias.

One program instance: A (m x k) is loaded into VRAM, B whole into MRAM, one `tile.gemm`
computes C (plena-select-gemm tiles it over M, N and K and picks the instruction form, the
lane-paired M_BTMM / M_BMM with a lane sum for these sizes), the bias row is added to every
row and C is stored.
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.builder import KernelBuilder
from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.interp.numerics import Numerics
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.lowering.gemm_forms import GemmShape, select_form
from plena_mlir.lowering.gemm_numerics import gemm_result
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

T = 64  # M, N and K are whole tiles
VRAM = MemorySpace.VRAM


def build(
    m: int = 128, n: int = 128, k: int = 128, bias: bool = True, transpose_b: bool = True
) -> ModuleOp:
    if m % T or n % T or k % T:
        raise ValueError(f"linear: M, N, K ({m}, {n}, {k}) must be multiples of {T}")
    with KernelBuilder("linear") as kb:
        a = kb.tensor("a", (m, k))
        b = kb.tensor("b", (n, k) if transpose_b else (k, n))
        bias_vector = kb.tensor("bias", (n,)) if bias else None
        c = kb.tensor("c", (m, n))
        a_tile = kb.alloc((m, k), name="a_tile")
        b_tile = kb.alloc((n, k) if transpose_b else (k, n), "mram", name="b_tile")
        acc = kb.alloc((m, n), name="acc")
        kb.copy(a[0, 0], a_tile)
        kb.copy(b[0, 0], b_tile)
        kb.gemm(acc, a_tile, b_tile, "mk,nk->mn" if transpose_b else "mk,kn->mn")
        if bias_vector is not None:
            bias_row = kb.alloc((1, n), name="bias_row")
            kb.copy(bias_vector[0], bias_row)
            acc += bias_row
        kb.copy(acc, c[0, 0])
    return kb.module


def golden(
    inputs: Mapping[str, np.ndarray],
    transpose_b: bool = True,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 A, f32 B (MRAM is not rounded), the product as the form
    plena-select-gemm picks computes it (`gemm_result`: the lane partials rounded to bf16
    and summed in bf16), plus the bf16 bias, rounded to bf16."""
    num = Numerics("rounded", target, hbm_format)
    a = num.store(VRAM, num.hbm_input(inputs["a"]))
    b = num.hbm_input(inputs["b"])
    n = b.shape[0] if transpose_b else b.shape[1]
    best, _ = select_form(GemmShape(a.shape[0], n, a.shape[1], transpose_b), target)
    c = gemm_result(best.form, a, b, transpose_b, target)
    if "bias" in inputs:
        c = num.store(VRAM, c + num.store(VRAM, num.hbm_input(inputs["bias"])))
    return {"c": num.store("hbm", c)}


def _inputs(sizes: Mapping[str, int], rng: np.random.Generator, transpose_b: bool):
    m, n, k = sizes["m"], sizes["n"], sizes["k"]
    inputs = {
        "a": rng.standard_normal((m, k)).astype(np.float32),
        "b": rng.standard_normal((n, k) if transpose_b else (k, n)).astype(np.float32),
    }
    if sizes["bias"]:
        inputs["bias"] = rng.standard_normal(n).astype(np.float32)
    return inputs


def _spec(name: str, summary: str, transpose_b: bool) -> KernelSpec:
    return KernelSpec(
        name=name,
        summary=summary,
        sizes={"m": 128, "n": 128, "k": 128, "bias": True},
        build_module=lambda **s: build(**s, transpose_b=transpose_b),
        make_inputs=lambda sizes, rng: _inputs(sizes, rng, transpose_b),
        golden=lambda inputs, sizes, target, fmt: golden(inputs, transpose_b, target, fmt),
        test_sizes=(
            {"m": 64, "n": 64, "k": 64, "bias": False},
            {"m": 256, "n": 512, "k": 512},
            {"m": 64, "n": 192, "k": 128},
        ),
    )


SPECS = (
    _spec("linear", "C = A·Bᵀ + bias, B stored (N, K) like nn.Linear's weight", True),
    _spec("linear_no_transpose", "C = A·B + bias, B stored (K, N)", False),
)
