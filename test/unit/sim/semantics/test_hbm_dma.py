"""HBM DMA: H_PREFETCH_M, H_PREFETCH_V, H_STORE_V and the MXFP8 codec
(plena-isa-tvm.md A4; plena-isa.md 5.1, 5.2, 5.4).

With the plena-tvm target a prefetch moves 64 rows into one MRAM tile or 16 rows into VRAM,
a store 16 rows.  Row r's elements are at a[rs2] + gp[rs1] + r*S (S = STRIDE when the
rstride literal is 1, else the row length) and its scale bytes at
a[rs2] + SCALE + gp[rs1]/8 + trunc(r*S/8).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from plena_mlir.target import PLENA_TVM

from .data import HbmImage, e4m3_bytes, exact_bf16, random_bf16, set_regs
from .harness import assert_same, covers
from .ref_numerics import bf16, mx_decode, mx_encode

F32 = np.float32
M = V = 64
TILE = M * M
INF, NAN = math.inf, math.nan


def dma_regs(scale: int = 0, stride: int = 1, base: int = 0, areg: int = 0) -> str:
    """SCALE, STRIDE and a<areg> = base (uses gp25..gp27)."""
    return set_regs(gp25=scale, gp26=stride, gp27=base) + (
        f"C_SET_SCALE_REG gp25\nC_SET_STRIDE_REG gp26\nC_SET_ADDR_REG a{areg}, gp0, gp27\n"
    )


# Element bytes and scale byte of each 8-element block of one row, with the values that
# plena-isa.md 5.4 defines for them (worked out by hand, not with the reference decoder).
DECODE_BLOCKS = [
    (
        127,
        [0x38, 0x01, 0x07, 0x08, 0x77, 0xF7, 0x80, 0x00],
        [1.0, 2**-10, 7 * 2**-10, 2**-6, 240.0, -240.0, -0.0, 0.0],
    ),
    (
        130,
        [0x38, 0x3F, 0x30, 0x41, 0xB8, 0x09, 0x02, 0x40],
        [8.0, 15.0, 4.0, 18.0, -8.0, 0.140625, 2**-6, 16.0],
    ),
    (
        0,
        [0x38, 0x77, 0xF7, 0x01, 0x00, 0x3F, 0x40, 0x08],
        [0.0, 0.0, -0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    (
        1,
        [0x38, 0x01, 0x40, 0xB8, 0x30, 0x00, 0x39, 0x08],
        [2**-126, 2**-136, 2**-125, -(2**-126), 2**-127, 0.0, 1.125 * 2**-126, 2**-132],
    ),
    (
        254,
        [0x38, 0x30, 0x40, 0xB8, 0x00, 0x01, 0x3F, 0x08],
        [2.0**127, 2.0**126, INF, -(2.0**127), 0.0, 2.0**117, 1.875 * 2**127, 2.0**121],
    ),
    (
        255,
        [0x38, 0xB8, 0x01, 0x30, 0x77, 0x09, 0x3F, 0x40],
        [INF, -INF, INF, INF, INF, INF, INF, INF],
    ),
    (
        127,
        [0x78, 0xF8, 0x79, 0x7F, 0xFF, 0x38, 0x38, 0x38],
        [INF, -INF, NAN, NAN, NAN, 1.0, 1.0, 1.0],
    ),
    (
        120,
        [0x38, 0x07, 0x3F, 0xC0, 0x10, 0x11, 0x29, 0x00],
        [2**-7, 7 * 2**-17, 1.875 * 2**-7, -(2**-6), 2**-12, 1.125 * 2**-12, 1.125 * 2**-9, 0.0],
    ),
]


@covers("H_PREFETCH_M", "H_PREFETCH_V")
def test_mxfp8_decode_of_specific_bytes(machine):
    """E = 0 elements are m/8 * 2^-7; scale byte 0 -> 0.0, 255 -> inf; E = 15 -> inf/NaN;
    the element x scale product is f32 (2*2^127 overflows).  MRAM keeps the f32 value,
    VRAM rounds to bf16 (2^-136 is below the smallest bf16 subnormal 2^-133 -> 0)."""
    h = machine()
    image = HbmImage()
    image.place(0, np.array([b for _, codes, _ in DECODE_BLOCKS for b in codes], np.uint8))
    image.place(TILE, np.array([s for s, _, _ in DECODE_BLOCKS], np.uint8))
    h.load_hbm(image.bytes())
    h.run(
        dma_regs(scale=TILE)
        + set_regs(gp1=0, gp2=0)
        + "H_PREFETCH_M gp1, gp2, a0, 0, 0\nH_PREFETCH_V gp1, gp2, a0, 0, 0\n"
    )
    want = np.array([v for _, _, values in DECODE_BLOCKS for v in values], dtype=F32)
    assert_same(h.sim.state.mram[0, 0], want, "MRAM tile 0 row 0")
    assert not h.sim.state.mram[0, 1:].any()
    want_vram = want.copy()
    want_vram[3 * 8 + 1] = 0.0
    assert_same(h.sim.read_vram(0, 1)[0], want_vram, "VRAM row 0")


def _tensor(rng, rows: int, cols: int, exponent_codes=range(15)):
    """Random E4M3 bytes and scale bytes (2^-7 .. 2^7) of a rows x cols tensor."""
    elem = e4m3_bytes(rng, (rows, cols), exponent_codes)
    scale = rng.integers(120, 135, size=(rows, cols // 8)).astype(np.uint8)
    return elem, scale


@covers("H_PREFETCH_V")
def test_prefetch_v_with_stride_scale_offset_and_base(machine, rng):
    """A 16 x 192 tensor at a1 = 8192, SCALE = 3072, STRIDE = 192: column block 1
    (offset 64) arrives with rstride 1; rstride 0 ignores STRIDE and reads 16 contiguous
    rows; precision 1 decodes the same (every HBM type is MXFP8)."""
    h = machine()
    x_elem, x_scale = _tensor(rng, 16, 192)
    y_elem, y_scale = _tensor(rng, 16, 64)
    image = HbmImage()
    image.place(8192, x_elem)
    image.place(8192 + 3072, x_scale)
    # y at 16384 = a1 + 8192: its scales at a1 + SCALE + 8192/8
    image.place(16384, y_elem)
    image.place(8192 + 3072 + 1024, y_scale)
    h.load_hbm(image.bytes())
    h.run(dma_regs(scale=3072, stride=192, base=8192, areg=1) + set_regs(gp1=64, gp2=0, gp3=V * 16))
    h.run("H_PREFETCH_V gp2, gp1, a1, 1, 0")
    want = bf16(mx_decode(x_elem[:, 64:128], x_scale[:, 8:16]))
    assert_same(h.sim.read_vram(0, 16), want, "strided column block")
    h.run(
        set_regs(gp4=8192, gp5=V * 32)
        + "H_PREFETCH_V gp3, gp4, a1, 0, 0\n"
        + "H_PREFETCH_V gp5, gp4, a1, 0, 1"
    )
    y = bf16(mx_decode(y_elem, y_scale))
    assert_same(h.sim.read_vram(V * 16, 16), y, "contiguous rows, precision 0")
    assert_same(h.sim.read_vram(V * 32, 16), y, "contiguous rows, precision 1")


@covers("H_PREFETCH_V")
def test_rstride_literal_other_than_1_means_contiguous(machine, rng):
    """A4.2: only rstride == 1 selects STRIDE; a word with rstride 2 reads like 0."""
    h = machine()
    elem, scale = _tensor(rng, 16, 64)
    image = HbmImage()
    image.place(0, elem)
    image.place(1024, scale)
    h.load_hbm(image.bytes())
    h.run(dma_regs(scale=1024, stride=4096) + set_regs(gp1=0))
    h.run([0x29 | 1 << 6 | 1 << 11 | 0 << 16 | 2 << 21])  # H_PREFETCH_V gp1, gp1, a0, 2, 0
    assert_same(h.sim.read_vram(0, 16), bf16(mx_decode(elem, scale)), "rows")


@covers("H_PREFETCH_M")
def test_prefetch_m_with_stride_keeps_f32(machine, rng):
    """Tile rows from offset 64 + r*STRIDE of a 64 x 128 tensor, into MRAM tile 3 as
    unrounded f32 (general E4M3 values with scales up to 2^7 need more than bf16)."""
    h = machine()
    elem, scale = _tensor(rng, 64, 128)
    image = HbmImage()
    image.place(0, elem)
    image.place(8192, scale)
    h.load_hbm(image.bytes())
    h.run(
        dma_regs(scale=8192, stride=128)
        + set_regs(gp1=3 * TILE, gp2=64)
        + "H_PREFETCH_M gp1, gp2, a0, 1, 0"
    )
    assert_same(h.sim.state.mram[3], mx_decode(elem[:, 64:], scale[:, 8:]), "tile 3")


@covers("H_PREFETCH_M")
def test_prefetch_m_of_several_tiles(machine, rng):
    """With HBM_M_Prefetch_Amount = 128 one H_PREFETCH_M fills two consecutive tiles."""
    h = machine(PLENA_TVM.with_overrides(hbm_m_prefetch_rows=128))
    elem, scale = _tensor(rng, 128, 64)
    image = HbmImage()
    image.place(0, elem)
    image.place(8192, scale)
    h.load_hbm(image.bytes())
    h.run(
        dma_regs(scale=8192) + set_regs(gp1=510 * TILE, gp2=0) + "H_PREFETCH_M gp1, gp2, a0, 0, 0"
    )
    values = mx_decode(elem, scale)
    assert_same(h.sim.state.mram[510:512].reshape(128, 64), values, "tiles 510, 511")


@pytest.mark.parametrize(
    ("target", "dst"),
    [
        pytest.param(PLENA_TVM, 3 * TILE + 64, id="dst-not-tile-aligned"),
        pytest.param(PLENA_TVM, 512 * TILE, id="tile-past-end"),
        pytest.param(
            PLENA_TVM.with_overrides(hbm_m_prefetch_rows=128), 511 * TILE, id="second-tile-past-end"
        ),
    ],
)
@covers("H_PREFETCH_M")
def test_prefetch_m_destination_aborts(machine, target, dst):
    h = machine(target)
    h.run(dma_regs(scale=8192) + set_regs(gp1=dst, gp2=0))
    h.expect_abort("H_PREFETCH_M gp1, gp2, a0, 0, 0", pc=0)


# Row 0 of the store test: blocks with hand-encoded TVM bytes (A4.5).  Block max 1.5 gives
# e = 0: 1.0625 -> v = 0.5 rounds away to 1 (0x39; the writer would give 0x38), 1.328125 ->
# v = 2.625 -> 3 (0x3B).  A zero block gets scale 0.  A NaN lane encodes as 0x38 and does not
# raise the block max.  Small values use the E = 0 code: 5*2^-11 -> t*8 = 2.5 -> 3 (0x03).
STORE_BLOCKS = [
    (
        [1.5, 1.0625, 1.328125, 0.0, -1.5, 1.25, -1.0625, 0.75],
        127,
        [0x3C, 0x39, 0x3B, 0x00, 0xBC, 0x3A, 0xB9, 0x34],
    ),
    ([0.0] * 8, 0, [0x00] * 8),
    (
        [NAN, 3.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.1875],
        128,
        [0x38, 0x3C, 0xA8, 0x00, 0x00, 0x00, 0x00, 0x1C],
    ),
    (
        [6.0, 4.25, 5.3125, -6.0, 4.0, 0.0, 0.0, 0.0],
        129,
        [0x3C, 0x39, 0x3B, 0xBC, 0x38, 0x00, 0x00, 0x00],
    ),
    (
        [1.0, 2**-8, 1.5 * 2**-7, 2**-9, 3 * 2**-10, 5 * 2**-11, 0.0, -(2**-8)],
        127,
        [0x38, 0x04, 0x07, 0x02, 0x03, 0x03, 0x00, 0x84],
    ),
]


def _store_rows(rng) -> np.ndarray:
    rows = random_bf16(rng, (16, V), scale=8.0)
    rows[0, : 8 * len(STORE_BLOCKS)] = [v for values, _, _ in STORE_BLOCKS for v in values]
    return bf16(rows)


@covers("H_STORE_V")
def test_store_v_tvm_encoder_stride_and_read_modify_write(machine, rng):
    """16 rows to a1 = 65536 + 128 + r*256 (STRIDE 256), scales at a1 + 4096 + 16 + 32r.
    Element lines are written whole; scale bytes are patched into their lines, so the 0xAA
    bytes around them survive."""
    h = machine()
    rows = _store_rows(rng)
    h.load_vram(rows)
    base = 65536
    image = HbmImage()
    image.place(base, np.full(8192, 0xAA, np.uint8))
    h.load_hbm(image.bytes())
    h.run(dma_regs(scale=4096, stride=256, base=base, areg=1) + set_regs(gp1=128, gp2=0))
    h.run("H_STORE_V gp2, gp1, a1, 1, 0")
    dump = np.frombuffer(h.sim.hbm.dump(), dtype=np.uint8)
    elem, scale = mx_encode(rows, "tvm")
    expected = np.full(8192, 0xAA, np.uint8)
    for r in range(16):
        expected[128 + 256 * r : 192 + 256 * r] = elem[r]
        expected[4096 + 16 + 32 * r : 4096 + 24 + 32 * r] = scale[r]
    assert list(dump[base + 128 : base + 128 + 8 * len(STORE_BLOCKS)]) == [
        b for _, _, codes in STORE_BLOCKS for b in codes
    ]
    assert list(dump[base + 4096 + 16 : base + 4096 + 16 + len(STORE_BLOCKS)]) == [
        s for _, s, _ in STORE_BLOCKS
    ]
    assert (dump[base : base + 8192] == expected).all()


@covers("H_STORE_V", "H_PREFETCH_V")
def test_store_v_contiguous_then_prefetch_round_trip(machine, rng):
    """rstride 0: rows at off + r*64, scales at SCALE + off/8 + 8r.  Reading the stored
    rows back gives the TVM-quantised values."""
    h = machine()
    rows = bf16(exact_bf16(rng, (16, V), exponents=(-3, -1, 0, 2)))
    h.load_vram(rows)
    h.run(dma_regs(scale=2048) + set_regs(gp1=512, gp2=0, gp3=V * 100))
    h.run("H_STORE_V gp2, gp1, a0, 0, 0\nH_PREFETCH_V gp3, gp1, a0, 0, 0")
    elem, scale = mx_encode(rows, "tvm")
    dump = np.frombuffer(h.sim.hbm.dump(), dtype=np.uint8)
    assert (dump[512 : 512 + 1024].reshape(16, V) == elem).all()
    assert (dump[2048 + 64 : 2048 + 64 + 128].reshape(16, 8) == scale).all()
    assert_same(h.sim.read_vram(V * 100, 16), bf16(mx_decode(elem, scale)), "round trip")


@covers("H_PREFETCH_V")
def test_write_tensor_uses_the_writer_rounding(machine, rng):
    """The image writer rounds with RNE(floor(4v)/4): with block max 1.5, 1.0625 -> 1.0 and
    1.328125 -> 1.25 (the TVM store encoder would give 1.125 and 1.375).  Rows 1..15 hold
    random f32 data whose bytes the harness compares with the reference writer encoder."""
    h = machine()
    x = rng.normal(0.0, 5.0, size=(16, V)).astype(F32)
    x[0, :8] = STORE_BLOCKS[0][0]
    h.write_tensor(0, x)
    h.run(dma_regs(scale=x.size) + set_regs(gp1=0) + "H_PREFETCH_V gp1, gp1, a0, 0, 0")
    got = h.sim.read_vram(0, 1)[0, :8]
    assert list(got) == [1.5, 1.0, 1.25, 0.0, -1.5, 1.25, -1.0, 0.75]


LIMITED_HBM = PLENA_TVM.with_overrides(hbm_bytes=1 << 20)
END = 1 << 20


@pytest.mark.parametrize(
    ("program", "regs"),
    [
        pytest.param(
            "H_PREFETCH_V gp2, gp1, a0, 0, 0",
            {"gp1": END - 8 * 64, "gp9": 0},
            marks=covers("H_PREFETCH_V"),
            id="prefetch-v-rows",
        ),
        pytest.param(
            "H_PREFETCH_V gp2, gp1, a0, 0, 0",
            {"gp1": 0, "gp9": END - 4},
            marks=covers("H_PREFETCH_V"),
            id="prefetch-v-scale-line",
        ),
        pytest.param(
            "H_PREFETCH_M gp2, gp1, a0, 0, 0",
            {"gp1": END - 32 * 64, "gp9": 0},
            marks=covers("H_PREFETCH_M"),
            id="prefetch-m-rows",
        ),
        pytest.param(
            "H_STORE_V gp2, gp1, a0, 0, 0",
            {"gp1": END - 4 * 64, "gp9": 0},
            marks=covers("H_STORE_V"),
            id="store-rows",
        ),
        pytest.param(
            "H_STORE_V gp2, gp1, a0, 0, 0",
            {"gp1": 0, "gp9": END},
            marks=covers("H_STORE_V"),
            id="store-scale-line",
        ),
        pytest.param(
            "H_PREFETCH_V gp2, gp1, a0, 0, 0",
            {"gp1": 32, "gp9": 0},
            marks=covers("H_PREFETCH_V"),
            id="element-not-64-aligned",
        ),
        pytest.param(
            "H_STORE_V gp2, gp1, a0, 0, 0",
            {"gp1": 96, "gp9": 0},
            marks=covers("H_STORE_V"),
            id="store-not-64-aligned",
        ),
        pytest.param(
            "H_PREFETCH_V gp3, gp1, a0, 0, 0",
            {"gp1": 0, "gp9": 0, "gp3": 32},
            marks=covers("H_PREFETCH_V"),
            id="vram-destination-misaligned",
        ),
        pytest.param(
            "H_STORE_V gp3, gp1, a0, 0, 0",
            {"gp1": 0, "gp9": 0, "gp3": 48},
            marks=covers("H_STORE_V"),
            id="vram-source-misaligned",
        ),
        pytest.param(
            "H_PREFETCH_V gp2, gp1, a3, 0, 0",
            {"gp1": 0, "gp9": 0},
            marks=covers("H_PREFETCH_V"),
            id="address-register-high-word",
        ),
    ],
)
def test_hbm_access_past_the_end_or_misaligned_aborts(machine, program, regs):
    """A4.6: any 64-byte line at or beyond HBM_SIZE aborts, for reads and writes, element or
    scale; element addresses must be 64-byte aligned.  (HBM_SIZE = 1 MiB here; a3 has a
    non-zero high word.)"""
    h = machine(LIMITED_HBM)
    h.run(set_regs(gp2=0, gp8=1, **regs) + "C_SET_SCALE_REG gp9\nC_SET_ADDR_REG a3, gp8, gp0")
    h.expect_abort(program, pc=0)


@covers("H_PREFETCH_V", "H_STORE_V")
def test_vram_rows_past_the_end_are_dropped_on_prefetch_but_abort_on_store(machine, rng):
    """A4.4 / A6.1 #13, with a 64-row VRAM: a prefetch to row 60 writes rows 60..63 only."""
    h = machine(PLENA_TVM.with_overrides(vram_rows=64))
    elem, scale = _tensor(rng, 16, 64)
    image = HbmImage()
    image.place(0, elem)
    image.place(1024, scale)
    h.load_hbm(image.bytes())
    h.run(dma_regs(scale=1024) + set_regs(gp1=60 * V, gp2=0) + "H_PREFETCH_V gp1, gp2, a0, 0, 0")
    assert_same(h.sim.read_vram(60 * V, 4), bf16(mx_decode(elem[:4], scale[:4])), "rows 60..63")
    h.expect_abort("H_STORE_V gp1, gp2, a0, 0, 0", pc=0)


