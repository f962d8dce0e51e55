"""`concat`: y = [a | b] along the features: y[:, :A] = a, y[:, A:] = b.

HBM tensors are MX-packed ([element bytes][scale bytes] per tensor), so a concatenation is a
real copy, not an alias.  Each instance stages one row block (MLEN rows, whole DMA row
groups: `plena_mlir.kernels.row_tiles`) of both halves side by side in one VRAM buffer (two
loads into its column ranges) and stores it with one copy.  A and B must be multiples of VLEN
(a DMA moves whole VRAM rows).  Default sizes: two row blocks, each half two VLEN blocks
(the published 128 x (128 + 128) on plena-tvm).
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
    """Two row blocks; each half two VLEN blocks."""
    return {"rows": 2 * row_tiles.row_block(target), "a_dim": 2 * target.vlen,
            "b_dim": 2 * target.vlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """One row block of one VLEN block next to three."""
    vlen = target.vlen
    return ({"rows": row_tiles.row_block(target), "a_dim": vlen, "b_dim": 3 * vlen},)


def build(
    rows: int | None = None,
    a_dim: int | None = None,
    b_dim: int | None = None,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    """The tile IR on `target` (a size not given takes its default there)."""
    given = {"rows": rows, "a_dim": a_dim, "b_dim": b_dim}
    rows, a_dim, b_dim = row_tiles.given_sizes("concat", given, default_sizes(target)).values()
    row_tiles.check_rows("concat", "rows", rows, target)
    row_tiles.check_columns("concat", "a_dim", a_dim, target)
    row_tiles.check_columns("concat", "b_dim", b_dim, target)
    block = row_tiles.row_block(target)
    with KernelBuilder("concat", grid={"block": rows // block}, target=target) as k:
        a, b = k.tensor("a", (rows, a_dim)), k.tensor("b", (rows, b_dim))
        y = k.tensor("y", (rows, a_dim + b_dim))
        row0 = k.axis("block") * block
        both = k.alloc((block, a_dim + b_dim), name="both")
        k.copy(a[row0, 0], both[0, 0], src_sizes=(block, a_dim))
        k.copy(b[row0, 0], both[0, a_dim], src_sizes=(block, b_dim))
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
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: {
            name: rng.normal(0.0, 1.0, (sizes["rows"], sizes[f"{name}_dim"])).astype(np.float32)
            for name in ("a", "b")
        },
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=test_sizes,
    ),
)
