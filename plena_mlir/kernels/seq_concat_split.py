"""`s_concat` and `s_split`: concatenation and split along the sequence (row) axis.

    s_concat:  y[:a_rows] = a;  y[a_rows:] = b      a [a_rows, hd], b [b_rows, hd] -> y
    s_split:   a = x[:a_rows];  b = x[a_rows:]      x [a_rows + b_rows, hd] -> a, b

The MMDiT double-stream block's joint sequence (`[B, S, 1, HD]` with B = 1, the same bytes
as `[S, HD]`: a chain relabels it with a `tile.view`).  HBM tensors are MX-packed (each
tensor's element rows, then its scale rows), so a part of a tensor is never another tensor's
bytes: both kernels are real copies, HBM -> VRAM -> HBM through one tile buffer.

Each of the `instances` program instances (grid axis `block`) copies its own rows, once:
instance i moves rows i*A .. (i+1)*A - 1 of a and i*B .. (i+1)*B - 1 of b (A = a_rows /
instances, B = b_rows / instances) in tiles of `tile_rows` rows (`Plan`).  The tile is the
largest multiple of the row block (MLEN rows, whole DMA row groups:
`plena_mlir.kernels.row_tiles`) dividing both parts with at most eight MLEN x MLEN tiles of
elements, and instances = gcd(a_rows, b_rows) / tile_rows, so with a_rows = b_rows every
instance copies one tile of each.  a_rows and b_rows must be multiples of the row block and
hd of VLEN (a DMA moves whole VLEN-wide VRAM rows, a store writes whole rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.kernels import row_tiles
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

KERNELS = ("s_concat", "s_split")

#: The size parameters.
SIZE_NAMES = ("a_rows", "b_rows", "hd")


def default_sizes(target: Target) -> dict[str, int]:
    """Two row blocks in each part, hd two VLEN blocks (on plena-tvm the published kernel's
    sizes: hd = 128, two 64-row blocks in each part)."""
    block = row_tiles.row_block(target)
    return {"a_rows": 2 * block, "b_rows": 2 * block, "hd": 2 * target.vlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Besides the defaults (one instance, one two-block tile of each part): a one-block part
    next to a three-block part, hd four VLEN blocks (one-block tiles, one instance looping
    over 1 + 3); parts of three blocks, not a multiple of two, hd one VLEN block (one
    three-block tile each); hd = 8 VLEN, where a tile has one block (two instances, each 3
    tiles of a and 1 of b)."""
    block, vlen = row_tiles.row_block(target), target.vlen
    return (
        {"a_rows": block, "b_rows": 3 * block, "hd": 4 * vlen},
        {"a_rows": 3 * block, "b_rows": 3 * block, "hd": vlen},
        {"a_rows": 6 * block, "b_rows": 2 * block, "hd": 8 * vlen},
    )


