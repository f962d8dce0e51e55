"""plena_mlir/kernels/row_tiles.py: row blocks of whole DMA row groups on every preset, tile
heights within the element budget, one-line errors naming the kernel, the size and the
target; and the row-wise kernels' default sizes on every preset in those units."""

import pytest

from plena_mlir.kernels import all_kernels, row_tiles
from plena_mlir.target import PRESETS, get_target

ROW_WISE = ("gelu", "silu", "modulate", "residual_gate", "copy_offset", "softmax", "concat",
            "s_concat", "s_split", "layernorm", "rmsnorm")


@pytest.mark.parametrize(
    ("preset", "block"),
    [("plena-tvm", 64), ("plena-tvm-blen4", 64), ("plena-tvm-mlen256", 256),
     ("plena-tvm-mlen512", 512), ("plena-tvm-mlen1024", 1024)],
)
def test_the_row_block_is_mlen_rows_of_whole_dma_groups(preset, block):
    target = PRESETS[preset]
    assert row_tiles.row_block(target) == block
    assert block % target.hbm_v_prefetch_rows == 0
    assert block % target.hbm_v_writeback_rows == 0


def test_a_row_block_covers_dma_groups_longer_than_mlen():
    target = get_target("plena-tvm", hbm_v_prefetch_rows=128, hbm_v_writeback_rows=96)
    assert row_tiles.row_block(target) == 384


@pytest.mark.parametrize(
    ("rows", "cols", "tile"),
    [(128, 128, 128), (192, 256, 64), (192, 128, 192), (64, 4096, 64), (512, 64, 512)],
)
def test_a_tile_is_the_largest_row_block_multiple_dividing_rows_within_the_budget(
    rows, cols, tile
):
    assert row_tiles.tile_rows(rows, cols, PRESETS["plena-tvm"]) == tile


def test_sizes_a_target_cannot_tile_are_one_line_errors():
    target = PRESETS["plena-tvm-mlen1024"]
    with pytest.raises(ValueError, match=r"^k: rows \(512\) must be a positive multiple of 1024 "
                       r"on plena-tvm-mlen1024 \(MLEN rows, whole DMA row groups of 256 / 256"):
        row_tiles.check_rows("k", "rows", 512, target)
    with pytest.raises(ValueError, match=r"^k: hd \(1536\) must be a positive multiple of 1024"):
        row_tiles.check_columns("k", "hd", 1536, target)
    with pytest.raises(ValueError, match="^k has no size depth$"):
        row_tiles.given_sizes("k", {"depth": 3}, {"rows": 64})


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("name", ROW_WISE)
def test_default_sizes_are_whole_row_blocks_and_vlen_blocks(name, preset):
    target = PRESETS[preset]
    sizes = all_kernels()[name].default_sizes(target)
    block = row_tiles.row_block(target)
    rows = [v for k, v in sizes.items() if k.endswith("rows")]
    assert rows and all(r % block == 0 for r in rows)
    if "head_dim" in sizes:
        assert sizes["head_dim"] == target.hlen
        heads = sizes.get("heads", sizes.get("hidden", 0) // target.hlen)
        assert heads >= 2 * target.lanes  # two lane groups, two VLEN blocks
