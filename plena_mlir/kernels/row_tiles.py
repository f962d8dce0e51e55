"""How the row-wise kernels (element-wise, norms, softmax, concatenations) tile rows on a target.

A tile's rows are whole row blocks of `row_block(target)` rows: MLEN rows, the machine's tile
height, and a whole number of the DMA's row groups (H_PREFETCH_V and H_STORE_V move
`hbm_v_prefetch_rows` / `hbm_v_writeback_rows` rows per instruction: 16 on plena-tvm, 256 at
MLEN 1024), so every load and store of a tile moves whole groups, one DMA per group and
column block.  A tile's columns are whole VRAM rows of VLEN elements (a DMA moves whole rows,
a store writes them).  An element-wise tile has as many row blocks as fit
`max_tile_elements` (eight MLEN x MLEN tiles): bigger tiles load their per-column vectors
fewer times and run fewer, longer loops.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from plena_mlir.target import Target


def row_block(target: Target) -> int:
    """The rows of the smallest tile: MLEN, rounded up to whole DMA row groups."""
    return math.lcm(target.mlen, target.hbm_v_prefetch_rows, target.hbm_v_writeback_rows)


def max_tile_elements(target: Target) -> int:
    """The most elements of one element-wise tile: eight MLEN x MLEN tiles."""
    return 8 * target.tile_elements


def tile_rows(rows: int, cols: int, target: Target) -> int:
    """The rows of one tile of rows x cols: the largest multiple of the row block dividing
    `rows` whose tile has at most `max_tile_elements` elements (one row block at least)."""
    block = row_block(target)
    fitting = [b for b in range(block, rows + 1, block) if rows % b == 0]
    return max([b for b in fitting if b * cols <= max_tile_elements(target)] or [block])


def check_rows(kernel: str, name: str, rows: int, target: Target) -> None:
    """ValueError naming `kernel` and the size `name` unless `rows` is a positive multiple of
    the row block."""
    block = row_block(target)
    if rows <= 0 or rows % block:
        raise ValueError(
            f"{kernel}: {name} ({rows}) must be a positive multiple of {block} on "
            f"{target.name} (MLEN rows, whole DMA row groups of "
            f"{target.hbm_v_prefetch_rows} / {target.hbm_v_writeback_rows} rows)"
        )


def check_columns(kernel: str, name: str, cols: int, target: Target) -> None:
    """ValueError naming `kernel` and the size `name` (which may be a product, "heads *
    head_dim") unless `cols` is a positive multiple of VLEN."""
    if cols <= 0 or cols % target.vlen:
        raise ValueError(
            f"{kernel}: {name} ({cols}) must be a positive multiple of {target.vlen} on "
            f"{target.name} (VLEN: a DMA moves whole VRAM rows and a store writes whole rows)"
        )


def given_sizes(
    kernel: str, sizes: Mapping[str, int | None], defaults: Mapping[str, int]
) -> dict[str, int]:
    """The sizes of a kernel's `build`: `defaults` (its default sizes on the target) with each
    size given (None: not given); ValueError naming `kernel` for a size it does not have."""
    if unknown := sorted(set(sizes) - set(defaults)):
        raise ValueError(f"{kernel} has no size {', '.join(unknown)}")
    return {**defaults, **{name: v for name, v in sizes.items() if v is not None}}
