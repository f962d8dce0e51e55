"""bf16/fp16 rounding and the MXFP8 codec against independent scalar references."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plena_mlir.numerics.formats import (
    mx_decode,
    mx_encode,
    mx_quantize,
    round_bf16,
    round_fp,
    round_fp16,
)

F32 = np.float32


# --------------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------------


def ref_round(x: float, frac_bits: int, emin: int, max_finite: float) -> float:
    """Exact round-to-nearest-even of the f32 value x to a binary format, by rationals."""
    if math.isnan(x) or math.isinf(x) or x == 0:
        return x
    a = Fraction(abs(x))
    exponent = max(math.frexp(abs(x))[1] - 1, emin)
    quantum = Fraction(2) ** (exponent - frac_bits)
    units = a / quantum
    n = math.floor(units)
    rest = units - n
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2):
        n += 1
    r = n * quantum
    if r > Fraction(max_finite):
        return math.copysign(math.inf, x)
    return math.copysign(float(r), x)


BF16_MAX = (2 - 2**-7) * 2.0**127


def ref_bf16(x: float) -> float:
    return ref_round(x, 7, -126, BF16_MAX)


def ref_fp16(x: float) -> float:
    return ref_round(x, 10, -14, 65504.0)


def bits(values) -> np.ndarray:
    return np.asarray(values, dtype=F32).view(np.uint32)


def f32_from_bits(words) -> np.ndarray:
    return np.asarray(words, dtype=np.uint32).view(F32)


def sample_f32(n: int, seed: int) -> np.ndarray:
    """Random f32 values over every exponent, plus ties at 16 and 13 dropped bits."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32)
    ties16 = (words & np.uint32(0xFFFF0000)) | np.uint32(0x8000)
    ties13 = (words & np.uint32(0xFFFFE000)) | np.uint32(0x1000)
    x = f32_from_bits(np.concatenate([words, ties16, ties13]))
    return x[~np.isnan(x)]


# --------------------------------------------------------------------------------------------
# bf16 / fp16 rounding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rounder", "reference"), [(round_bf16, ref_bf16), (round_fp16, ref_fp16)])
def test_array_rounding_matches_exact_reference(rounder, reference):
    x = sample_f32(4000, seed=1)
    got = rounder(x)
    assert got.dtype == F32
    want = np.array([reference(float(v)) for v in x], dtype=F32)
    np.testing.assert_array_equal(bits(got), bits(want))


@pytest.mark.parametrize(("rounder", "reference"), [(round_bf16, ref_bf16), (round_fp16, ref_fp16)])
def test_scalar_rounding_matches_array_rounding(rounder, reference):
    x = sample_f32(500, seed=2)
    for v in x:
        for arg in (v, float(v)):
            got = rounder(arg)
            assert isinstance(got, np.float32)
            assert bits(got) == bits(reference(float(v)))


@pytest.mark.parametrize(
    ("word", "want"),
    [
        (0x3F808000, 0x3F800000),  # tie, even below
        (0x3F818000, 0x3F820000),  # tie, odd below: up
        (0x3F808001, 0x3F810000),  # above the tie
        (0x7F7F7FFF, 0x7F7F0000),  # just below max + half ulp: max
        (0x7F7F8000, 0x7F800000),  # max + half ulp: inf
        (0xFF7F8000, 0xFF800000),
        (0x00008000, 0x00000000),  # subnormal tie to even (zero)
        (0x00018000, 0x00020000),  # subnormal tie up
        (0x80000000, 0x80000000),  # -0 keeps its sign
    ],
)
def test_bf16_edge_cases(word, want):
    x = f32_from_bits([word])
    assert bits(round_bf16(x))[0] == want
    assert bits(round_bf16(x[0])) == want
    assert bits(round_bf16(float(x[0]))) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (65519.99609375, 65504.0),  # largest f32 below the threshold
        (65520.0, math.inf),
        (-65520.0, -math.inf),
        (65504.0, 65504.0),
        (2.0**-25, 0.0),  # half the smallest subnormal: tie to even (zero)
        (2.0**-24 * 1.5, 2.0**-23),  # tie to even (2 units)
        (2.0**-24 * 2.5, 2.0**-23),  # tie to even (2 units)
        (1 + 2**-11, 1.0),
        (1 + 3 * 2**-11, 1 + 2**-9),
    ],
)
def test_fp16_edge_cases(value, want):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow to inf is normal, not a warning
        for arg in (np.array([value], dtype=F32), F32(value), value):
            got = round_fp16(arg)
            assert float(np.asarray(got).ravel()[0]) == want