@covers("H_PREFETCH_M", "H_PREFETCH_V", "H_STORE_V", "V_ADD_VV")
def test_fp32_hbm_mode(machine, rng):
    """fp32 HBM (our extension): one unquantised f32 per element address, no scale traffic.
    MRAM gets the f32 values, VRAM their bf16 rounding, a store writes the VRAM values."""
    h = machine(hbm_format="fp32")
    values = rng.normal(0.0, 3.0, size=(2 * 64 + 16, 64)).astype(F32)
    h.load_hbm(values.astype("<f4").tobytes())
    h.run(
        dma_regs(scale=999_999, stride=128)
        + set_regs(gp1=0, gp2=64, gp3=0)
        + "H_PREFETCH_M gp1, gp2, a0, 1, 0\nH_PREFETCH_V gp3, gp1, a0, 0, 0\n"
        + "V_ADD_VV gp3, gp3, gp3, 0\n"
    )
    strided = values[:128].reshape(64, 128)[:, 64:]
    assert_same(h.sim.state.mram[0], strided, "tile 0 (unrounded f32)")
    assert_same(h.sim.read_vram(V, 15), bf16(values[1:16]), "VRAM rows 1..15")
    h.run(set_regs(gp5=20000 * 64) + "H_STORE_V gp3, gp5, a0, 0, 0")
    dump = np.frombuffer(h.sim.hbm.dump(), dtype="<f4")
    assert_same(dump[20000 * 64 : 20000 * 64 + 64], bf16(2 * bf16(values[0])), "stored row 0")
    assert_same(
        dump[20000 * 64 + 64 : 20001 * 64 + 15 * 64],
        bf16(values[1:16]).reshape(-1),
        "stored rows 1..15",
    )


