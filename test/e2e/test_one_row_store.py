"""Loads and stores of a number of rows that is not a multiple of the DMA's 16 (one row, a
few rows, a group and one more) on the simulator, from a tile kernel.  A region of fewer than
16 rows is stored row by row, each row by its own H_STORE_V at STRIDE = 0
(`plena_mlir.lowering.tile.dma._store_single_rows`); a region of more moves its whole groups
and then its last 16 rows as one more group, overlapping the one before.

The rows written hold the kernel's result, and every other element of the output, and of a
tensor placed after it in HBM, is bit for bit what HBM held before: a short store writes
nothing outside its rows.  The VRAM rows are placed so that both ways of reading a row occur:
straight from the buffer (16 rows in or beyond) and staged in the last VRAM row (a row among
the first 15 of VRAM, which have not 15 rows before them)."""

import numpy as np
import pytest
from plena_mlir.dialects.tile import MemorySpace

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.numerics.rounding import Numerics, hbm_input
from plena_mlir.pipeline import compile_kernel

BLOCKS = 3  # program instances
LOADED = 32  # rows each loads into its buffer (two whole DMA groups)
GROUP = 16  # rows of one H_PREFETCH_V / H_STORE_V on the default target


def build(rows: int, first: int, cols: int, loaded: int = LOADED):
    """Instance b loads the `loaded` x rows from row loaded*b into t (at VRAM address 0, the
    only buffer), scales them by -2 and stores t rows first .. first+rows-1 to y rows
    b*(rows+1) + 1 ..: the row before each block's rows is left alone, and the last block
    ends at y's last row."""
    span = rows + 1
    with KernelBuilder("short_store", grid={"block": BLOCKS}) as k:
        x = k.tensor("x", (BLOCKS * loaded, cols))
        y = k.tensor("y", (BLOCKS * span, cols))
        k.tensor("after", (16, cols))  # the next tensor in HBM: never written
        block = k.axis("block")
        t = k.alloc((loaded, cols), "vram", name="t")
        k.copy(x[block * loaded, 0], t)
        t *= -2.0
        k.copy(t[first, 0], y[block * span + 1, 0], src_sizes=(rows, cols))
    return k.module


def dma_instructions(rows: int, cols: int) -> int:
    """The H_PREFETCH_V or H_STORE_V of a region of `rows` rows in the program: one per row
    and column block below a group; else one (a loop over the column blocks) for the whole
    groups and one for the overlapping last group."""
    if rows < GROUP:
        return rows * (cols // 64)
    return 1 + (rows % GROUP != 0)


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize(
    ("rows", "first", "cols", "staged", "loaded"),
    [
        (1, 0, 64, 1, LOADED),  # VRAM row 0: staged
        (1, 20, 64, 0, LOADED),  # VRAM row 20: straight from the buffer
        (1, 3, 128, 1, LOADED),  # two column blocks (VRAM rows 3 and 35): the first staged
        (1, 31, 128, 0, LOADED),  # two column blocks, VRAM rows 31 and 63
        (5, 12, 64, 3, LOADED),  # VRAM rows 12..14 staged, 15 and 16 not
        (17, 0, 64, 0, LOADED),  # one whole group, then rows 1..16 as one more
        (17, 15, 128, 0, LOADED),  # a group from row 15, then rows 16..31, two column blocks
        (20, 0, 128, 0, 20),  # 20 rows loaded and stored: a group, then rows 4..19
    ],
    ids=lambda v: str(v),
)
def test_a_short_store_writes_its_rows_and_nothing_else(
    rows, first, cols, staged, loaded, hbm_format
):
    rng = np.random.default_rng(rows * 100 + first)
    shapes = {"x": (BLOCKS * loaded, cols), "y": (BLOCKS * (rows + 1), cols), "after": (16, cols)}
    inputs = {
        name: rng.normal(0.0, 1.0, shape).astype(np.float32) for name, shape in shapes.items()
    }
    compiled = compile_kernel(build(rows, first, cols, loaded))
    mnemonics = [instruction.mnemonic for instruction in compiled.program]
    assert mnemonics.count("H_STORE_V") == dma_instructions(rows, cols)
    assert mnemonics.count("H_PREFETCH_V") == dma_instructions(loaded, cols)
    assert mnemonics.count("V_ADD_VF") == staged  # the copies into the last staging row
    outputs, _ = run_kernel(compiled, inputs, hbm_format)

    n = Numerics("rounded", compiled.target, hbm_format)
    x = n.store(MemorySpace.VRAM, n.hbm_input(inputs["x"])).reshape(BLOCKS, loaded, cols)
    result = n.store(MemorySpace.VRAM, -2.0 * x[:, first : first + rows])
    written = np.zeros(outputs["y"].shape[0], bool).reshape(BLOCKS, rows + 1)
    written[:, 1:] = True
    written = written.ravel()
    golden = n.store("hbm", result.reshape(-1, cols))
    comparison = compare(outputs["y"][written], golden, hbm_format)
    assert comparison.passed, comparison.describe()

    before = {name: hbm_input(value, hbm_format) for name, value in inputs.items()}
    assert np.array_equal(outputs["y"][~written], before["y"][~written])
    assert np.array_equal(outputs["after"], before["after"])
    assert np.array_equal(outputs["x"], before["x"])
