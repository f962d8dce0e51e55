"""`linear`: C = A·Bᵀ + bias (B stored (N, K) as nn.Linear stores it), or C = A·B.

One program instance computes a 64-row block of C: it loads its A panel (64 x K) a tile at a
time, then for each 64-column block of C loads the B panel, multiplies over the whole K (one
f32 accumulation) and adds the bias row.
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.builder import KernelBuilder
from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.interp.numerics import Numerics
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

T = 64  # tile edge
VRAM = MemorySpace.VRAM


def build(
    m: int = 128, n: int = 128, k: int = 128, bias: bool = True, transpose_b: bool = True
) -> ModuleOp:
    if m % T or n % T or k % T:
        raise ValueError(f"linear: M, N, K ({m}, {n}, {k}) must be multiples of {T}")
    with KernelBuilder("linear", grid={"block": m // T}) as kb:
        a = kb.tensor("a", (m, k))
        b = kb.tensor("b", (n, k) if transpose_b else (k, n))
        bias_vector = kb.tensor("bias", (n,)) if bias else None
        c = kb.tensor("c", (m, n))
        row0 = kb.axis("block") * T
        a_panel = kb.alloc((T, k), name="a_panel")
        b_panel = kb.alloc((T, k) if transpose_b else (k, T), "mram", name="b_panel")
        acc = kb.alloc((T, T), name="acc")
        for kk in kb.range(0, k, T, name="kk"):
            kb.copy(a[row0, kk], a_panel[0, kk], src_sizes=(T, T))
        for col0 in kb.range(0, n, T, name="col0"):
            for kk in kb.range(0, k, T, name="kk"):
                if transpose_b:
                    kb.copy(b[col0, kk], b_panel[0, kk], src_sizes=(T, T))
                else:
                    kb.copy(b[kk, col0], b_panel[kk, 0], src_sizes=(T, T))
            kb.gemm(acc, a_panel, b_panel, "mk,nk->mn" if transpose_b else "mk,kn->mn")
            if bias_vector is not None:
                bias_row = kb.alloc((1, T), name="bias_row")
                kb.copy(bias_vector[col0], bias_row)
                acc += bias_row
            kb.copy(acc, c[row0, col0])
    return kb.module


def golden(
    inputs: Mapping[str, np.ndarray],
    transpose_b: bool = True,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 A, f32 B (MRAM is not rounded), the product accumulated in
    f32 and rounded to bf16 once, plus the bf16 bias rounded to bf16."""
    num = Numerics("rounded", target, hbm_format)
    a = num.store(VRAM, num.hbm_input(inputs["a"])).astype(np.float64)
    b = num.hbm_input(inputs["b"]).astype(np.float64)
    c = num.store(VRAM, num.accumulate(a @ (b.T if transpose_b else b)))
    if "bias" in inputs:
        c = num.store(VRAM, c + num.store(VRAM, num.hbm_input(inputs["bias"])))
    return {"c": num.store("hbm", c)}
