"""The published file formats: HBM image layout, SRAM preloads and memory dumps."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from plena_mlir.numerics.formats import mx_encode, mx_quantize
from plena_mlir.numerics.hbm_format import image_footprint
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.hbm import Hbm
from plena_mlir.sim.image import (
    build_hbm_image,
    fpram_dump,
    intram_dump,
    mram_dump,
    parse_fpram_preload,
    parse_intram_preload,
    parse_vram_preload,
    read_hbm_tensor,
    vram_dump,
)
from plena_mlir.target import PLENA_TVM

F32 = np.float32


def tensors():
    rng = np.random.default_rng(11)
    return [
        rng.standard_normal((64, 64)).astype(F32),
        rng.standard_normal((4, 25)).astype(F32),
        rng.standard_normal(8).astype(F32),
    ]


# --------------------------------------------------------------------------------------------
# HBM image
# --------------------------------------------------------------------------------------------


def test_image_layout_with_128_byte_rows():
    xs = tensors()
    image, addrs = build_hbm_image(xs)
    # 4096 + 512 bytes; 100 -> 128 element bytes + 13 -> 128 scale bytes; 8 -> 128 + 1 -> 128
    assert addrs == [0, 4608, 4608 + 256]
    assert len(image) == 4608 + 256 + 256
    data = np.frombuffer(image, dtype=np.uint8)
    for x, addr in zip(xs, addrs, strict=True):
        n = x.size
        blocks = -(-n // 8)
        padded = np.zeros(blocks * 8, F32)
        padded[:n] = x.ravel()
        codes, scales = mx_encode(padded, "writer")
        scale_at = addr + -(-n // 128) * 128
        np.testing.assert_array_equal(data[addr : addr + n], codes[:n])
        assert not data[addr + n : scale_at].any()  # element row padding
        np.testing.assert_array_equal(data[scale_at : scale_at + blocks], scales)
        end = addr + image_footprint(n)
        assert not data[scale_at + blocks : end].any()  # scale row padding


def test_image_pads_each_tensor_to_64_bytes():
    narrow = PLENA_TVM.with_overrides(hbm_width_bits=256)  # 32-byte rows
    x = np.ones(40, F32)
    # 40 -> 64 element bytes, 5 -> 32 scale bytes, 96 -> padded to 128
    assert image_footprint(40, narrow) == 128
    image, addrs = build_hbm_image([x, x], narrow)
    assert addrs == [0, 128] and len(image) == 256
    assert image[64:69] == bytes([127]) * 5  # scales right after the two element rows
    np.testing.assert_array_equal(read_hbm_tensor(image, 128, (40,), narrow), x)


def test_image_tensors_read_back_as_mx_round_trips():
    xs = tensors()
    image, addrs = build_hbm_image(xs)
    for x, addr in zip(xs, addrs, strict=True):
        np.testing.assert_array_equal(read_hbm_tensor(image, addr, x.shape), mx_quantize_flat(x))
    with pytest.raises(ValueError, match="does not fit"):
        read_hbm_tensor(image, addrs[2], (200,))


def mx_quantize_flat(x):
    flat = x.ravel()
    padded = np.zeros(-(-flat.size // 8) * 8, F32)
    padded[: flat.size] = flat
    return mx_quantize(padded)[: flat.size].reshape(x.shape)


def test_image_agrees_with_write_tensor_for_whole_rows():
    x = tensors()[0]  # 4096 elements: the scale region starts at addr + n in both layouts
    image, _ = build_hbm_image([np.zeros(128, F32), x])
    hbm = Hbm(PLENA_TVM.with_overrides(hbm_bytes=1 << 16))
    hbm.load_image(image)
    np.testing.assert_array_equal(hbm.read_tensor(256, x.shape), mx_quantize(x))
    other = Hbm(PLENA_TVM.with_overrides(hbm_bytes=1 << 16))
    other.write_tensor(256, x)
    assert other.dump()[256:] == image[256:]


# --------------------------------------------------------------------------------------------
# preloads
# --------------------------------------------------------------------------------------------


def test_fpram_preload():
    values = np.array([1.0, -2.5, 1 + 2**-10, 65504.0], dtype="<f2")
    got = parse_fpram_preload(values.tobytes() + b"\x01")  # odd trailing byte ignored
    assert got.dtype == F32
    assert got.tolist() == [1.0, -2.5, 1 + 2**-10, 65504.0]
    bf16_target = PLENA_TVM.with_overrides(fp_format="bf16")  # fp16 constants rounded to bf16
    assert parse_fpram_preload(values.tobytes(), bf16_target).tolist() == [1.0, -2.5, 1.0, 65536.0]
    small = PLENA_TVM.with_overrides(fpram_entries=3)
    with pytest.raises(
        MachineFault, match=r"FPRAM preload of 4 entries is larger than FPRAM \(3 entries\)"
    ):
        parse_fpram_preload(values.tobytes(), small)


def test_intram_preload():
    data = struct.pack("<3I", 1, 0xFFFFFFFF, 70000)
    got = parse_intram_preload(data + b"\x05\x06")  # partial trailing word ignored
    assert got.dtype == np.uint32 and got.tolist() == [1, 0xFFFFFFFF, 70000]
    small = PLENA_TVM.with_overrides(intram_entries=2)
    with pytest.raises(MachineFault, match="INTRAM preload of 3 entries"):
        parse_intram_preload(data, small)


def test_vram_preload():
    words = [0x3F80, 0xC020, 0x7F80] + [0x3F80] * 64  # 1.0, -2.5, inf, then a second row
    rows = parse_vram_preload(struct.pack(f"<{len(words)}H", *words))
    assert rows.shape == (2, 64) and rows.dtype == F32
    assert rows[0, :3].tolist() == [1.0, -2.5, np.inf] and rows[0, 3:].tolist() == [1.0] * 61
    assert rows[1, :3].tolist() == [1.0] * 3 and not rows[1, 3:].any()  # short row padded
    small = PLENA_TVM.with_overrides(vram_rows=1)
    with pytest.raises(
        MachineFault, match=r"VRAM preload of 2 rows is larger than VRAM \(1 rows\)"
    ):
        parse_vram_preload(struct.pack(f"<{len(words)}H", *words), small)


# --------------------------------------------------------------------------------------------
# dumps
# --------------------------------------------------------------------------------------------


def test_vram_and_mram_dumps_are_bf16_little_endian():
    vram = np.zeros((2, 64), F32)
    vram[0, :2] = [1.0, -2.5]
    dump = vram_dump(vram)
    assert len(dump) == 2 * 64 * 2
    assert dump[:4] == b"\x80\x3f\x20\xc0" and not any(dump[4:])
    mram = np.zeros((2, 64, 64), F32)
    mram[0, 0, :3] = [1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-9]  # ties to even; below a tie
    dump = mram_dump(mram)
    assert len(dump) == 2 * 64 * 64 * 2
    assert struct.unpack("<3H", dump[:6]) == (0x3F80, 0x3F82, 0x3F80)


def test_fpram_and_intram_dumps():
    fpram = np.array([1.0, -2.5, 1 + 2**-9, 70000.0], dtype=F32)
    assert fpram_dump(fpram, "fp16") == np.array([1.0, -2.5, 1 + 2**-9, np.inf], "<f2").tobytes()
    assert struct.unpack("<4H", fpram_dump(fpram, "bf16")) == (0x3F80, 0xC020, 0x3F80, 0x4789)
    with pytest.raises(ValueError, match="unknown FP format"):
        fpram_dump(fpram, "fp8")
    assert intram_dump(np.array([1, 0xFFFFFFFF], np.uint32)) == struct.pack("<2I", 1, 0xFFFFFFFF)
