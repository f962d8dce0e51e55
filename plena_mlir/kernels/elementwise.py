"""What the element-wise kernels (gelu, silu, modulate, residual_gate, copy_offset) share.

Each works on a rows x (heads * head_dim) tensor, the heads side by side in the columns (the
element-wise maths does not care where one head ends), one tile of `row_tiles.tile_rows` rows
per program instance (whole row blocks of MLEN rows, as many as fit eight MLEN x MLEN tiles:
`plena_mlir.kernels.row_tiles`); per-column vectors (a modulation's scale and shift, a gate)
are loaded once per instance as one VRAM row and broadcast to every row of the tile.

The result may go into a head slice of a wider output (`Heads`): y has o_heads * head_dim
columns and the kernel writes heads o_head_offset .. o_head_offset + heads - 1 of every row,
leaving the other columns as they were.  A store (H_STORE_V) writes whole VLEN-wide VRAM
rows at an HBM element address that must be 64-byte aligned (plena-isa-tvm.md A4.2: one byte
per element with MXFP8), so the first column written must be a multiple of VLEN: any other
offset is a build-time ValueError (on plena-tvm, with head_dim 16, o_head_offset a multiple
of 4).

Default sizes on a target (`default_sizes`): two row blocks of rows, two VLEN-wide column
blocks of heads of HLEN (2L heads, L = MLEN / HLEN lanes), written to an output of as many
heads at head 0; on plena-tvm the published compiler's 128 rows x 8 heads x 16.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import Buffer, KernelBuilder
from plena_mlir.kernels import row_tiles
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM = MemorySpace.VRAM

#: The size parameters, in the order `Heads` takes them.
SIZE_NAMES = ("rows", "heads", "head_dim", "o_heads", "o_head_offset")


def default_sizes(target: Target) -> dict[str, int]:
    """Two row blocks x 2L heads of HLEN (two VLEN-wide column blocks), into an output of as
    many heads at head 0."""
    heads = 2 * target.lanes
    return {
        "rows": 2 * row_tiles.row_block(target),
        "heads": heads,
        "head_dim": target.hlen,
        "o_heads": heads,
        "o_head_offset": 0,
    }


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """The sizes the e2e tests run besides the defaults: L heads of VLEN (one row block), a
    third row block and 4L heads, and heads 2L .. 4L-1 of a 4L-head output."""
    block, lanes = row_tiles.row_block(target), target.lanes
    return (
        {"rows": block, "heads": lanes, "head_dim": target.vlen, "o_heads": lanes},
        {"rows": 3 * block, "heads": 4 * lanes, "o_heads": 4 * lanes},
        {"o_heads": 4 * lanes, "o_head_offset": 2 * lanes},
    )


@dataclass(frozen=True)
class Heads:
    """rows x heads x head_dim, written into heads o_head_offset .. of an o_heads-head output.
    ValueError (naming the kernel and the size) for sizes the target cannot run: rows not a
    positive multiple of the row block, heads * head_dim not whole VLEN rows, heads outside
    the output, a first output column that is not a multiple of VLEN."""

    kernel: str
    rows: int
    heads: int
    head_dim: int
    o_heads: int
    o_head_offset: int
    target: Target = DEFAULT_TARGET

    def __post_init__(self) -> None:
        row_tiles.check_rows(self.kernel, "rows", self.rows, self.target)
        what = f"heads * head_dim = {self.heads} * {self.head_dim}"
        row_tiles.check_columns(self.kernel, what, self.cols, self.target)
        if self.o_head_offset < 0 or self.o_head_offset + self.heads > self.o_heads:
            last = self.o_head_offset + self.heads - 1
            raise ValueError(
                f"{self.kernel}: heads {self.o_head_offset} .. {last} do not fit an output of "
                f"o_heads = {self.o_heads} heads"
            )
        vlen = self.target.vlen
        if self.col0 % vlen:
            step = vlen // math.gcd(vlen, self.head_dim)
            raise ValueError(
                f"{self.kernel}: o_head_offset {self.o_head_offset} puts the first output "
                f"column at {self.col0}; a store writes whole rows of VLEN = {vlen} elements "
                f"at a 64-byte aligned HBM address, so the column must be a multiple of {vlen} "
                f"(o_head_offset a multiple of {step})"
            )

    @classmethod
    def of(cls, kernel: str, sizes: Mapping[str, int], target: Target) -> Heads:
        return cls(kernel, *(sizes[n] for n in SIZE_NAMES), target)

    @classmethod
    def given(
        cls,
        kernel: str,
        sizes: Mapping[str, int],
        target: Target,
        defaults: Mapping[str, int] | None = None,
    ) -> Heads:
        """The shape of a kernel's `build(**sizes)`: each size given, or its default on
        `target` (`defaults`, else `default_sizes`)."""
        every = row_tiles.given_sizes(kernel, sizes, defaults or default_sizes(target))
        return cls.of(kernel, every, target)

    @property
    def cols(self) -> int:
        return self.heads * self.head_dim

    @property
    def out_cols(self) -> int:
        return self.o_heads * self.head_dim

    @property
    def col0(self) -> int:
        """The first output column written."""
        return self.o_head_offset * self.head_dim


def build(
    shape: Heads,
    tiles: Sequence[str],
    vectors: Sequence[str],
    compute: Callable[[KernelBuilder, dict[str, Buffer]], Buffer],
) -> ModuleOp:
    """A kernel with the rows x cols tensor arguments `tiles`, the cols-long vector arguments
    `vectors` and an output `y` (rows x out_cols): each instance loads its tiles and the
    vectors (one row each), `compute(k, buffers by argument name)` returns the buffer holding
    the result, which is stored to y at column col0."""
    rows, cols, target = shape.rows, shape.cols, shape.target
    block = row_tiles.tile_rows(rows, cols, target)
    with KernelBuilder(shape.kernel, grid={"block": rows // block}, target=target) as k:
        tensors = {n: k.tensor(n, (rows, cols)) for n in tiles}
        vector_tensors = {n: k.tensor(n, (cols,)) for n in vectors}
        y = k.tensor("y", (rows, shape.out_cols))
        row0 = k.axis("block") * block
        buffers = {}
        for n, tensor in tensors.items():
            buffers[n] = k.alloc((block, cols), name=n)
            k.copy(tensor[row0, 0], buffers[n])
        for n, tensor in vector_tensors.items():
            buffers[n] = k.alloc((1, cols), name=n)
            k.copy(tensor[0], buffers[n])
        k.copy(compute(k, buffers), y[row0, shape.col0])
    return k.module


def make_inputs(
    tiles: Sequence[str], vectors: Sequence[str], scale: float = 1.0
) -> Callable[[Mapping[str, int], np.random.Generator, Target], dict[str, np.ndarray]]:
    """Seeded normal inputs: tiles with standard deviation `scale`, vectors around 0 (0.5);
    and when the output is wider than the result, its prior contents `y` (which the kernel
    must leave alone outside its heads)."""

    def inputs(
        sizes: Mapping[str, int], rng: np.random.Generator, target: Target
    ) -> dict[str, np.ndarray]:
        shape = Heads.of("make_inputs", sizes, target)
        result = {n: rng.normal(0.0, scale, (shape.rows, shape.cols)) for n in tiles}
        result |= {n: rng.normal(0.0, 0.5, shape.cols) for n in vectors}
        if shape.out_cols > shape.cols:
            result["y"] = rng.normal(0.0, 1.0, (shape.rows, shape.out_cols))
        return {n: v.astype(np.float32) for n, v in result.items()}

    return inputs


def loaded(
    inputs: Mapping[str, np.ndarray], target: Target, hbm_format: HbmFormat
) -> tuple[Numerics, dict[str, np.ndarray]]:
    """The rounded-mode Numerics and every input as its VRAM tile holds it (bf16 of the HBM
    value)."""
    n = Numerics("rounded", target, hbm_format)
    return n, {name: n.store(VRAM, n.hbm_input(x)) for name, x in inputs.items()}


def stored(
    n: Numerics, result: np.ndarray, inputs: Mapping[str, np.ndarray], sizes: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """{"y": the output after the kernel}: `result` (a VRAM tile's values) stored at column
    col0 of y; the other columns as HBM held them before (the input `y`, or zeros)."""
    shape = Heads.of("golden", sizes, n.target)
    prior = inputs.get("y", np.zeros((shape.rows, shape.out_cols), np.float32))
    y = n.hbm_input(prior)
    y[:, shape.col0 : shape.col0 + shape.cols] = n.store("hbm", result)
    return {"y": y}


def sigmoid_times(k: KernelBuilder, t: Buffer, x: Buffer) -> Buffer:
    """t = x / (1 + exp(t)) in place, the tail silu and gelu share (x * sigmoid(-t)):
    t = exp(t);  t = t + 1;  t = 1 / t;  t = t * x."""
    k.exp(t, t)
    t += 1.0
    k.reci(t, t)
    t *= x
    return t


def sigmoid_times_golden(n: Numerics, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """`sigmoid_times` at the machine's rounding points: exp, + fp 1, 1/t and * x each in f32
    and written to VRAM as bf16 (exp overflows to inf for t >> 0, as on the machine)."""
    with np.errstate(over="ignore"):
        t = n.store(VRAM, np.exp(t))
    t = n.store(VRAM, t + n.fp(1.0))
    t = n.store(VRAM, np.reciprocal(t))
    return n.store(VRAM, t * x)