def test_nan_and_inf_pass_through():
    for rounder in (round_bf16, round_fp16):
        x = np.array([np.nan, np.inf, -np.inf], dtype=F32)
        got = rounder(x)
        assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf
        assert np.isnan(rounder(math.nan)) and rounder(-math.inf) == -np.inf


def test_python_floats_are_rounded_to_f32_first():
    # f32(1 + 2^-8 + 2^-30) = 1 + 2^-8, a bf16 tie that goes to even: 1.0 (direct: 1 + 2^-7)
    assert round_bf16(1 + 2**-8 + 2**-30) == 1.0
    assert round_bf16(np.array([1 + 2**-8 + 2**-30])) == 1.0
    # f32(1 + 2^-11 + 2^-40) = 1 + 2^-11, an fp16 tie that goes to even: 1.0
    assert round_fp16(1 + 2**-11 + 2**-40) == 1.0
    assert round_bf16(1e39) == np.inf and round_fp16(-1e39) == -np.inf


def test_round_fp_dispatches_on_the_target_format():
    x = np.array([1 + 2**-9], dtype=F32)
    assert round_fp(x, "fp16")[0] == 1 + 2**-9
    assert round_fp(x, "bf16")[0] == 1.0
    with pytest.raises(ValueError, match="unknown FP format 'fp32'"):
        round_fp(x, "fp32")


# --------------------------------------------------------------------------------------------
# MXFP8 decode
# --------------------------------------------------------------------------------------------


def ref_e4m3(code: int) -> float:
    sign = -1.0 if code & 0x80 else 1.0
    exp, man = (code >> 3) & 15, code & 7
    if exp == 15:
        return sign * math.inf if man == 0 else math.nan
    if exp == 0:
        return sign * man / 8 * 2.0**-7
    return sign * (1 + man / 8) * 2.0 ** (exp - 7)


def ref_e8m0(code: int) -> float:
    if code == 0:
        return 0.0
    if code == 255:
        return math.inf
    return 2.0 ** (code - 127)


def test_decode_every_element_with_every_scale():
    elem = np.tile(np.arange(256, dtype=np.uint8), (256, 1))  # row s: all 256 element codes
    scale = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 32, axis=1)  # row s: scale s
    got = mx_decode(elem, scale)
    assert got.shape == (256, 256) and got.dtype == F32
    want = np.array(
        [[ref_e4m3(e) * ref_e8m0(s) for e in range(256)] for s in range(256)], dtype=np.float64
    )
    with np.errstate(over="ignore"):
        want = want.astype(F32)  # every finite product is exact in f32; 240 * 2^127 -> inf
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_decode_spot_values():
    elem = np.array([0x38, 0x3F, 0x01, 0x08, 0x77, 0xB8, 0x78, 0x79], dtype=np.uint8)
    got = mx_decode(elem, np.array([127], dtype=np.uint8))
    assert got[:5].tolist() == [1.0, 1.875, 2.0**-10, 2.0**-6, 240.0]
    assert got[5] == -1.0 and got[6] == np.inf and np.isnan(got[7])
    assert mx_decode(elem[:1].repeat(8), np.array([0], np.uint8)).tolist() == [0.0] * 8


def test_decode_checks_shapes():
    with pytest.raises(ValueError, match="multiple of 8"):
        mx_decode(np.zeros(12, np.uint8), np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match="scale shape"):
        mx_decode(np.zeros(16, np.uint8), np.zeros(1, np.uint8))


# --------------------------------------------------------------------------------------------
# MXFP8 encode
# --------------------------------------------------------------------------------------------


