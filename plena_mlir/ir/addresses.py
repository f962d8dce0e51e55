"""On-chip and HBM address math: the one library every pass and lowering uses.

Everything here is a pure function of the target and a buffer or tensor type.  Addresses are
in each memory's own units: VRAM and MRAM addresses count elements (VRAM row r starts at
r * VLEN, MRAM tile t at t * MLEN^2), FPRAM addresses count entries, HBM addresses count bytes
of the MX-packed image (one byte per MXFP8 element, so element offsets are byte offsets).

VRAM: a rows x cols buffer is stored column-block major (plena-isa.md section 10), the layout
the matrix unit (M_MM reads, M_MM_WO writes) and the vector engine use:

    R = rows rounded up to a multiple of BLEN
    element (i, j) at  base + (j div VLEN) * R * VLEN + i * VLEN + (j mod VLEN)

so the buffer is ceil(cols / VLEN) column blocks of R rows of VLEN elements, R * column blocks
VRAM rows in all, and every buffer starts on a row (VLEN-aligned).

MRAM: whole MLEN x MLEN tiles (H_PREFETCH_M writes one tile to an M^2-aligned address).  A
rows x cols buffer (both multiples of MLEN) is (rows/MLEN) x (cols/MLEN) tiles, stored column
tile major like VRAM, each tile row-major (tile row = buffer row):

    element (i, j) at  base + ((j div M) * (rows / M) + i div M) * M^2 + (i mod M) * M + (j mod M)

FPRAM: a rank-1 buffer of n elements is n consecutive entries.

HBM: a tensor is flattened row-major and MX-packed as the image writer lays it out
(`plena_mlir.sim.image`): element bytes in rows of HBM_WIDTH/8 bytes, then the scale bytes (one
per block of 8 elements) in such rows, then zero padding to 64 bytes.  A DMA of a 2-D view of
it sets SCALE to where the scale region starts (the element bytes rounded up to a row) and
STRIDE to the byte distance between the rows of the view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from plena_mlir.dialects.tile import BufferType, MemorySpace, TensorType
from plena_mlir.numerics.hbm_format import image_footprint
from plena_mlir.target import Target

#: HBM addresses of tensors are multiples of this (the image writer's padding, and the DMA's
#: element alignment).
HBM_ALIGNMENT = 64


class LayoutError(ValueError):
    """A buffer or tensor that has no layout on the target (e.g. MRAM that is not whole tiles)."""


def round_up(n: int, multiple: int) -> int:
    """`n` rounded up to a multiple of `multiple`."""
    return -(-n // multiple) * multiple


def _check_index(shape: tuple[int, ...], index: tuple[int, ...]) -> None:
    if len(index) != len(shape) or not all(0 <= i < d for i, d in zip(index, shape, strict=True)):
        raise IndexError(f"index {list(index)} is out of bounds for shape {list(shape)}")


# ---------------------------------------------------------------------------------------------
# On-chip buffers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VramLayout:
    """The column-block-major layout of a rows x cols VRAM buffer (module docstring)."""

    rows: int
    cols: int
    vlen: int
    blen: int

    @property
    def padded_rows(self) -> int:
        """R: the rows of one column block, rounded up to a multiple of BLEN."""
        return round_up(self.rows, self.blen)

    @property
    def column_blocks(self) -> int:
        return -(-self.cols // self.vlen)

    @property
    def units(self) -> int:
        """Size in VRAM rows (of VLEN elements)."""
        return self.column_blocks * self.padded_rows

    @property
    def elements(self) -> int:
        return self.units * self.vlen

    def offset(self, i: int, j: int) -> int:
        """Element offset of (i, j) from the buffer's base."""
        _check_index((self.rows, self.cols), (i, j))
        v = self.vlen
        return (j // v) * self.padded_rows * v + i * v + j % v

    def column_block_offset(self, block: int) -> int:
        """Element offset of column block `block` (columns block*VLEN ...) from the base."""
        if not 0 <= block < self.column_blocks:
            raise IndexError(f"column block {block} of a {self.column_blocks}-block buffer")
        return block * self.padded_rows * self.vlen


@dataclass(frozen=True)
class MramLayout:
    """Whole MLEN x MLEN tiles, column tile major, each tile row-major (module docstring)."""

    rows: int
    cols: int
    mlen: int

    @property
    def row_tiles(self) -> int:
        return self.rows // self.mlen

    @property
    def col_tiles(self) -> int:
        return self.cols // self.mlen

    @property
    def units(self) -> int:
        """Size in MRAM tiles."""
        return self.row_tiles * self.col_tiles

    @property
    def tile_elements(self) -> int:
        """MLEN^2."""
        return self.mlen * self.mlen

    @property
    def elements(self) -> int:
        return self.units * self.tile_elements

    def tile_offset(self, tile_row: int, tile_col: int) -> int:
        """Element offset of the tile holding rows tile_row*M.. and columns tile_col*M.."""
        _check_index((self.row_tiles, self.col_tiles), (tile_row, tile_col))
        return (tile_col * self.row_tiles + tile_row) * self.tile_elements

    def offset(self, i: int, j: int) -> int:
        """Element offset of (i, j) from the buffer's base."""
        _check_index((self.rows, self.cols), (i, j))
        m = self.mlen
        return self.tile_offset(i // m, j // m) + (i % m) * m + j % m


@dataclass(frozen=True)
class FpramLayout:
    """A rank-1 FPRAM buffer: one entry per element."""

    entries: int

    @property
    def units(self) -> int:
        """Size in FPRAM entries."""
        return self.entries

    @property
    def elements(self) -> int:
        return self.entries

    def offset(self, i: int) -> int:
        _check_index((self.entries,), (i,))
        return i


BufferLayout = VramLayout | MramLayout | FpramLayout

#: What one allocation unit of each memory is called in sizes and diagnostics.
UNIT_NAMES = {
    MemorySpace.VRAM: "VRAM rows",
    MemorySpace.MRAM: "MRAM tiles",
    MemorySpace.FPRAM: "FPRAM entries",
}


def buffer_layout(typ: BufferType, target: Target) -> BufferLayout:
    """The layout of a buffer of type `typ` (its space must be resolved).  LayoutError for an
    MRAM buffer that is not whole MLEN x MLEN tiles."""
    space = typ.space
    shape = typ.get_shape()
    if space is MemorySpace.VRAM:
        rows, cols = shape
        return VramLayout(rows, cols, target.vlen, target.blen)
    if space is MemorySpace.MRAM:
        rows, cols = shape
        m = target.mlen
        if rows % m or cols % m:
            raise LayoutError(
                f"an mram buffer must be whole {m}x{m} tiles (H_PREFETCH_M loads one tile), "
                f"got {rows}x{cols}"
            )
        return MramLayout(rows, cols, m)
    if space is MemorySpace.FPRAM:
        return FpramLayout(shape[0])
    raise LayoutError(f"a buffer in memory space '{space}' has no layout: run plena-infer-memory")


def capacity(space: MemorySpace, target: Target) -> int:
    """Size of the memory `space` in its allocation units (VRAM rows, MRAM tiles, entries)."""
    return {
        MemorySpace.VRAM: target.vram_rows,
        MemorySpace.MRAM: target.mram_tiles,
        MemorySpace.FPRAM: target.fpram_entries,
    }[space]


def unit_elements(space: MemorySpace, target: Target) -> int:
    """Elements per allocation unit of `space`: its address alignment."""
    return {
        MemorySpace.VRAM: target.vlen,
        MemorySpace.MRAM: target.mlen * target.mlen,
        MemorySpace.FPRAM: 1,
    }[space]


# ---------------------------------------------------------------------------------------------
# HBM tensors
# ---------------------------------------------------------------------------------------------


def hbm_footprint(typ: TensorType, target: Target) -> int:
    """Bytes the MX-packed tensor takes in HBM (a multiple of 64): `image_footprint`."""
    return image_footprint(typ.num_elements, target)


def hbm_addresses(
    types: Sequence[TensorType], target: Target, names: Sequence[str] | None = None
) -> list[int]:
    """The byte address of each tensor placed back to back from byte 0, in order: the same
    addresses `build_hbm_image` gives the tensors.  LayoutError naming the first tensor
    (by `names`, else by position) that ends past the end of HBM."""
    addresses = []
    address = 0
    for i, typ in enumerate(types):
        addresses.append(address)
        footprint = hbm_footprint(typ, target)
        if address + footprint > target.hbm_bytes:
            name = names[i] if names is not None else f"#{i + 1}"
            shape = "x".join(map(str, typ.get_shape()))
            raise LayoutError(
                f"tensor {name} ({shape}x{typ.element_type}) does not fit in HBM: placed at "
                f"byte {address} and taking {footprint} bytes MX-packed, the tensors up to it "
                f"need {address + footprint} bytes of HBM, the target has only "
                f"{target.hbm_bytes}"
            )
        address += footprint
    return addresses


def hbm_scale_offset(n_elements: int, target: Target) -> int:
    """SCALE for a tensor of `n_elements`: the byte offset of its scale region from its base,
    the element bytes rounded up to whole HBM_WIDTH/8-byte rows as the image writer pads them
    (equal to n_elements, what the published compiler sets, only when that is a whole row)."""
    return round_up(n_elements, target.hbm_width_bits // 8)


def hbm_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Row-major byte (= element) strides of a tensor of `shape` in HBM."""
    return tuple(math.prod(shape[d + 1 :]) for d in range(len(shape)))


def hbm_offset(shape: Sequence[int], index: Sequence[int]) -> int:
    """Byte (= element) offset of element `index` from the tensor's base."""
    _check_index(tuple(shape), tuple(index))
    return sum(i * s for i, s in zip(index, hbm_strides(shape), strict=True))


@dataclass(frozen=True)
class HbmView:
    """The DMA state for a 2-D view of an HBM tensor: C_SET_SCALE_REG and C_SET_STRIDE_REG."""

    scale: int
    stride: int


def hbm_view(typ: TensorType, target: Target, row_dim: int | None = None) -> HbmView:
    """SCALE and STRIDE for a DMA whose rows step along dimension `row_dim` of the tensor
    (default: the second-to-last; a rank-1 tensor is one row, its STRIDE its length).  A BSHD
    tensor walked along S has STRIDE = H*D: the heads of one position are one HBM row."""
    shape = typ.get_shape()
    scale = hbm_scale_offset(typ.num_elements, target)
    if len(shape) == 1:
        return HbmView(scale, shape[0])
    if row_dim is None:
        row_dim = len(shape) - 2
    if not 0 <= row_dim < len(shape) - 1:
        raise LayoutError(
            f"row_dim {row_dim} is not a row dimension of a rank-{len(shape)} "
            "tensor (the last dimension holds the columns)"
        )
    return HbmView(scale, hbm_strides(shape)[row_dim])
