"""The roofline lower bound of `plena_mlir.analysis.roofline`, against numbers worked out by hand
for
plena-tvm: MLEN = VLEN = 64 (4096 MACs, 64 vector elements, one FPRAM entry and 128 HBM
bytes per cycle at peak)."""

import pytest
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr
from xdsl.dialects.builtin import IntegerAttr

from plena_mlir.analysis.roofline import RooflineError, hbm_bytes_per_element, roofline
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.target import MXFP8, MxFormat


def softmax_like(rows: int, cols: int):
    """Per 64-row block: load, row max, subtract, exp, row sum, reciprocal, scale, store."""
    with KernelBuilder("softmax", grid={"block": rows // 64}) as k:
        x, y = k.tensor("x", (rows, cols)), k.tensor("y", (rows, cols))
        row0 = k.axis("block") * 64
        s = k.alloc((64, cols), "vram")
        row_max, row_sum = k.alloc((64,), "fpram"), k.alloc((64,), "fpram")
        k.copy(x[row0, 0], s)
        k.reduce_max(row_max, s)
        s -= row_max
        k.exp(s, s)
        k.reduce_sum(row_sum, s)
        k.fp_reci(row_sum, row_sum)
        s *= row_sum
        k.copy(s, y[row0, 0])
    return k.module


def test_vector_scalar_and_hbm_work_of_a_softmax():
    bound = roofline(softmax_like(128, 192))
    # per block, five VRAM ops (max, subtract, exp, sum, scale) on 64 x 192 = 12288 elements
    # = 192 rows of VLEN, one row per cycle
    assert bound.work.vector_elements == 2 * 5 * 12288
    assert bound.unit_cycles["vector"] == 2 * 5 * 192
    # fp_reci: 64 entries per block, one per cycle
    assert bound.work.fpram_entries == 128
    assert bound.unit_cycles["scalar"] == 128
    # x in and y out: 2 * 128 * 192 elements of 1 + 1/8 bytes, at 128 B/cycle
    assert bound.work.hbm_bytes == 2 * 128 * 192 * 1.125
    assert bound.unit_cycles["hbm"] == 432
    assert bound.work.macs == 0
    assert (bound.cycles, bound.limit) == (1920, "vector")


def test_fills_fpram_element_ops_and_on_chip_copies():
    with KernelBuilder("misc", grid={"i": 1}) as k:
        t, row = k.alloc((64, 64), "vram"), k.alloc((1, 64), "vram")
        m = k.alloc((64,), "fpram")
        k.fill(t, 0.0)  # 64 VRAM rows
        k.fill(m, 1.0)  # 64 FPRAM entries
        k.fp_add(m[3], m[3], 2.0)  # one entry
        k.copy(row, m)  # a VRAM row into 64 FPRAM entries
        k.copy(t[0, 0], row, src_sizes=(1, 64))  # one VRAM row
    bound = roofline(k.module)
    assert bound.work.vector_elements == 64 * 64 + 64
    assert bound.unit_cycles["vector"] == 64 + 1
    assert bound.work.fpram_entries == 64 + 1 + 64
    assert bound.unit_cycles["scalar"] == 129
    assert bound.work.hbm_bytes == 0


def test_fp32_hbm_costs_four_bytes_per_element():
    bound = roofline(softmax_like(128, 192), hbm_format="fp32")
    assert bound.work.hbm_bytes == 2 * 128 * 192 * 4
    assert bound.unit_cycles["hbm"] == 1536


def test_mx_packed_element_sizes():
    assert hbm_bytes_per_element(MXFP8, "mxfp8") == 1.125
    # MXFP4: 4-bit E2M1 elements, one 8-bit scale per 32 elements
    assert hbm_bytes_per_element(MxFormat(elem_exp=2, elem_man=1, block=32), "mxfp8") == (
        4 + 8 / 32
    ) / 8
    assert hbm_bytes_per_element(MxFormat(elem_exp=5, elem_man=10, block=0), "mxfp8") == 2
    assert hbm_bytes_per_element(MXFP8, "fp32") == 4


def gemm_kernel():
    """C (128 x 64) = A (128 x 128) . B (128 x 64), one 64-row block per instance."""
    with KernelBuilder("mm", grid={"block": 2}) as k:
        a, b = k.tensor("a", (128, 128)), k.tensor("b", (128, 64))
        c = k.tensor("c", (128, 64))
        row0 = k.axis("block") * 64
        a_panel, b_panel = k.alloc((64, 128), "vram"), k.alloc((128, 64), "mram")
        acc = k.alloc((64, 64), "vram")
        for kk in k.range(0, 128, 64):
            k.copy(a[row0, kk], a_panel[0, kk], src_sizes=(64, 64))
            k.copy(b[kk, 0], b_panel[kk, 0], src_sizes=(64, 64))
        k.gemm(acc, a_panel, b_panel, "mk,kn->mn")
        k.copy(acc, c[row0, 0])
    return k.module


def test_every_gemm_runs_at_mlen_squared_macs_per_cycle():
    bound = roofline(gemm_kernel())
    assert bound.work.macs == 2 * 64 * 64 * 128
    # M_BTMM with a lane sum: 64^3 MACs in 64 cycles, 4096 per cycle
    assert bound.unit_cycles["matrix"] == 2 * 64 * 64 * 128 / 4096 == 256
    # per block: A 64x128, B 128x64 (each 2 tiles in the loop), C 64x64 -> 20480 elements
    assert bound.work.hbm_bytes == 2 * 20480 * 1.125
    assert bound.unit_cycles["hbm"] == 360
    assert (bound.cycles, bound.limit) == (360, "hbm")


def test_the_bound_is_the_busiest_unit_not_the_sum():
    bound = roofline(gemm_kernel())
    assert bound.cycles == max(bound.unit_cycles.values()) < sum(bound.unit_cycles.values())


def test_trip_counts_that_depend_on_the_grid_and_on_outer_loops():
    with KernelBuilder("tri", grid={"q": 3}) as k:
        t = k.alloc((64, 64), "vram")
        for _ in k.range(0, (k.axis("q") + 1) * 64, 64):  # 1 + 2 + 3 = 6 trips in all
            k.exp(t, t)
        for i in k.range(0, 4):  # 3 instances * (0 + 1 + 2 + 3) trips
            for _ in k.range(0, i):
                k.exp(t, t)
    bound = roofline(k.module)
    assert bound.work.vector_elements == (6 + 3 * 6) * 64 * 64
    assert bound.unit_cycles["vector"] == (6 + 3 * 6) * 64


def test_the_target_comes_from_the_module():
    module = gemm_kernel()
    fast_hbm = {"dma_bytes_per_cycle": IntegerAttr(256, 64)}
    module.attributes[TARGET_ATTR_NAME] = TargetAttr("plena-tvm", fast_hbm)
    bound = roofline(module)
    assert bound.target.dma_bytes_per_cycle == 256
    assert bound.unit_cycles["hbm"] == 180
    assert (bound.cycles, bound.limit) == (256, "matrix")


def test_a_module_without_one_kernel_is_an_error():
    with KernelBuilder("a", grid={"i": 1}) as k:
        pass
    module = k.module
    module.body.block.erase_op(module.body.block.first_op)
    with pytest.raises(RooflineError, match="expected one tile.kernel, got 0"):
        roofline(module)