@covers("H_PREFETCH_M", "H_PREFETCH_V", "H_STORE_V")
def test_dma_cycles_and_byte_counters(machine):
    """The documented DMA approximation (docs of plena_mlir.sim.hbm): a prefetch costs
    dma_startup_cycles (16) + ceil(lines * 64 / dma_bytes_per_cycle (128)), lines = element
    lines + scale lines touched, per row; a store costs, per row, scale lines *
    dma_read_latency (20) + element lines * dma_write_cycles_per_line (4).  Byte counters
    count 64 per line access (a scale line of a store is read and written)."""
    h = machine()
    h.run(dma_regs(scale=4096) + set_regs(gp1=0, gp2=0, gp3=4092))
    stats = h.run("H_PREFETCH_V gp1, gp2, a0, 0, 0")
    assert (stats.cycles, stats.hbm_bytes_read, stats.hbm_bytes_written) == (32, 2048, 0)
    stats = h.run("H_PREFETCH_M gp1, gp2, a0, 0, 0")
    assert (stats.cycles, stats.hbm_bytes_read) == (16 + 64, 128 * 64)
    stats = h.run("H_STORE_V gp1, gp2, a0, 0, 0")
    assert (stats.cycles, stats.hbm_bytes_read, stats.hbm_bytes_written) == (384, 1024, 2048)
    # SCALE = 4092: rows 0 and 8 have scale bytes straddling two lines -> 34 lines
    stats = h.run("C_SET_SCALE_REG gp3\nH_PREFETCH_V gp1, gp2, a0, 0, 0")
    assert (stats.cycles, stats.hbm_bytes_read) == (1 + 16 + 17, 34 * 64)


