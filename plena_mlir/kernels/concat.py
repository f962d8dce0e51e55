"""`concat`: y = [a | b] along the features: y[:, :A] = a, y[:, A:] = b.

HBM tensors are MX-packed ([element bytes][scale bytes] per tensor), so a concatenation is a
real copy, not an alias.  Each instance stages ROWS rows of both halves side by side in one
VRAM buffer (two loads into its column ranges) and stores it with one copy.  A and B must be
multiples of VLEN = 64 (a DMA moves whole VRAM rows).
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

ROWS = 64  # rows per program instance
VRAM = MemorySpace.VRAM


def build(
    rows: int = 128, a_dim: int = 128, b_dim: int = 128, target: Target = DEFAULT_TARGET
) -> ModuleOp:
    if rows % ROWS or rows <= 0 or a_dim % 64 or b_dim % 64 or min(a_dim, b_dim) <= 0:
        raise ValueError(
            f"concat: rows ({rows}) must be a positive multiple of {ROWS} and a_dim ({a_dim}), "
            f"b_dim ({b_dim}) positive multiples of 64"
        )
    with KernelBuilder("concat", grid={"block": rows // ROWS}, target=target) as k:
        a, b = k.tensor("a", (rows, a_dim)), k.tensor("b", (rows, b_dim))
        y = k.tensor("y", (rows, a_dim + b_dim))
        row0 = k.axis("block") * ROWS
        both = k.alloc((ROWS, a_dim + b_dim), name="both")
        k.copy(a[row0, 0], both[0, 0], src_sizes=(ROWS, a_dim))
        k.copy(b[row0, 0], both[0, a_dim], src_sizes=(ROWS, b_dim))
        k.copy(both, y[row0, 0])
    return k.module


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: both halves as VRAM holds them (bf16), stored side by side."""
    n = Numerics("rounded", target, hbm_format)
    halves = [n.store(VRAM, n.hbm_input(inputs[name])) for name in ("a", "b")]
    return {"y": n.store("hbm", np.concatenate(halves, axis=1))}


SPECS = (
    KernelSpec(
        name="concat",
        summary="y = [a | b] along the feature axis (rows x (a_dim + b_dim))",
        sizes={"rows": 128, "a_dim": 128, "b_dim": 128},
        build_module=build,
        make_inputs=lambda sizes, rng, target: {
            name: rng.normal(0.0, 1.0, (sizes["rows"], sizes[f"{name}_dim"])).astype(np.float32)
            for name in ("a", "b")
        },
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=({"rows": 64, "a_dim": 64, "b_dim": 192},),
    ),
)
