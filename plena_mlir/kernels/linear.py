"""`linear`: C = A·Bᵀ + bias (B stored (N, K) as nn.Linear stores it), or C = A·B + bias.

B is split into panels of `n_panel` output columns (0: all N, one panel), one program
instance each (grid axis `panel`), so a weight bigger than MRAM runs panel by panel.  An
instance loads A (m x k) into VRAM and its panel of B into MRAM, one `tile.gemm` computes its
m x n_panel block of C (plena-select-gemm tiles it over M, N and K and picks the instruction
form, the lane-paired M_BTMM / M_BMM with a lane sum for these sizes), the bias row is added
to every row and the block is stored.
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

T = 64  # M, N and K are whole tiles
VRAM = MemorySpace.VRAM


def build(
    m: int = 128,
    n: int = 128,
    k: int = 128,
    bias: bool = True,
    transpose_b: bool = True,
    n_panel: int = 0,

    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    if m % T or n % T or k % T:
        raise ValueError(f"linear: M, N, K ({m}, {n}, {k}) must be multiples of {T}")
    panel = n_panel or n
    if panel % T or n % panel:
        raise ValueError(
            f"linear: n_panel ({n_panel}) must be a multiple of {T} that divides N ({n})"
        )
    with KernelBuilder("linear", grid={"panel": n // panel}, target=target) as kb:
        a = kb.tensor("a", (m, k))
        b = kb.tensor("b", (n, k) if transpose_b else (k, n))
        bias_vector = kb.tensor("bias", (n,)) if bias else None
        c = kb.tensor("c", (m, n))
        col0 = kb.axis("panel") * panel
        a_tile = kb.alloc((m, k), name="a_tile")
        b_tile = kb.alloc((panel, k) if transpose_b else (k, panel), "mram", name="b_tile")
        acc = kb.alloc((m, panel), name="acc")
        kb.copy(a[0, 0], a_tile)
        kb.copy(b[col0, 0] if transpose_b else b[0, col0], b_tile)
        kb.gemm(acc, a_tile, b_tile, "mk,nk->mn" if transpose_b else "mk,kn->mn")
        if bias_vector is not None:
            bias_row = kb.alloc((1, panel), name="bias_row")
            kb.copy(bias_vector[col0], bias_row)
            acc += bias_row
        kb.copy(acc, c[0, col0])
    return kb.module


def golden(
    inputs: Mapping[str, np.ndarray],
    transpose_b: bool = True,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
    n_panel: int = 0,
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 A, f32 B (MRAM is not rounded), the product as the form
    plena-select-gemm picks computes it (`gemm_result`: the lane partials rounded to bf16
    and summed in bf16) of each panel, plus the bf16 bias, rounded to bf16."""
    num = Numerics("rounded", target, hbm_format)
    a = num.store(VRAM, num.hbm_input(inputs["a"]))
    b = num.hbm_input(inputs["b"])
    n = b.shape[0] if transpose_b else b.shape[1]
    panel = n_panel or n
    best, _ = select_form(GemmShape(a.shape[0], panel, a.shape[1], transpose_b), target)
    panels = [
        gemm_result(
            best.form,
            a,
            b[c0 : c0 + panel] if transpose_b else b[:, c0 : c0 + panel],
            transpose_b,
            target,
        )
        for c0 in range(0, n, panel)
    ]
    c = np.concatenate(panels, axis=1)
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
        sizes={"m": 128, "n": 128, "k": 128, "bias": True, "n_panel": 0},
        build_module=lambda **s: build(**s, transpose_b=transpose_b),
        make_inputs=lambda sizes, rng, target: _inputs(sizes, rng, transpose_b),
        golden=lambda inputs, sizes, target, fmt: golden(
            inputs, transpose_b, target, fmt, sizes["n_panel"]
        ),
        test_sizes=(
            {"m": 64, "n": 64, "k": 64, "bias": False},
            {"m": 256, "n": 512, "k": 512},
            {"m": 64, "n": 192, "k": 128},
            {"m": 64, "n": 256, "k": 128, "n_panel": 128},
        ),
    )


SPECS = (
    _spec("linear", "C = A·Bᵀ + bias, B stored (N, K) like nn.Linear's weight", True),
    _spec("linear_no_transpose", "C = A·B + bias, B stored (K, N)", False),
)