def ref_encode_block(block: list[float], rounding: str) -> tuple[list[int], int]:
    """One block of 8 by the documented rules, in exact rational arithmetic.

    Exponents come from math.log2 of the f32 sum, so inputs must keep away from the few f32
    values just below a power of two (covered by hand-written cases instead).
    """
    finite = [abs(v) for v in block if not math.isnan(v)]
    mx = max(finite, default=0.0)
    if mx == 0:
        return [0] * 8, 0
    e = max(
        -127 if rounding == "tvm" else -128, min(127, math.floor(math.log2(F32(mx) + F32(1e-9))))
    )
    codes = []
    for v in block:
        if math.isnan(v):
            codes.append(0x38)
            continue
        y = Fraction(abs(v)) / Fraction(2) ** e
        if y == 0:
            codes.append(0)
            continue
        k_raw = math.floor(math.log2(F32(float(y)) + F32(1e-9)))
        k = max(-7, min(7, k_raw))
        t = y / Fraction(2) ** k
        w = t * 8 if k == -7 else (t - 1) * 8
        if rounding == "tvm":
            q = math.floor(w + Fraction(1, 2))  # w >= 0 here: half away from zero
        else:
            q = round(Fraction(math.floor(4 * w), 4))  # Python round() is half-to-even
        q = 7 if k_raw > 7 else max(0, min(7, q))
        codes.append((0x80 if v < 0 else 0) | (k + 7) << 3 | q)
    return codes, e + 127


@pytest.mark.parametrize("rounding", ["writer", "tvm"])
def test_encode_matches_reference_on_random_blocks(rounding):
    rng = np.random.default_rng(3)
    scales = 2.0 ** rng.integers(-40, 40, size=(300, 1))
    x = (rng.standard_normal((300, 8)) * scales).astype(F32)
    x[::7, 3] = 0.0
    x[::11] *= rng.integers(0, 2, size=(1, 8)).astype(F32)  # blocks with zero lanes
    codes, scale = mx_encode(x, rounding)
    for row in range(x.shape[0]):
        want_codes, want_scale = ref_encode_block([float(v) for v in x[row]], rounding)
        assert codes[row].tolist() == want_codes, (row, x[row])
        assert scale[row, 0] == want_scale


@pytest.mark.parametrize(
    ("value", "tvm", "writer"),
    [
        (1.0625, 1.125, 1.0),  # v = 0.5: TVM rounds half away, the writer to even
        (1.33, 1.375, 1.25),  # v = 2.64: fraction in [0.5, 0.75), floor even
        (1.09375, 1.125, 1.125),  # v = 0.75: both up
        (1.1875, 1.25, 1.25),  # v = 1.5, floor odd: both up
        (1.03, 1.0, 1.0),  # v = 0.24: both down
    ],
)
def test_encoder_rounding_examples_of_a4_5(value, tvm, writer):
    block = np.array([1.5, value, 0, 0, 0, 0, 0, 0], dtype=F32)  # block max 1.5: e = 0
    for rounding, want in (("tvm", tvm), ("writer", writer)):
        codes, scale = mx_encode(block, rounding)
        assert scale.tolist() == [127]
        assert mx_decode(codes, scale)[1] == want


def test_encode_hand_computed_block():
    block = np.array([1, 2, 3, 4, -5, 6, 7, 8], dtype=F32)  # max 8: e = 3, y = x / 8
    for rounding in ("tvm", "writer"):
        codes, scale = mx_encode(block, rounding)
        assert scale.tolist() == [130]
        assert codes.tolist() == [0x20, 0x28, 0x2C, 0x30, 0xB2, 0x34, 0x36, 0x38]
        np.testing.assert_array_equal(mx_decode(codes, scale), block)


def test_zero_blocks():
    block = np.array([[0, -0.0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1]], dtype=F32)
    for rounding in ("tvm", "writer"):
        codes, scale = mx_encode(block, rounding)
        assert scale.tolist() == [[0], [127]]
        assert codes[0].tolist() == [0] * 8
        assert codes[1].tolist() == [0] * 7 + [0x38]