@dataclass(frozen=True)
class Plan:
    """How the rows are divided: `instances` program instances, each copying a_rows /
    instances rows of a and b_rows / instances of b in tiles of `tile_rows` rows."""

    tile_rows: int
    instances: int

    @classmethod
    def of(
        cls, kernel: str, a_rows: int, b_rows: int, hd: int, target: Target = DEFAULT_TARGET
    ) -> Plan:
        """The plan for the sizes on `target`; ValueError naming `kernel` and the size for
        sizes the machine cannot copy."""
        row_tiles.check_rows(kernel, "a_rows", a_rows, target)
        row_tiles.check_rows(kernel, "b_rows", b_rows, target)
        row_tiles.check_columns(kernel, "hd", hd, target)
        common = math.gcd(a_rows, b_rows)
        tile = row_tiles.tile_rows(common, hd, target)
        return cls(tile, common // tile)


def build(kernel: str = "s_concat", target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """The tile IR of `kernel`: "s_concat" (arguments a, b, y) or "s_split" (x, a, b), for
    `sizes` (SIZE_NAMES; a size not given takes its default on `target`).  Per instance, for
    each part p in (a, b) at row `first` of the whole (0 for a, a_rows for b):

        for t in 0 .. p_rows / instances step tile_rows:
            r = block * (p_rows / instances) + t
            s_concat: rows = p[r : r + tile_rows];  y[first + r : ...] = rows
            s_split:  rows = x[first + r : first + r + tile_rows];  p[r : ...] = rows
    """
    if kernel not in KERNELS:
        raise ValueError(f"seq_concat_split: unknown kernel '{kernel}' (one of {KERNELS})")
    a_rows, b_rows, hd = row_tiles.given_sizes(kernel, sizes, default_sizes(target)).values()
    plan = Plan.of(kernel, a_rows, b_rows, hd, target)
    concat = kernel == "s_concat"
    with KernelBuilder(kernel, grid={"block": plan.instances}, target=target) as k:
        whole_shape = (a_rows + b_rows, hd)
        whole = None if concat else k.tensor("x", whole_shape)
        parts = [
            (k.tensor(n, (rows, hd)), rows, first)
            for n, rows, first in (("a", a_rows, 0), ("b", b_rows, a_rows))
        ]
        whole = whole or k.tensor("y", whole_shape)
        tile = k.alloc((plan.tile_rows, hd), name="rows")
        block = k.axis("block")
        for part, rows, first in parts:
            per_instance = rows // plan.instances
            for offset in k.range(0, per_instance, plan.tile_rows, name="tile_row"):
                row = block * per_instance + offset
                source, destination = part[row, 0], whole[row + first, 0]
                if not concat:
                    source, destination = destination, source
                k.copy(source, tile)
                k.copy(tile, destination)
    return k.module


def input_shapes(kernel: str, sizes: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """The input tensors of `kernel` by name: a and b (s_concat) or x (s_split)."""
    a_rows, b_rows, hd = (sizes[name] for name in SIZE_NAMES)
    if kernel == "s_concat":
        return {"a": (a_rows, hd), "b": (b_rows, hd)}
    return {"x": (a_rows + b_rows, hd)}


def golden(
    kernel: str,
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: every input as VRAM holds it (bf16 of its HBM value) stored to
    HBM; that is the exact concatenation (split) of the inputs as HBM holds them with mxfp8
    HBM (MX values are bf16 values), of their bf16 roundings with fp32 HBM.  ValueError naming
    the kernel for inputs whose shapes are not the sizes'."""
    shapes = input_shapes(kernel, sizes)
    for name, shape in shapes.items():
        if np.shape(inputs[name]) != shape:
            raise ValueError(
                f"{kernel}: input {name} is {np.shape(inputs[name])}, the sizes {dict(sizes)} "
                f"need {shape} (both parts [rows, hd] with the same hd)"
            )
    a_rows = sizes["a_rows"]
    n = Numerics("rounded", target, hbm_format)
    held = {name: n.store(VRAM, n.hbm_input(inputs[name])) for name in shapes}
    if kernel == "s_concat":
        return {"y": n.store("hbm", np.concatenate([held["a"], held["b"]]))}
    return {"a": n.store("hbm", held["x"][:a_rows]), "b": n.store("hbm", held["x"][a_rows:])}


def make_inputs(kernel: str, sizes: Mapping[str, int], rng: np.random.Generator):
    """Seeded standard normal inputs: a and b for s_concat, x for s_split."""
    shapes = input_shapes(kernel, sizes)
    return {n: rng.normal(0.0, 1.0, shape).astype(np.float32) for n, shape in shapes.items()}


def _spec(kernel: str, summary: str) -> KernelSpec:
    return KernelSpec(
        name=kernel,
        summary=summary,
        sizes=default_sizes,
        build_module=lambda **sizes: build(kernel, **sizes),
        make_inputs=lambda sizes, rng, target: make_inputs(kernel, sizes, rng),
        golden=lambda inputs, sizes, target, fmt: golden(kernel, inputs, sizes, target, fmt),
        test_sizes=test_sizes,
    )


SPECS = (
    _spec("s_concat", "y = [a ; b] along the sequence axis ((a_rows + b_rows) x hd)"),
    _spec("s_split", "a, b = x[:a_rows], x[a_rows:] along the sequence axis"),
)