@covers("H_PREFETCH_V", "H_STORE_V")
def test_zero_stride_broadcasts_on_prefetch_and_last_row_wins_on_store(machine, rng):
    """STRIDE = 0 with rstride 1: every row reads (or writes) the same element and scale
    bytes.  A prefetch broadcasts one row; a store writes its rows in order (A4.5), so the
    HBM ends up holding the last row's encoding."""
    h = machine()
    elem, scale = _tensor(rng, 1, 64)
    image = HbmImage()
    image.place(0, elem)
    image.place(1024, scale)
    h.load_hbm(image.bytes())
    h.run(dma_regs(scale=1024, stride=0) + set_regs(gp1=0, gp2=V * 16))
    h.run("H_PREFETCH_V gp1, gp1, a0, 1, 0")
    assert_same(h.sim.read_vram(0, 16), np.repeat(bf16(mx_decode(elem, scale)), 16, 0), "rows")
    rows = random_bf16(rng, (16, V))
    h.load_vram(rows)
    h.run(set_regs(gp3=4096) + "H_STORE_V gp1, gp3, a0, 1, 0")
    last_elem, last_scale = mx_encode(rows[15], "tvm")
    dump = np.frombuffer(h.sim.hbm.dump(), dtype=np.uint8)
    assert (dump[4096 : 4096 + 64] == last_elem).all()
    assert (dump[1024 + 512 : 1024 + 520] == last_scale).all()


@covers("H_PREFETCH_V")
def test_row_step_wraps_in_u32_but_the_offset_sum_does_not(machine):
    """A4.2: row r's element address is a[rs2] + gp[rs1] + (r*S mod 2^32); only the product
    wraps.  STRIDE = 2^32 - 64 therefore puts row 1 at 1024 + 2^32 - 64, past the 1 GiB
    HBM, and the transfer aborts; it does not step back to address 960.  (Shown in fp32
    mode: with MXFP8 the far scale address of row 2 would abort either way.)"""
    h = machine(hbm_format="fp32")
    h.load_hbm(np.ones(4096, dtype="<f4").tobytes())
    h.run(dma_regs(stride=0xFFFFFFC0) + set_regs(gp1=1024, gp2=0))
    h.expect_abort("H_PREFETCH_V gp2, gp1, a0, 1, 0", pc=0)
