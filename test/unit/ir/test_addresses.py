"""plena_mlir.ir.addresses: on-chip layouts and HBM footprints, against hand-computed addresses."""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects.tile import BufferType, MemorySpace, TensorType
from xdsl.dialects.builtin import bf16, f32

from plena_mlir.ir.addresses import (
    LayoutError,
    MramLayout,
    VramLayout,
    buffer_layout,
    capacity,
    hbm_addresses,
    hbm_footprint,
    hbm_offset,
    hbm_scale_offset,
    hbm_strides,
    hbm_view,
    unit_elements,
)
from plena_mlir.sim.image import build_hbm_image, read_hbm_tensor
from plena_mlir.target import PLENA_TVM

T = PLENA_TVM  # MLEN = VLEN = 64, BLEN = 2


def vram(rows: int, cols: int) -> VramLayout:
    layout = buffer_layout(BufferType((rows, cols), bf16, MemorySpace.VRAM), T)
    assert isinstance(layout, VramLayout)
    return layout


def mram(rows: int, cols: int) -> MramLayout:
    layout = buffer_layout(BufferType((rows, cols), bf16, MemorySpace.MRAM), T)
    assert isinstance(layout, MramLayout)
    return layout


# VRAM -----------------------------------------------------------------------------------------


def test_vram_one_tile():
    t = vram(64, 64)
    assert (t.padded_rows, t.column_blocks, t.units, t.elements) == (64, 1, 64, 4096)
    assert t.offset(0, 0) == 0
    assert t.offset(1, 0) == 64  # next row: one VLEN further
    assert t.offset(63, 63) == 63 * 64 + 63


def test_vram_column_blocks_are_outermost():
    t = vram(64, 128)
    assert (t.column_blocks, t.units, t.elements) == (2, 128, 8192)
    # (3, 70): column block 1 (starts at 64 rows * 64), row 3, column 6 of the block
    assert t.offset(3, 70) == 4096 + 3 * 64 + 6 == 4294
    assert t.column_block_offset(1) == 4096


def test_vram_rows_padded_to_blen():
    t = vram(3, 100)
    assert (t.padded_rows, t.column_blocks, t.units, t.elements) == (4, 2, 8, 512)
    # (2, 99): block 1 starts after 4 padded rows; row 2; column 35 of the block
    assert t.offset(2, 99) == 4 * 64 + 2 * 64 + 35 == 419
    assert vram(1, 64).units == 2  # a bias row takes BLEN rows


def test_vram_offsets_are_distinct_and_inside_the_buffer():
    for rows, cols in [(64, 64), (3, 100), (1, 64), (66, 130), (64, 16)]:
        t = vram(rows, cols)
        offsets = {t.offset(i, j) for i in range(rows) for j in range(cols)}
        assert len(offsets) == rows * cols
        assert min(offsets) >= 0 and max(offsets) < t.elements


def test_vram_offset_out_of_bounds():
    with pytest.raises(IndexError, match=r"index \[64, 0\] is out of bounds for shape \[64, 64\]"):
        vram(64, 64).offset(64, 0)


# MRAM -----------------------------------------------------------------------------------------


def test_mram_whole_tiles_column_tile_major():
    b = mram(128, 192)
    assert (b.row_tiles, b.col_tiles, b.units, b.elements) == (2, 3, 6, 6 * 4096)
    assert b.tile_offset(0, 0) == 0
    assert b.tile_offset(1, 0) == 4096  # the tile below comes next
    assert b.tile_offset(0, 1) == 2 * 4096
    # (70, 130): tile (1, 2) = tile 2*2+1 = 5; row 6, column 2 inside it
    assert b.offset(70, 130) == 5 * 4096 + 6 * 64 + 2 == 20866


def test_mram_buffer_must_be_whole_tiles():
    with pytest.raises(LayoutError, match="must be whole 64x64 tiles .* got 64x32"):
        mram(64, 32)


# FPRAM and the memories -------------------------------------------------------------------


def test_fpram_one_entry_per_element():
    m = buffer_layout(BufferType((64,), f32, MemorySpace.FPRAM), T)
    assert (m.units, m.elements, m.offset(5)) == (64, 64, 5)
    with pytest.raises(IndexError):
        m.offset(64)


def test_inferred_space_has_no_layout():
    with pytest.raises(LayoutError, match="run plena-infer-memory"):
        buffer_layout(BufferType((64, 64), bf16, MemorySpace.INFERRED), T)


def test_capacities_and_units():
    assert capacity(MemorySpace.VRAM, T) == 131072
    assert capacity(MemorySpace.MRAM, T) == 512
    assert capacity(MemorySpace.FPRAM, T) == 65536
    assert unit_elements(MemorySpace.VRAM, T) == 64
    assert unit_elements(MemorySpace.MRAM, T) == 4096
    assert unit_elements(MemorySpace.FPRAM, T) == 1


# HBM ------------------------------------------------------------------------------------------


def tensor(*shape: int) -> TensorType:
    return TensorType(shape, f32)


def test_hbm_footprints():
    assert hbm_footprint(tensor(128, 64), T) == 8192 + 1024
    assert hbm_footprint(tensor(1, 128, 8, 16), T) == 16384 + 2048
    # 64 elements: one 128-byte element row, one 128-byte scale row (8 bytes used)
    assert hbm_footprint(tensor(64), T) == 256
    assert hbm_footprint(tensor(3, 5), T) == 256


def test_hbm_addresses_are_the_image_writers():
    types = [tensor(128, 64), tensor(64), tensor(3, 5), tensor(64, 128)]
    assert hbm_addresses(types, T) == [0, 9216, 9472, 9728]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(t.get_shape()).astype(np.float32) for t in types]
    _, addresses = build_hbm_image(arrays, T)
    assert addresses == hbm_addresses(types, T)


def test_hbm_overflow():
    small = T.with_overrides(hbm_bytes=8192)
    with pytest.raises(LayoutError, match="need 9216 bytes of HBM, the target has only 8192"):
        hbm_addresses([tensor(128, 64)], small)


def test_hbm_scale_offset_is_where_the_image_puts_the_scales():
    assert hbm_scale_offset(8192, T) == 8192
    assert hbm_scale_offset(15, T) == 128
    values = np.arange(1, 16, dtype=np.float32).reshape(3, 5)
    image, (address,) = build_hbm_image([values], T)
    data = np.frombuffer(image, dtype=np.uint8)
    scale = address + hbm_scale_offset(15, T)
    assert not data[15:scale].any()  # padding between the elements and the scales
    assert data[scale : scale + 2].all()  # two blocks of 8, both non-zero
    np.testing.assert_array_equal(read_hbm_tensor(image, address, (3, 5), T), values)


def test_hbm_strides_offsets_and_views():
    bshd = tensor(1, 128, 8, 16)
    assert hbm_strides(bshd.get_shape()) == (16384, 128, 16, 1)
    assert hbm_offset(bshd.get_shape(), (0, 3, 2, 5)) == 3 * 128 + 2 * 16 + 5 == 421
    # walking S: one HBM row is all heads of one position
    assert (hbm_view(bshd, T, row_dim=1).scale, hbm_view(bshd, T, row_dim=1).stride) == (
        16384,
        128,
    )
    assert hbm_view(tensor(128, 64), T).stride == 64
    assert hbm_view(tensor(64), T).stride == 64
    assert hbm_view(tensor(64), T).scale == 128
    with pytest.raises(LayoutError, match="row_dim 3 is not a row dimension"):
        hbm_view(bshd, T, row_dim=3)
