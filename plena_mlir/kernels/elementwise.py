"""What the element-wise kernels (gelu, silu, modulate, residual_gate) share.

Each works on a rows x (heads * head_dim) tensor, the heads side by side in the columns (the
element-wise maths does not care where one head ends), one tile of `block_rows` rows per
program instance (as many rows as fit MAX_TILE_ELEMENTS, a multiple of ROWS); per-column
vectors (a modulation's scale and shift, a gate) are loaded once per instance as one VRAM
row and broadcast to every row of the tile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.builder import Buffer, KernelBuilder
from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.interp.numerics import Numerics
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.target import Target

ROWS = 64  # the rows of a tile are a multiple of this
MAX_TILE_ELEMENTS = 32768  # elements of one tile (512 VRAM rows)
VRAM = MemorySpace.VRAM

#: Default sizes: the published compiler's 128 rows x 8 heads x 16 (head_count 8, two 64-row
#: blocks).
SIZES = {"rows": 128, "heads": 8, "head_dim": 16}


def columns(name: str, rows: int, heads: int, head_dim: int) -> int:
    """heads * head_dim; ValueError unless rows is a multiple of ROWS and the columns whole
    rows of the vector unit (64: an H_STORE_V writes whole 64-element rows)."""
    cols = heads * head_dim
    if rows % ROWS or rows <= 0 or cols % 64 or cols <= 0:
        raise ValueError(
            f"{name}: rows ({rows}) must be a positive multiple of {ROWS} and heads * head_dim "
            f"({heads} * {head_dim}) a positive multiple of 64"
        )
    return cols


def block_rows(rows: int, cols: int) -> int:
    """The rows of one instance's tile: the largest multiple of ROWS dividing `rows` whose
    tile has at most MAX_TILE_ELEMENTS elements (ROWS at least).  Bigger tiles load the
    per-column vectors fewer times and run fewer, longer loops."""
    fitting = [b for b in range(ROWS, rows + 1, ROWS) if rows % b == 0]
    return max([b for b in fitting if b * cols <= MAX_TILE_ELEMENTS] or [ROWS])


def build(
    name: str,
    rows: int,
    cols: int,
    tiles: Sequence[str],
    vectors: Sequence[str],
    compute: Callable[[KernelBuilder, dict[str, Buffer]], Buffer],
) -> ModuleOp:
    """A kernel with the rows x cols tensor arguments `tiles`, the cols-long vector arguments
    `vectors` and an output `y`: each instance loads its tiles and the vectors (one row
    each), `compute(k, buffers by argument name)` returns the buffer holding the result, which
    is stored to y."""
    block = block_rows(rows, cols)
    with KernelBuilder(name, grid={"block": rows // block}) as k:
        tensors = {n: k.tensor(n, (rows, cols)) for n in tiles}
        vector_tensors = {n: k.tensor(n, (cols,)) for n in vectors}
        y = k.tensor("y", (rows, cols))
        row0 = k.axis("block") * block
        buffers = {}
        for n, tensor in tensors.items():
            buffers[n] = k.alloc((block, cols), name=n)
            k.copy(tensor[row0, 0], buffers[n])
        for n, tensor in vector_tensors.items():
            buffers[n] = k.alloc((1, cols), name=n)
            k.copy(tensor[0], buffers[n])
        k.copy(compute(k, buffers), y[row0, 0])
    return k.module


def make_inputs(
    tiles: Sequence[str], vectors: Sequence[str], scale: float = 1.0
) -> Callable[[Mapping[str, int], np.random.Generator], dict[str, np.ndarray]]:
    """Seeded normal inputs: tiles with standard deviation `scale`, vectors around 0 (0.5)."""

    def inputs(sizes: Mapping[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
        cols = sizes["heads"] * sizes["head_dim"]
        result = {n: rng.normal(0.0, scale, (sizes["rows"], cols)) for n in tiles}
        result |= {n: rng.normal(0.0, 0.5, cols) for n in vectors}
        return {n: v.astype(np.float32) for n, v in result.items()}

    return inputs


def loaded(
    inputs: Mapping[str, np.ndarray], target: Target, hbm_format: HbmFormat
) -> tuple[Numerics, dict[str, np.ndarray]]:
    """The rounded-mode Numerics and every input as its VRAM tile holds it (bf16 of the HBM
    value)."""
    n = Numerics("rounded", target, hbm_format)
    return n, {name: n.store(VRAM, n.hbm_input(x)) for name, x in inputs.items()}