def test_subnormal_elements():
    # block max 1.0 (e = 0); lanes below 2^-6 use the E = 0 code m/8 * 2^-7
    lanes = [1.0, 0.005, 0.009375, 2.5 / 1024, 3.5 / 1024, 2.6 / 1024, 2.75 / 1024, 0.4 / 1024]
    block = np.array(lanes, dtype=F32)
    # 0.005 * 1024 = 5.12 -> 5; 0.009375 is in [2^-7, 2^-6): t*8 = 9.6 saturates at 7
    tvm_codes = [0x38, 0x05, 0x07, 0x03, 0x04, 0x03, 0x03, 0x00]
    writer_codes = [0x38, 0x05, 0x07, 0x02, 0x04, 0x02, 0x03, 0x00]
    assert mx_encode(block, "tvm")[0].tolist() == tvm_codes
    assert mx_encode(block, "writer")[0].tolist() == writer_codes
    assert mx_quantize(block, "tvm")[1] == 5 / 8 * 2.0**-7


def test_negative_values_and_tiny_negatives():
    block = np.array([-1.5, -0.75, 1.0, -1e-4, -0.0, 0, 0, 0], dtype=F32)
    codes, scale = mx_encode(block, "tvm")
    assert codes.tolist() == [0xBC, 0xB4, 0x38, 0x80, 0x00, 0, 0, 0]
    got = mx_decode(codes, scale)
    assert got[:3].tolist() == [-1.5, -0.75, 1.0]
    assert got[3] == 0 and np.signbit(got[3])  # a negative lane rounded to zero: 0x80 = -0.0


def test_overflow_lanes_saturate():
    # only an infinite lane has k_raw > 7: it encodes q = 7, E = 14 (240 * 2^127 = inf)
    block = np.array([np.inf, -np.inf, 1.0, -2.0, 0, 0, 0, 0], dtype=F32)
    for rounding in ("tvm", "writer"):
        codes, scale = mx_encode(block, rounding)
        assert scale.tolist() == [254]
        assert codes.tolist() == [0x77, 0xF7, 0x00, 0x80, 0, 0, 0, 0]
        got = mx_decode(codes, scale)
        assert got[0] == np.inf and got[1] == -np.inf


def test_nan_lanes_in_tvm_encoder():
    block = np.array([np.nan, 0.5, -np.nan, 0.25, 0, 0, 0, 0], dtype=F32)
    codes, scale = mx_encode(block, "tvm")
    assert scale.tolist() == [126]  # NaN does not raise the block max: e = -1
    assert codes.tolist() == [0x38, 0x38, 0x38, 0x30, 0, 0, 0, 0]
    # a block of NaN and zeros is a zero block: every byte 0
    codes, scale = mx_encode(np.array([np.nan] + [0] * 7, dtype=F32), "tvm")
    assert scale.tolist() == [0] and codes.tolist() == [0] * 8


def test_scale_exponent_clamps():
    # the +1e-9 bias makes e >= -30, so neither lower clamp (-127 tvm, -128 writer) is reached
    for tiny in (1e-45, 1e-30, 2.0**-126):
        block = np.array([tiny] + [0] * 7, dtype=F32)
        for rounding in ("tvm", "writer"):
            codes, scale = mx_encode(block, rounding)
            assert scale.tolist() == [127 - 30]
    # upper clamp: floor(log2(3e38)) = 127 already; log2(FLT_MAX) rounds to 128 in f32 -> 127
    for big in (3e38, np.finfo(F32).max):
        codes, scale = mx_encode(np.array([big] + [0] * 7, dtype=F32), "tvm")
        assert scale.tolist() == [254]
        assert mx_decode(codes, scale)[0] <= big


def test_log2_is_rounded_to_f32_before_the_floor():
    # f32 log2(1024 * (1 - 2^-24)) rounds to 10.0, so e = 10 (not 9) and the element is 1.875/2
    block = np.array([np.nextafter(F32(1024), F32(0))] + [0] * 7, dtype=F32)
    codes, scale = mx_encode(block, "tvm")
    assert scale.tolist() == [137] and codes[0] == 0x37
    assert mx_decode(codes, scale)[0] == 960.0


def test_encode_is_vectorised_over_rows():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 32)).astype(F32)
    codes, scale = mx_encode(x, "tvm")
    assert codes.shape == (3, 5, 32) and scale.shape == (3, 5, 4)
    for i in range(3):
        for j in range(5):
            c, s = mx_encode(x[i, j], "tvm")
            np.testing.assert_array_equal(codes[i, j], c)
            np.testing.assert_array_equal(scale[i, j], s)


