"""`softmax`: softmax over each row, one 64-row tile per program instance.

y[r, :] = exp(x[r, :] - max(x[r, :])) / sum(exp(x[r, :] - max(x[r, :])))
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


def build(rows: int = 64, cols: int = 64, target: Target = DEFAULT_TARGET) -> ModuleOp:
    if rows % ROWS:
        raise ValueError(f"softmax: rows ({rows}) must be a multiple of {ROWS}")
    with KernelBuilder("softmax", grid={"block": rows // ROWS}, target=target) as k:
        x, y = k.tensor("x", (rows, cols)), k.tensor("y", (rows, cols))
        row0 = k.axis("block") * ROWS
        s = k.alloc((ROWS, cols), "vram", name="s")
        row_max = k.alloc((ROWS,), "fpram", name="row_max")
        row_sum = k.alloc((ROWS,), "fpram", name="row_sum")
        k.copy(x[row0, 0], s)
        k.reduce_max(row_max, s)
        s -= row_max
        k.exp(s, s)
        k.reduce_sum(row_sum, s)
        k.fp_reci(row_sum, row_sum)
        s *= row_sum
        k.copy(s, y[row0, 0])
    return k.module


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 tiles, fp row max and row sum (summed VLEN columns at a
    time), the reciprocal in fp, bf16 products."""
    n = Numerics("rounded", target, hbm_format)
    x = n.store(VRAM, n.hbm_input(inputs["x"]))
    row_max = n.reduce_rows(np.maximum, x, -np.inf)
    e = n.store(VRAM, np.exp(n.store(VRAM, x - row_max[:, None])))
    inverse = n.fp(np.reciprocal(n.reduce_rows(np.add, e, 0.0)))
    return {"y": n.store("hbm", n.store(VRAM, e * inverse[:, None]))}


SPECS = (
    KernelSpec(
        name="softmax",
        summary="softmax over each row of a rows x cols tile",
        sizes={"rows": 64, "cols": 64},
        build_module=build,
        make_inputs=lambda sizes, rng, target: {
            "x": rng.normal(0.0, 3.0, (sizes["rows"], sizes["cols"])).astype(np.float32)
        },
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=({"rows": 128, "cols": 192},),
    ),
)
