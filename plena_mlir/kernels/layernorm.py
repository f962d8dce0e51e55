"""`layernorm`: y = (x - mean) / sqrt(var + eps) * gamma + beta over each row of rows x hidden.

As the published `layernorm_min`, with a per-column scale (`gamma`) and bias (`beta`); the
published testbench broadcasts them to full tiles on the host, here they are hidden-long
vectors loaded as one VRAM row and broadcast by the vector unit.  `eps` is an f32 kernel
argument.  Per tile of one row block (MLEN rows, whole DMA row groups:
`plena_mlir.kernels.row_tiles`), the row values one FPRAM entry per row:

    mean = sum(x) * (1/hidden)                   V_RED_SUM per column block, S_MUL_FP
    t = x - mean                                 V_SUB_VF
    var = sum(t * t) * (1/hidden)                V_MUL_VV, V_RED_SUM, S_MUL_FP
    rstd = 1 / sqrt(var + eps)                   S_ADD_FP, S_SQRT_FP, S_RECI_FP
    y = t * rstd * gamma + beta                  V_MUL_VF, V_MUL_VV, V_ADD_VV

Default sizes: two row blocks x the published hidden size 1024, or two VLEN blocks where VLEN
is wider than 512 (on plena-tvm the published 128 x 1024).
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.kernels import row_tiles
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM = MemorySpace.VRAM


def default_sizes(target: Target) -> dict[str, int]:
    """Two row blocks x `default_hidden`."""
    return {"rows": 2 * row_tiles.row_block(target), "hidden": default_hidden(target)}


def default_hidden(target: Target) -> int:
    """The published norm kernels' hidden size, 1024 (a model dimension), or two VLEN blocks
    when that is more."""
    return max(1024, 2 * target.vlen)


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """One row block x one VLEN block; three row blocks x two VLEN blocks."""
    block, vlen = row_tiles.row_block(target), target.vlen
    return ({"rows": block, "hidden": vlen}, {"rows": 3 * block, "hidden": 2 * vlen})


def build(
    rows: int | None = None, hidden: int | None = None, target: Target = DEFAULT_TARGET
) -> ModuleOp:
    """The tile IR on `target` (a size not given takes its default there)."""
    given = {"rows": rows, "hidden": hidden}
    rows, hidden = row_tiles.given_sizes("layernorm", given, default_sizes(target)).values()
    row_tiles.check_rows("layernorm", "rows", rows, target)
    row_tiles.check_columns("layernorm", "hidden", hidden, target)
    block = row_tiles.row_block(target)
    with KernelBuilder("layernorm", grid={"block": rows // block}, target=target) as k:
        x = k.tensor("x", (rows, hidden))
        gamma, beta = k.tensor("gamma", (hidden,)), k.tensor("beta", (hidden,))
        y, eps = k.tensor("y", (rows, hidden)), k.scalar("eps")
        row0 = k.axis("block") * block
        t, sq = k.alloc((block, hidden), name="t"), k.alloc((block, hidden), name="sq")
        scale, bias = k.alloc((1, hidden), name="scale"), k.alloc((1, hidden), name="bias")
        mean = k.alloc((block,), "fpram", name="mean")
        rstd = k.alloc((block,), "fpram", name="rstd")
        k.copy(x[row0, 0], t)
        k.copy(gamma[0], scale)
        k.copy(beta[0], bias)
        k.reduce_sum(mean, t)
        mean *= 1.0 / hidden
        t -= mean
        k.mul(sq, t, t)
        k.reduce_sum(rstd, sq)
        rstd *= 1.0 / hidden
        rstd += eps
        k.fp_sqrt(rstd, rstd)
        k.fp_reci(rstd, rstd)
        t *= rstd
        t *= scale
        t += bias
        k.copy(t, y[row0, 0])
    return k.module


def golden(
    inputs: Mapping[str, np.ndarray],
    eps: float,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 tiles, the row sums in fp (VLEN columns at a time), the
    mean, variance and 1/sqrt in fp, every vector step written as bf16."""
    n = Numerics("rounded", target, hbm_format)
    x = n.store(VRAM, n.hbm_input(inputs["x"]))
    scale = n.store(VRAM, n.hbm_input(inputs["gamma"]))
    bias = n.store(VRAM, n.hbm_input(inputs["beta"]))
    inverse_hidden = n.fp(1.0 / x.shape[1])
    mean = n.fp(n.reduce_rows(np.add, x, 0.0) * inverse_hidden)
    t = n.store(VRAM, x - mean[:, None])
    var = n.fp(n.reduce_rows(np.add, n.store(VRAM, t * t), 0.0) * inverse_hidden)
    rstd = n.fp(np.reciprocal(n.fp(np.sqrt(n.fp(var + n.fp(eps))))))
    y = n.store(VRAM, n.store(VRAM, n.store(VRAM, t * rstd[:, None]) * scale) + bias)
    return {"y": n.store("hbm", y)}


def _inputs(sizes: Mapping[str, int], rng: np.random.Generator) -> dict[str, np.ndarray | float]:
    hidden = sizes["hidden"]
    return {
        "x": rng.normal(0.5, 2.0, (sizes["rows"], hidden)).astype(np.float32),
        "gamma": rng.normal(1.0, 0.5, hidden).astype(np.float32),
        "beta": rng.normal(0.0, 0.5, hidden).astype(np.float32),
        "eps": 1e-6,
    }


SPECS = (
    KernelSpec(
        name="layernorm",
        summary="y = (x - mean) / sqrt(var + eps) * gamma + beta over each row",
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: _inputs(sizes, rng),
        golden=lambda inputs, sizes, target, hbm_format: golden(
            {k: v for k, v in inputs.items() if k != "eps"},
            float(inputs["eps"]),
            target,
            hbm_format,
        ),
        test_sizes=test_sizes,
    ),
)
