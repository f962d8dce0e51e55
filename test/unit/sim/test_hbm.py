"""The HBM model: DMA address rules, faults, counters, cycles, tensors, images, fp32 mode."""

from __future__ import annotations

import numpy as np
import pytest

from plena_mlir.numerics.formats import mx_decode, mx_encode, mx_quantize
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.hbm import Hbm
from plena_mlir.target import MXFP8, PLENA_TVM, MxFormat

F32 = np.float32
SMALL = PLENA_TVM.with_overrides(hbm_bytes=1 << 16)
U32 = 1 << 32


def random_bytes(hbm: Hbm, seed: int = 0) -> np.ndarray:
    """Fill the whole (small) HBM with random bytes whose E4M3 codes are all finite."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=hbm.size, dtype=np.uint8)
    data[(data & 0x78) == 0x78] &= 0xF7  # no E = 15 element codes
    data[data == 255] = 254  # no infinite scales
    hbm.load_image(data.tobytes())
    return data


def expected_rows(data, elem_addrs, scale_addrs, row_len=64):
    codes = np.stack([data[a : a + row_len] for a in elem_addrs])
    scales = np.stack([data[s : s + row_len // 8] for s in scale_addrs])
    return mx_decode(codes, scales)


# --------------------------------------------------------------------------------------------
# read_rows address formulas
# --------------------------------------------------------------------------------------------


def test_prefetch_rows_with_stride_and_scale_offset():
    hbm = Hbm(SMALL)
    data = random_bytes(hbm)
    base, offset, stride, scale_reg = 0x1000, 128, 256, 0x4000
    values, _ = hbm.read_rows(base, offset, stride, scale_reg, 16, 64, MXFP8)
    elem = [base + offset + r * stride for r in range(16)]
    scale = [base + scale_reg + offset // 8 + r * stride // 8 for r in range(16)]
    np.testing.assert_array_equal(values, expected_rows(data, elem, scale))


def test_scale_offset_uses_floor_of_the_offset_register_only():
    hbm = Hbm(SMALL)
    data = random_bytes(hbm, seed=1)
    # base 3 + offset 61 = 64 is aligned; the scale term is floor(61 / 8) = 7, base added whole
    values, _ = hbm.read_rows(3, 61, 64, 0x2000, 4, 64, MXFP8)
    elem = [64 + 64 * r for r in range(4)]
    scale = [3 + 0x2000 + 7 + 8 * r for r in range(4)]
    np.testing.assert_array_equal(values, expected_rows(data, elem, scale))


def test_a_row_step_does_not_wrap_its_sum_with_the_offset():
    """A4.2: row r's elements are at base + off + (r*S mod 2^32), a u64 sum, so a stride
    of 2^32 - 64 does not walk backwards from the offset: row 1 is past the end of HBM."""
    hbm = Hbm(PLENA_TVM)  # 1 GiB, lazily allocated
    base, scale_reg = 0x10000, 0x8000
    with pytest.raises(MachineFault, match="row 1"):
        hbm.read_rows(base, 960, U32 - 64, scale_reg, 2, 64, MXFP8)


def test_base_wraps_in_u64():
    hbm = Hbm(SMALL)
    data = random_bytes(hbm, seed=2)
    base = (1 << 64) - 64
    values, _ = hbm.read_rows(base, 128, 64, 0x1000, 2, 64, MXFP8)
    elem = [64, 128]
    scale = [0x1000 - 64 + 16, 0x1000 - 64 + 24]
    np.testing.assert_array_equal(values, expected_rows(data, elem, scale))


@pytest.mark.parametrize(
    ("base", "offset", "stride", "rows", "row"),
    [(0, 32, 64, 1, 0), (64, 0, 96, 2, 1), (1, 64, 64, 1, 0)],
)
def test_element_addresses_must_be_64_byte_aligned(base, offset, stride, rows, row):
    hbm = Hbm(SMALL)
    with pytest.raises(MachineFault, match=f"HBM row {row}: element address .* not 64-byte"):
        hbm.read_rows(base, offset, stride, 0, rows, 64, MXFP8)
    with pytest.raises(MachineFault, match="not 64-byte aligned"):
        hbm.write_rows(base, offset, stride, 0, np.ones((rows, 64), F32), MXFP8)
    assert hbm.bytes_read == hbm.bytes_written == 0


def test_reads_at_and_after_the_end_fault():
    hbm = Hbm(SMALL)
    size = SMALL.hbm_bytes
    hbm.read_rows(0, size - 64, 64, 0, 1, 64, MXFP8)  # the last line: fine
    with pytest.raises(MachineFault, match=r"row 0: element bytes 0x10000\.\.0x1003f"):
        hbm.read_rows(0, size, 64, 0, 1, 64, MXFP8)
    with pytest.raises(MachineFault, match="row 1: element bytes"):
        hbm.read_rows(0, size - 64, 64, 0, 2, 64, MXFP8)
    # scale bytes ending exactly at the end are fine; one byte further is a fault
    hbm.read_rows(0, 0, 64, size - 8, 1, 64, MXFP8)
    with pytest.raises(MachineFault, match=r"row 0: scale bytes 0xfff9\.\.0x10000"):
        hbm.read_rows(0, 0, 64, size - 7, 1, 64, MXFP8)


def test_writes_at_and_after_the_end_fault_and_write_nothing():
    hbm = Hbm(SMALL)
    size = SMALL.hbm_bytes
    values = np.ones((2, 64), F32)
    with pytest.raises(MachineFault, match="row 1: element bytes"):
        hbm.write_rows(0, size - 64, 64, 0, values, MXFP8)
    with pytest.raises(MachineFault, match="row 0: scale bytes"):
        hbm.write_rows(0, 0, 64, size - 4, values, MXFP8)
    assert not hbm.mem.any()
    assert hbm.dump() == b""


def test_row_length_and_format_preconditions():
    hbm = Hbm(SMALL)
    with pytest.raises(MachineFault, match="32 elements is not a whole number of 64-byte lines"):
        hbm.read_rows(0, 0, 32, 0, 1, 32, MXFP8)
    with pytest.raises(MachineFault, match="only MXFP8"):
        hbm.read_rows(0, 0, 64, 0, 1, 64, MxFormat(elem_exp=5, elem_man=2))


# --------------------------------------------------------------------------------------------
# counters and cycles
# --------------------------------------------------------------------------------------------


def test_tile_prefetch_traffic_and_cycles():
    hbm = Hbm(SMALL)
    _, cycles = hbm.read_rows(0, 0, 64, 4096, 64, 64, MXFP8)
    # 64 element lines + 64 scale lines (each row re-reads its scale line) = 8 KiB
    assert hbm.bytes_read == 128 * 64
    assert cycles == SMALL.dma_startup_cycles + 128 * 64 // SMALL.dma_bytes_per_cycle == 80
    assert hbm.bytes_written == 0


def test_unaligned_scale_span_touching_two_lines():
    hbm = Hbm(SMALL)
    _, cycles = hbm.read_rows(0, 0, 64, 60, 1, 64, MXFP8)  # scale bytes 60..67: two lines
    assert hbm.bytes_read == 3 * 64
    assert cycles == 16 + 2  # ceil(192 / 128)
    _, cycles = hbm.read_rows(0, 0, 64, 56, 1, 64, MXFP8)  # 56..63: one line
    assert hbm.bytes_read == 5 * 64 and cycles == 16 + 1


def test_store_writes_tvm_rounded_bytes_counts_and_cycles():
    hbm = Hbm(SMALL)
    rng = np.random.default_rng(6)
    values = rng.standard_normal((16, 64)).astype(F32)
    values[0, :8] = [1.5, 1.0625, 1.33, 0, 0, 0, 0, 0]
    cycles = hbm.write_rows(0x400, 0, 64, 0x2000, values, MXFP8)
    codes, scales = mx_encode(values, "tvm")
    np.testing.assert_array_equal(hbm.mem[0x400 : 0x400 + 1024].reshape(16, 64), codes)
    scale_start = 0x400 + 0x2000
    np.testing.assert_array_equal(hbm.mem[scale_start : scale_start + 128].reshape(16, 8), scales)
    assert hbm.mem[0x401] == 0x39  # 1.0625 -> 1.125: the TVM rounding, not the writer's
    # per row: one element line written, one scale line read and written
    assert cycles == 16 * (SMALL.dma_read_latency + SMALL.dma_write_cycles_per_line) == 384
    assert hbm.bytes_written == 32 * 64 and hbm.bytes_read == 16 * 64
    read_back, _ = hbm.read_rows(0x400, 0, 64, 0x2000, 16, 64, MXFP8)
    np.testing.assert_array_equal(read_back, mx_quantize(values, "tvm"))


def test_store_patches_scale_bytes_in_place():
    hbm = Hbm(SMALL)
    hbm.mem[0x2000:0x2100] = 0xAA
    hbm.write_rows(0, 0, 64, 0x2000 + 60, np.ones((1, 64), F32), MXFP8)
    assert hbm.mem[0x2000 + 60 : 0x2000 + 68].tolist() == [127] * 8
    assert (hbm.mem[0x2000 : 0x2000 + 60] == 0xAA).all()
    assert (hbm.mem[0x2000 + 68 : 0x2100] == 0xAA).all()
    assert hbm.bytes_read == 2 * 64 and hbm.bytes_written == 3 * 64


def sequential_store(mem, elem, scale, codes, scales):
    """The emulator's store, one row after another: element lines, then scale bytes."""
    for r in range(len(elem)):
        mem[elem[r] : elem[r] + codes.shape[1]] = codes[r]
        mem[scale[r] : scale[r] + scales.shape[1]] = scales[r]


