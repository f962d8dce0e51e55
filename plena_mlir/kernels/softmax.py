"""`softmax`: softmax over each row, one tile of a row block (MLEN rows, whole DMA row groups:
`plena_mlir.kernels.row_tiles`) per program instance.

y[r, :] = exp(x[r, :] - max(x[r, :])) / sum(exp(x[r, :] - max(x[r, :])))

Per tile (row max and sum one FPRAM entry per row, over every VLEN-wide column block):

    s = x;  m = rowmax(s);  s = s - m;  s = exp(s);  l = rowsum(s);  l = 1 / l;  y = s * l

Default sizes: one row block x one VLEN block (the published 64 x 64 on plena-tvm); the test
sizes add a second row block and three column blocks.
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
    """One row block x one VLEN block."""
    return {"rows": row_tiles.row_block(target), "cols": target.vlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Two row blocks x three VLEN blocks."""
    return ({"rows": 2 * row_tiles.row_block(target), "cols": 3 * target.vlen},)


def build(
    rows: int | None = None, cols: int | None = None, target: Target = DEFAULT_TARGET
) -> ModuleOp:
    """The tile IR on `target` (a size not given takes its default there)."""
    given = {"rows": rows, "cols": cols}
    rows, cols = row_tiles.given_sizes("softmax", given, default_sizes(target)).values()
    row_tiles.check_rows("softmax", "rows", rows, target)
    row_tiles.check_columns("softmax", "cols", cols, target)
    block = row_tiles.row_block(target)
    with KernelBuilder("softmax", grid={"block": rows // block}, target=target) as k:
        x, y = k.tensor("x", (rows, cols)), k.tensor("y", (rows, cols))
        row0 = k.axis("block") * block
        s = k.alloc((block, cols), "vram", name="s")
        row_max = k.alloc((block,), "fpram", name="row_max")
        row_sum = k.alloc((block,), "fpram", name="row_sum")
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
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: {
            "x": rng.normal(0.0, 3.0, (sizes["rows"], sizes["cols"])).astype(np.float32)
        },
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=test_sizes,
    ),
)
