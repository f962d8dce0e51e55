"""`rmsnorm`: RMS normalisation of each group of `head_dim` columns of a row.

    y[r, g] = x[r, g] * w / sqrt(mean(x[r, g]^2) + eps)      g = one group of head_dim columns

head_dim = hidden is the classic RMSNorm, x and y rows x hidden.  With head_dim < hidden (the
per-head QK-norm) x and y are BSHD [rows, heads, head_dim] tensors, one head per program
instance, and the head axis of the grid is the lane axis: heads of HLEN are packed L = MLEN /
HLEN side by side (col_pack), heads of whole VLEN blocks each take their own rows
(row_stack).  `w` has head_dim entries (shared by the heads); `eps` is an f32 kernel
argument.  Each instance normalises one row block (MLEN rows, whole DMA row groups:
`plena_mlir.kernels.row_tiles`), the row values one FPRAM entry per row:

    sq = t * t;  r = rowsum(sq) * (1/head_dim);  r = 1 / sqrt(r + eps);  y = t * r * w

Default sizes: two row blocks x 2L heads of HLEN (several lane groups; on plena-tvm the
published QK-norm's 128 rows x 8 heads x 16).
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.kernels import row_tiles
from plena_mlir.kernels.layernorm import default_hidden
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM = MemorySpace.VRAM


def default_sizes(target: Target) -> dict[str, int]:
    """Two row blocks x 2L heads of HLEN."""
    return {"rows": 2 * row_tiles.row_block(target), "hidden": 2 * target.vlen,
            "head_dim": target.hlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Whole rows (head_dim 0) of one row block x four VLEN blocks, of two row blocks x the
    published hidden size and x two VLEN blocks; one row block x 4L heads of HLEN."""
    block, vlen = row_tiles.row_block(target), target.vlen
    return (
        {"rows": block, "hidden": 4 * vlen, "head_dim": 0},
        {"rows": 2 * block, "hidden": default_hidden(target), "head_dim": 0},
        {"rows": 2 * block, "hidden": 2 * vlen, "head_dim": 0},
        {"rows": block, "hidden": 4 * vlen, "head_dim": target.hlen},
    )


def tensor_shape(rows: int, hidden: int, head_dim: int) -> tuple[int, ...]:
    """x's and y's shape: rows x hidden, or [rows, heads, head_dim] with several heads."""
    return (rows, hidden) if head_dim == hidden else (rows, hidden // head_dim, head_dim)


def check_head_dim(hidden: int, head_dim: int, target: Target) -> None:
    """ValueError unless head_dim divides hidden and is a width a head can have: HLEN (L heads
    packed in a VLEN-wide row) or whole VLEN blocks (the whole row when it is hidden)."""
    if hidden % head_dim:
        raise ValueError(f"rmsnorm: hidden ({hidden}) must be a multiple of head_dim ({head_dim})")
    if head_dim != target.hlen and head_dim % target.vlen:
        raise ValueError(
            f"rmsnorm: head_dim ({head_dim}) must be HLEN = {target.hlen} (heads packed in "
            f"lanes) or a multiple of VLEN = {target.vlen} on {target.name}"
        )


def build(
    rows: int | None = None,
    hidden: int | None = None,
    head_dim: int | None = None,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    """The tile IR on `target`: rows and hidden default to their default sizes there,
    head_dim (None or 0) to hidden, the classic RMSNorm."""
    defaults = default_sizes(target)
    rows = defaults["rows"] if rows is None else rows
    hidden = defaults["hidden"] if hidden is None else hidden
    head_dim = head_dim or hidden
    row_tiles.check_rows("rmsnorm", "rows", rows, target)
    row_tiles.check_columns("rmsnorm", "hidden", hidden, target)
    check_head_dim(hidden, head_dim, target)
    heads, block = hidden // head_dim, row_tiles.row_block(target)
    grid = {"block": rows // block, "head": heads}
    shape = tensor_shape(rows, hidden, head_dim)
    lane = "head" if heads > 1 else None
    with KernelBuilder("rmsnorm", grid=grid, lane=lane, target=target) as k:
        x, w = k.tensor("x", shape), k.tensor("w", (head_dim,))
        y, eps = k.tensor("y", shape), k.scalar("eps")
        row0, head = k.axis("block") * block, k.axis("head")
        start = (row0, head, 0) if heads > 1 else (row0, 0)
        sizes = (block, 1, head_dim) if heads > 1 else ()
        t, sq = k.alloc((block, head_dim), name="t"), k.alloc((block, head_dim), name="sq")
        weight = k.alloc((1, head_dim), name="weight")
        inv_rms = k.alloc((block,), "fpram", name="inv_rms")
        k.copy(x[start], t, src_sizes=sizes)
        k.copy(w[0], weight)
        k.mul(sq, t, t)
        k.reduce_sum(inv_rms, sq)
        inv_rms *= 1.0 / head_dim
        inv_rms += eps
        k.fp_sqrt(inv_rms, inv_rms)
        k.fp_reci(inv_rms, inv_rms)
        t *= inv_rms
        t *= weight
        k.copy(t, y[start], dst_sizes=sizes)
    return k.module


def golden(
    inputs: Mapping[str, np.ndarray],
    eps: float,
    head_dim: int | None = None,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 tiles and squares, the sum of squares in fp (VLEN columns
    at a time), then fp scale, + eps, sqrt and reciprocal, bf16 products."""
    n = Numerics("rounded", target, hbm_format)
    shape = np.shape(inputs["x"])
    head_dim = head_dim or shape[-1]
    x = n.store(VRAM, n.hbm_input(inputs["x"])).reshape(-1, head_dim)
    weight = n.store(VRAM, n.hbm_input(inputs["w"]))
    inv_rms = n.reduce_rows(np.add, n.store(VRAM, x * x), 0.0)
    inv_rms = n.fp(inv_rms * n.fp(1.0 / head_dim))
    inv_rms = n.fp(np.reciprocal(n.fp(np.sqrt(n.fp(inv_rms + n.fp(eps))))))
    y = n.store(VRAM, n.store(VRAM, x * inv_rms[:, None]) * weight)
    return {"y": n.store("hbm", y.reshape(shape))}


def _inputs(sizes: Mapping[str, int], rng: np.random.Generator) -> dict[str, np.ndarray | float]:
    head_dim = sizes["head_dim"] or sizes["hidden"]
    shape = tensor_shape(sizes["rows"], sizes["hidden"], head_dim)
    return {
        "x": rng.normal(0.0, 2.0, shape).astype(np.float32),
        "w": rng.normal(1.0, 0.5, head_dim).astype(np.float32),
        "eps": 1e-6,
    }


SPECS = (
    KernelSpec(
        name="rmsnorm",
        summary="y = x * w / sqrt(mean(x^2) + eps) over each group of head_dim columns "
        "(head_dim 0: the whole row)",
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: _inputs(sizes, rng),
        golden=lambda inputs, sizes, target, hbm_format: golden(
            {k: v for k, v in inputs.items() if k != "eps"},
            float(inputs["eps"]),
            sizes["head_dim"] or None,
            target,
            hbm_format,
        ),
        test_sizes=test_sizes,
    ),
)