@pytest.mark.parametrize(
    ("offset", "stride", "scale_reg"),
    [
        (0, 0, 0x2000),  # every row on the same lines: the last row wins
        (0, 64, 64),  # row r's scales land in row r+1's element line, then get overwritten
        (0, 64, 4),  # scales patched into each row's own elements... and the previous row's
        (0, 64, 72),  # rows 0 and 2 patch row 1's elements, before and after it is written
    ],
)
def test_overlapping_stores_behave_row_after_row(offset, stride, scale_reg):
    hbm = Hbm(SMALL)
    rng = np.random.default_rng(7)
    values = (rng.standard_normal((3, 64)) * 4).astype(F32)
    hbm.write_rows(0x1000, offset, stride, scale_reg, values, MXFP8)
    want = np.zeros(SMALL.hbm_bytes, np.uint8)
    elem = [0x1000 + (offset + r * stride) % U32 for r in range(3)]
    step = F32(stride) / F32(8)
    scale = [0x1000 + scale_reg + offset // 8 + int(F32(r) * step) for r in range(3)]
    sequential_store(want, elem, scale, *mx_encode(values, "tvm"))
    np.testing.assert_array_equal(hbm.mem, want)


# --------------------------------------------------------------------------------------------
# tensors, images, dumps
# --------------------------------------------------------------------------------------------


def test_write_tensor_layout_and_read_back():
    hbm = Hbm(SMALL)
    x = np.random.default_rng(8).standard_normal((32, 128)).astype(F32)
    hbm.write_tensor(0x100, x)
    codes, scales = mx_encode(x.ravel(), "writer")
    np.testing.assert_array_equal(hbm.mem[0x100 : 0x100 + 4096], codes)
    np.testing.assert_array_equal(hbm.mem[0x100 + 4096 : 0x100 + 4096 + 512], scales)
    np.testing.assert_array_equal(hbm.read_tensor(0x100, (32, 128)), mx_quantize(x))
    assert hbm.footprint(4096) == 4608
    # a compiler-style prefetch (SCALE = n, STRIDE = row width) of rows 16..31, columns 64..127
    rows, _ = hbm.read_rows(0x100, 16 * 128 + 64, 128, 4096, 16, 64, MXFP8)
    np.testing.assert_array_equal(rows, mx_quantize(x)[16:32, 64:128])
    assert len(hbm.dump()) == 0x100 + 4608


def test_write_tensor_with_a_ragged_last_block():
    hbm = Hbm(SMALL)
    x = np.arange(1, 14, dtype=F32) / 7  # 13 elements: two blocks, the second zero-padded
    hbm.write_tensor(64, x)
    assert hbm.footprint(13) == 13 + 2
    padded = np.concatenate([x, np.zeros(3, F32)])
    codes, scales = mx_encode(padded, "writer")
    np.testing.assert_array_equal(hbm.mem[64:77], codes[:13])
    np.testing.assert_array_equal(hbm.mem[77:79], scales)
    np.testing.assert_array_equal(hbm.read_tensor(64, (13,)), mx_quantize(padded)[:13])


def test_tensor_range_faults():
    hbm = Hbm(SMALL)
    with pytest.raises(MachineFault, match="write_tensor: addresses"):
        hbm.write_tensor(SMALL.hbm_bytes - 64, np.ones(64, F32))  # 64 + 8 scale bytes
    with pytest.raises(MachineFault, match="read_tensor: addresses"):
        hbm.read_tensor(-1, (8,))


def test_load_image_and_dump():
    hbm = Hbm(SMALL)
    hbm.load_image(bytes(range(200)))
    assert hbm.mem[:200].tolist() == list(range(200))
    assert hbm.dump() == bytes(range(200))
    hbm.write_rows(0x300, 0, 64, 0x100, np.ones((1, 64), F32), MXFP8)  # scales at 0x400..0x407
    assert len(hbm.dump()) == 0x408
    with pytest.raises(MachineFault, match="larger than the HBM"):
        hbm.load_image(bytes(SMALL.hbm_bytes + 1))
    Hbm(SMALL).load_image(bytes(SMALL.hbm_bytes))  # exactly full is fine


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown HBM format"):
        Hbm(SMALL, "bf16")


# --------------------------------------------------------------------------------------------
# fp32 mode
# --------------------------------------------------------------------------------------------


def test_fp32_mode_stores_values_unquantised():
    hbm = Hbm(SMALL, "fp32")
    x = np.random.default_rng(9).standard_normal((32, 128)).astype(F32)
    hbm.write_tensor(0x100, x)
    assert hbm.footprint(x.size) == x.size
    np.testing.assert_array_equal(hbm.read_tensor(0x100, (32, 128)), x)
    rows, cycles = hbm.read_rows(0x100, 16 * 128 + 64, 128, 0xFFFFFF, 16, 64, MXFP8)
    np.testing.assert_array_equal(rows, x[16:32, 64:128])  # no scale traffic, SCALE ignored
    assert hbm.bytes_read == 16 * 64 * 4
    assert cycles == 16 + 16 * 64 * 4 // 128


def test_fp32_mode_store_and_address_checks():
    hbm = Hbm(SMALL, "fp32")
    values = np.random.default_rng(10).standard_normal((16, 64)).astype(F32)
    values[0, 0] = 1.0625  # kept as it is
    cycles = hbm.write_rows(0x400, 0, 128, 0, values, MXFP8)
    np.testing.assert_array_equal(hbm.mem[0x400 : 0x400 + 2048].reshape(16, 128)[:, :64], values)
    assert hbm.mem[0x400] == F32(1.0625)
    assert hbm.bytes_written == 16 * 64 * 4 and hbm.bytes_read == 0
    assert cycles == 16 * 4 * SMALL.dma_write_cycles_per_line
    with pytest.raises(MachineFault, match="not 64-byte aligned"):
        hbm.read_rows(0, 8, 64, 0, 1, 64, MXFP8)
    with pytest.raises(MachineFault, match="element bytes"):
        hbm.read_rows(0, SMALL.hbm_bytes, 64, 0, 1, 64, MXFP8)
    dumped = np.frombuffer(hbm.dump(), dtype="<f4")
    assert dumped.size == 0x400 + 15 * 128 + 64
    np.testing.assert_array_equal(dumped[0x400 : 0x400 + 64], values[0])


def test_fp32_mode_image():
    hbm = Hbm(SMALL, "fp32")
    x = np.array([1.5, -2.25, 3e-5], dtype="<f4")
    hbm.load_image(x.tobytes())
    np.testing.assert_array_equal(hbm.mem[:3], x)
    assert hbm.dump() == x.tobytes()
    with pytest.raises(MachineFault, match="not a whole number of float32"):
        hbm.load_image(b"\x00" * 6)
    with pytest.raises(MachineFault, match="larger than the HBM"):
        hbm.load_image(bytes(4 * SMALL.hbm_bytes + 4))
