"""The simulator's number formats: bf16/fp16 rounding and the MXFP8 codec, bit-exact.

Every value the emulator computes is an f32.  It is rounded to bf16 when written to VRAM, to
fp16 when written to an FP register or FPRAM (plena-isa-tvm.md A2, A3), and MX-encoded when
stored to HBM (A4.5).  The functions here model those roundings exactly:

* `round_bf16` / `round_fp16`: take the argument as f32 (a Python float or float64 array is
  first rounded to f32, as the emulator holds f32), then round to nearest even.  Overflow
  gives +-inf (bf16: above the bf16 max plus half an ulp; fp16: |x| >= 65520), NaN stays NaN,
  subnormals are kept.  Arrays go through two `astype` casts (ml_dtypes bfloat16 / NumPy
  float16, both RNE); scalars use a pure-Python `struct` path, which is faster for one value.
* `mx_decode` / `mx_encode`: MXFP8 = E4M3 elements in blocks of 8 sharing one E8M0 scale
  byte (plena-isa.md 5.4).  `mx_encode` has the two rounding rules of the published tools:
  "writer" (the Python HBM image writer and golden quantizer) and "tvm" (the emulator's
  H_STORE_V encoder).  Decoded values are a fixed point of encode-then-decode; the bytes
  are too except in three non-canonical corners (a 0x80 lane, a block whose lanes all round
  to zero, a block max just below a power of two), which decode to the same values.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Literal

import ml_dtypes
import numpy as np

from plena_mlir.numerics.hbm_format import MX_BLOCK

F32 = np.float32
_BF16 = ml_dtypes.bfloat16
_F16 = np.float16

#: The E4M3 element's exponent bias.
_ELEM_BIAS = 7

Rounding = Literal["writer", "tvm"]

# --------------------------------------------------------------------------------------------
# bf16 / fp16 rounding
# --------------------------------------------------------------------------------------------

_F32_STRUCT = struct.Struct("<f")
_U32_STRUCT = struct.Struct("<I")
_F16_STRUCT = struct.Struct("<e")
_FP16_OVERFLOW = 65520.0  # the smallest magnitude that fp16 RNE rounds to infinity
_POS_INF = F32(math.inf)
_NEG_INF = F32(-math.inf)


def _to_f32(value: float) -> float:
    """`value` rounded to f32 (RNE), as a Python float; beyond the f32 range gives +-inf."""
    try:
        return _F32_STRUCT.unpack(_F32_STRUCT.pack(value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _bf16_of_f32(f: float) -> float:
    """An f32 value (as a Python float) rounded to bf16 (RNE), as a Python float."""
    if f != f:
        return f
    (bits,) = _U32_STRUCT.unpack(_F32_STRUCT.pack(f))
    # RNE on the upper 16 bits; a carry out of the exponent field correctly makes +-inf.
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return _F32_STRUCT.unpack(_U32_STRUCT.pack(bits))[0]


def _fp16_of_f32(
    f: float, pack=_F16_STRUCT.pack, unpack=_F16_STRUCT.unpack, overflow=_FP16_OVERFLOW
) -> float:
    """An f32 value (as a Python float) rounded to fp16 (RNE, |f| >= 65520 -> +-inf), as a
    Python float (the struct methods bound as defaults: this is the simulator's hot path)."""
    if -overflow < f < overflow:
        return unpack(pack(f))[0]
    if f != f:
        return f
    return math.inf if f > 0 else -math.inf


def _round_bf16_scalar(value: float) -> np.float32:
    return F32(_bf16_of_f32(_to_f32(value)))


def _round_fp16_scalar(value: float) -> np.float32:
    return F32(_fp16_of_f32(_to_f32(value)))


def round_bf16(x: np.ndarray | float) -> np.ndarray | np.float32:
    """bf16(f32(x)) with round-to-nearest-even, as float32 (a np.float32 for a scalar)."""
    if isinstance(x, np.ndarray):
        if x.dtype != F32:
            x = x.astype(F32)
        return x.astype(_BF16).astype(F32)
    return _round_bf16_scalar(x)


def round_fp16(x: np.ndarray | float) -> np.ndarray | np.float32:
    """IEEE fp16(f32(x)) with round-to-nearest-even (|x| >= 65520 -> +-inf), as float32."""
    if isinstance(x, np.ndarray):
        if x.dtype != F32:
            x = x.astype(F32)
        with np.errstate(over="ignore"):
            return x.astype(_F16).astype(F32)
    return _round_fp16_scalar(x)


_FP_ROUNDERS = {"bf16": round_bf16, "fp16": round_fp16}
_F32_ROUNDERS = {"bf16": _bf16_of_f32, "fp16": _fp16_of_f32}


def round_fp(x: np.ndarray | float, fmt: str) -> np.ndarray | np.float32:
    """Round to the scalar FP format `fmt` of a target (`Target.fp_format`: "fp16" or "bf16")."""
    try:
        rounder = _FP_ROUNDERS[fmt]
    except KeyError:
        raise ValueError(f"unknown FP format '{fmt}' (expected 'fp16' or 'bf16')") from None
    return rounder(x)


def f32_rounder(fmt: str) -> Callable[[float], float]:
    """`round_fp(value, fmt)` for one value that is already an f32 (a Python float holding an
    f32 value, or an np.float32 passed through float()), as a Python float: the simulator's
    hot path for FP register results (it skips the f32 rounding and the NumPy scalar)."""
    try:
        return _F32_ROUNDERS[fmt]
    except KeyError:
        raise ValueError(f"unknown FP format '{fmt}' (expected 'fp16' or 'bf16')") from None


# --------------------------------------------------------------------------------------------
# MXFP8 decode
# --------------------------------------------------------------------------------------------


def _e4m3_table() -> np.ndarray:
    """The f32 value of every E4M3 byte: s<<7 | E<<3 | m (plena-isa.md 5.4).

    E = 0: (-1)^s * m/8 * 2^-7 (not IEEE's 2^-6); 1 <= E <= 14: (-1)^s * (1 + m/8) * 2^(E-7);
    E = 15: +-inf for m = 0, NaN otherwise.
    """
    code = np.arange(256)
    sign = np.where(code >> 7, -1.0, 1.0)
    exp, man = (code >> 3) & 15, code & 7
    magnitude = np.where(exp == 0, man / 8 * 2.0**-7, (1 + man / 8) * 2.0 ** (exp - _ELEM_BIAS))
    magnitude = np.where(exp == 15, np.where(man == 0, np.inf, np.nan), magnitude)
    return (sign * magnitude).astype(F32)


def _e8m0_table() -> np.ndarray:
    """The f32 value of every E8M0 scale byte: 0 -> 0.0, 1..254 -> 2^(S-127), 255 -> inf."""
    code = np.arange(256)
    with np.errstate(over="ignore"):
        table = np.ldexp(np.ones(256), code - 127).astype(F32)
    table[0] = 0.0
    table[255] = np.inf
    return table


E4M3_VALUES = _e4m3_table()
E8M0_VALUES = _e8m0_table()


def _block_count(n: int, what: str) -> int:
    if n % MX_BLOCK:
        raise ValueError(f"{what}: the last axis ({n}) must be a multiple of {MX_BLOCK}")
    return n // MX_BLOCK


def mx_decode(elem: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Dequantise MXFP8: out[..., i] = E4M3(elem[..., i]) * E8M0(scale[..., i // 8]) in f32.

    `elem` is uint8 (..., n), `scale` uint8 (..., n/8).  The product is an f32 product, so
    0 * inf (zero element with scale 255, or an infinite element with scale 0) is NaN, and
    a finite product beyond the f32 range (e.g. 240 * 2^127) is inf.
    """
    elem = np.asarray(elem, dtype=np.uint8)
    scale = np.asarray(scale, dtype=np.uint8)
    blocks = _block_count(elem.shape[-1], "mx_decode")
    if scale.shape != elem.shape[:-1] + (blocks,):
        raise ValueError(
            f"mx_decode: scale shape {scale.shape} does not match element shape {elem.shape}"
        )
    values = E4M3_VALUES[elem].reshape(elem.shape[:-1] + (blocks, MX_BLOCK))
    with np.errstate(invalid="ignore", over="ignore"):
        values = values * E8M0_VALUES[scale][..., None]
    return values.reshape(elem.shape)


# --------------------------------------------------------------------------------------------
# MXFP8 encode
# --------------------------------------------------------------------------------------------

_EPS = F32(1e-9)


def _floor_log2(z: np.ndarray) -> np.ndarray:
    """floor(log2(z)) of positive f32 values, with log2 correctly rounded to f32 first.

    The published encoders take floor(log2f(z)).  Just below a power of two the f32 log2
    rounds up to the integer (e.g. log2f(1023.99994) = 10.0), so that rounding is modelled:
    the exact log2 is taken in f64 and rounded to f32 before the floor.
    """
    return np.floor(np.log2(z.astype(np.float64)).astype(F32))


def _round_half_away(v: np.ndarray) -> np.ndarray:
    """round(v) with ties away from zero (Rust f32::round), exact in f32, for v >= 0.

    (A negative v, from t just below 1, gives at most 0, which the clamp keeps at 0.)"""
    down = np.floor(v)
    return np.where(v - down >= 0.5, down + 1, down)


def _round_hardware(v: np.ndarray) -> np.ndarray:
    """The Python writer's hround(v) = round-half-to-even(floor(4v)/4) (plena-isa.md 5.4)."""
    return np.rint(np.floor(v * 4) / 4)


def mx_encode(x: np.ndarray, rounding: Rounding = "writer") -> tuple[np.ndarray, np.ndarray]:
    """Quantise f32 values (..., n) to MXFP8: (elements uint8 (..., n), scales uint8 (..., n/8)).

    Per block of 8 values x, all arithmetic in f32 (plena-isa.md 5.4, plena-isa-tvm.md A4.5):

        mx = max |x| over the non-NaN lanes (0 if none)
        if mx == 0: scale byte 0, element bytes 0 (NaN lanes too)
        e = clamp(floor(log2(mx + 1e-9)), lo, 127); scale byte = e + 127
            lo = -127 ("tvm") or -128 ("writer").  Neither clamp is reachable: mx + 1e-9 >= 1e-9
            makes e >= -30, so both rules give the same scale byte for every input.
        per lane: y = x / 2^e
            y == 0 (either sign)   -> 0x00
            NaN                    -> 0x38 (1.0, whatever the NaN's sign bit)
            k_raw = floor(log2(|y| + 1e-9)); k = clamp(k_raw, -7, 7); t = |y| / 2^k
            q = clamp(R((t - 1) * 8), 0, 7) if k != -7 else clamp(R(t * 8), 0, 7)   (E = 0 code)
            q = 7 if k_raw > 7 (only an infinite lane overflows)
            byte = sign(x) << 7 | (k + 7) << 3 | q
        R = round-half-away-from-zero ("tvm"), or RNE(floor(4v)/4) ("writer").

    A tiny non-zero negative lane that rounds to q = 0 encodes as 0x80 (-0.0).
    """
    if rounding == "tvm":
        round_mantissa, scale_min = _round_half_away, -127
    elif rounding == "writer":
        round_mantissa, scale_min = _round_hardware, -128
    else:
        raise ValueError(f"unknown MX rounding '{rounding}' (expected 'writer' or 'tvm')")
    x = np.asarray(x, dtype=F32)
    nblocks = _block_count(x.shape[-1], "mx_encode")
    blocks = x.reshape(x.shape[:-1] + (nblocks, MX_BLOCK))
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = np.abs(blocks)
        nan = np.isnan(magnitude)
        # NaN lanes never raise the block max (np.fmax.reduce mishandles signalling NaNs).
        block_max = np.where(nan, F32(0), magnitude).max(axis=-1, keepdims=True, initial=F32(0))
        e = np.minimum(np.maximum(_floor_log2(block_max + _EPS), scale_min), 127).astype(np.int32)
        y = np.ldexp(magnitude, -e)
        k_raw = _floor_log2(y + _EPS)
        k = np.minimum(np.maximum(k_raw, -_ELEM_BIAS), _ELEM_BIAS)
        t = np.ldexp(y, -k.astype(np.int32))
        v = np.where(k == -_ELEM_BIAS, t, t - F32(1)) * F32(8)
        q = np.minimum(np.maximum(round_mantissa(v), 0), 7)
        q = np.where(k_raw > _ELEM_BIAS, 7, q)
        fields = np.where(nan, 0, (k + _ELEM_BIAS) * 8 + q).astype(np.uint8)
    code = (np.signbit(blocks).astype(np.uint8) << 7) | fields
    code = np.where(nan, np.uint8(0x38), code)
    code = np.where((y == 0) | (block_max == 0), np.uint8(0), code)
    scale = np.where(block_max[..., 0] == 0, 0, e[..., 0] + 127).astype(np.uint8)
    return code.reshape(x.shape), scale


def mx_quantize(x: np.ndarray, rounding: Rounding = "writer") -> np.ndarray:
    """decode(encode(x)): the values an MXFP8 round trip gives (used for goldens)."""
    x = np.asarray(x, dtype=F32)
    return mx_decode(*mx_encode(x, rounding))