def test_encode_rejects_bad_arguments():
    with pytest.raises(ValueError, match="multiple of 8"):
        mx_encode(np.zeros(10, F32))
    with pytest.raises(ValueError, match="unknown MX rounding 'rne'"):
        mx_encode(np.zeros(8, F32), "rne")


finite_f32 = st.floats(allow_nan=False, allow_infinity=False, width=32)
rounding_modes = st.sampled_from(["writer", "tvm"])


@settings(max_examples=300, deadline=None)
@given(st.lists(finite_f32, min_size=8, max_size=8), st.integers(-60, 60), rounding_modes)
def test_quantised_values_are_a_fixed_point(values, shift, rounding):
    with np.errstate(over="ignore"):
        x = np.ldexp(np.array(values, dtype=F32), shift).astype(F32)
    x[~np.isfinite(x)] = 1.0
    q = mx_quantize(x, rounding)
    np.testing.assert_array_equal(mx_quantize(q, rounding), q)
    # MX grid values are exact in the other rounding mode too
    np.testing.assert_array_equal(mx_quantize(q, "tvm"), q)
    np.testing.assert_array_equal(mx_quantize(q, "writer"), q)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(-1.5, 1.5, width=32), min_size=7, max_size=7),
    st.floats(1.0, 1.5, width=32),
    st.integers(-20, 20),
    rounding_modes,
)
def test_encode_decode_encode_reproduces_the_bytes(lanes, block_max, shift, rounding):
    # Byte-level fixed point away from the non-canonical corners: a block max just below a
    # power of two (f32 log2 rounds up, giving an equal value with e one higher) and blocks
    # far below 2^-30 (every lane rounds to zero, leaving scale byte 97 on a zero block).
    x = np.ldexp(np.array([block_max, *lanes], dtype=F32), shift).astype(F32)
    codes, scale = mx_encode(x, rounding)
    again, scale_again = mx_encode(mx_decode(codes, scale), rounding)
    # a negative lane that rounded to zero (0x80) decodes to -0.0, which re-encodes as 0x00
    np.testing.assert_array_equal(again, np.where(codes == 0x80, 0, codes))
    np.testing.assert_array_equal(scale_again, scale)


def test_non_canonical_encodings_decode_to_the_same_values():
    # 2^33 - 11264: log2 rounds up to 33, so the element is 0x37 (0.9375) with e = 33 ...
    x = np.array([0] * 7 + [8589923328.0], dtype=F32)
    codes, scale = mx_encode(x, "writer")
    assert scale.tolist() == [127 + 33] and codes[7] == 0x37
    # ... which decodes to 1.875 * 2^32, encoded canonically as 0x3F with e = 32
    again, scale_again = mx_encode(mx_decode(codes, scale), "writer")
    assert scale_again.tolist() == [127 + 32] and again[7] == 0x3F
    np.testing.assert_array_equal(mx_decode(again, scale_again), mx_decode(codes, scale))
    # a block max of 2^-41 sits far below the 1e-9 bias: e = -30 and every lane rounds to 0
    codes, scale = mx_encode(np.array([2.0**-41] + [0] * 7, dtype=F32), "writer")
    assert scale.tolist() == [97] and codes.tolist() == [0] * 8


def test_quantize_is_decode_of_encode():
    x = np.random.default_rng(5).standard_normal(64).astype(F32)
    for rounding in ("writer", "tvm"):
        np.testing.assert_array_equal(mx_quantize(x, rounding), mx_decode(*mx_encode(x, rounding)))
    assert np.max(np.abs(mx_quantize(x) - x)) <= np.max(np.abs(x)) / 16


@pytest.mark.parametrize("rounding", ["writer", "tvm"])
def test_a_signalling_nan_lane_does_not_hide_the_block_max(rounding):
    quiet = np.array([1, 5, np.nan, 3, 0, 0, 0, 0], np.float32)
    signalling = quiet.copy()
    signalling.view(np.uint32)[2] = 0x7F810000
    for got, want in zip(mx_encode(signalling, rounding), mx_encode(quiet, rounding), strict=True):
        np.testing.assert_array_equal(got, want)
    assert mx_encode(quiet, rounding)[1][0] == 127 + 2  # block max 5 -> scale 2^2
