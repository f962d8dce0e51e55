"""Reference rounding and MXFP8 codec, written from the spec for the semantic tests.

Deliberately independent of `plena_mlir.numerics.formats`: the tests compare the simulator with
these functions, so they must not share code with it.  Sources:

* bf16 / fp16: round to nearest even (plena-isa.md 5.5, plena-isa-tvm.md A2/A3.5), done by
  ml_dtypes / NumPy casts from float32.
* MXFP8 decode: plena-isa.md 5.4 (E4M3 element, E8M0 scale, block 8; E = 0 is m/8 * 2^-7,
  scale byte 0 -> 0.0, 255 -> inf; dequantised value = element * scale in f32).
* MXFP8 encode: plena-isa.md 5.4 ("writer", the Python image writer: hround = RNE(floor(4v)/4),
  exponent clamp [-128, 127]) and plena-isa-tvm.md A4.5 ("tvm", the emulator's H_STORE_V
  encoder: round half away from zero, clamp [-127, 127], NaN lane -> 0x38, NaN never raises
  the block max).  Both work in f32 exactly as the spec's steps are written.
"""

from __future__ import annotations

import math
from typing import Literal

import ml_dtypes
import numpy as np

MX_BLOCK = 8
F32 = np.float32
_EPS = F32(1e-9)


def bf16(x) -> np.ndarray:
    """x (f32) rounded to bfloat16 (RNE, overflow -> inf), returned as float32."""
    return np.asarray(x, dtype=F32).astype(ml_dtypes.bfloat16).astype(F32)


def fp16(x) -> np.ndarray:
    """x (f32) rounded to IEEE half (RNE, |x| >= 65520 -> inf), returned as float32."""
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=F32).astype(np.float16).astype(F32)


def f32_exp(x) -> np.ndarray:
    """e^x of f32 inputs as a correctly rounded f32 (computed in f64), no clamp."""
    with np.errstate(over="ignore"):
        return np.exp(np.asarray(x, dtype=F32).astype(np.float64)).astype(F32)


def _e4m3_value(byte: int) -> float:
    sign = -1.0 if byte & 0x80 else 1.0
    exp, man = (byte >> 3) & 0xF, byte & 0x7
    if exp == 15:
        return sign * math.inf if man == 0 else math.nan
    if exp == 0:
        return sign * (man / 8) * 2.0**-7
    return sign * (1 + man / 8) * 2.0 ** (exp - 7)


def _e8m0_value(byte: int) -> float:
    if byte == 0:
        return 0.0
    if byte == 255:
        return math.inf
    return 2.0 ** (byte - 127)


E4M3_VALUES = np.array([_e4m3_value(b) for b in range(256)], dtype=F32)
E8M0_VALUES = np.array([_e8m0_value(b) for b in range(256)], dtype=F32)


def mx_decode(elem: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """elem uint8 (..., n) and scale uint8 (..., n/8) -> float32 (..., n): element * scale."""
    elem = np.asarray(elem, dtype=np.uint8)
    scale = np.asarray(scale, dtype=np.uint8)
    with np.errstate(invalid="ignore", over="ignore"):
        return E4M3_VALUES[elem] * np.repeat(E8M0_VALUES[scale], MX_BLOCK, axis=-1)


def _round_mantissa(v: F32, rounding: str) -> int:
    if rounding == "tvm":  # round half away from zero (v >= 0)
        return int(np.floor(v + F32(0.5)))
    quarter = np.floor(F32(4) * v) / F32(4)  # the writer's hround: RNE(floor(4v)/4)
    return int(np.rint(quarter))


def _encode_block(block: np.ndarray, rounding: str) -> tuple[list[int], int]:
    finite_abs = np.abs(block[~np.isnan(block)])
    mx = F32(finite_abs.max()) if finite_abs.size else F32(0)
    if mx == 0:
        return [0] * len(block), 0
    lo = -127 if rounding == "tvm" else -128
    e = int(min(max(np.floor(np.log2(mx + _EPS)), lo), 127))
    codes = []
    for x in block:
        if np.isnan(x):
            codes.append(0x38)
            continue
        y = F32(x) / F32(2.0**e)
        if y == 0:
            codes.append(0)
            continue
        sign = 0x80 if y < 0 else 0
        k_raw = np.floor(np.log2(np.abs(y) + _EPS))  # +inf for an infinite lane
        k = int(min(max(k_raw, -7), 7))
        t = np.abs(y) / F32(2.0**k)
        if k_raw > 7:
            q, exp_code = 7, k + 7
        elif k != -7:
            q, exp_code = _round_mantissa((t - F32(1)) * F32(8), rounding), k + 7
        else:
            q, exp_code = _round_mantissa(t * F32(8), rounding), 0
        codes.append(sign | exp_code << 3 | min(max(q, 0), 7))
    return codes, e + 127


def mx_encode(x: np.ndarray, rounding: Literal["writer", "tvm"]) -> tuple[np.ndarray, np.ndarray]:
    """float32 (..., n) -> (element bytes (..., n), scale bytes (..., n/8)), blocks of 8."""
    x = np.asarray(x, dtype=F32)
    blocks = x.reshape(-1, MX_BLOCK)
    elem = np.zeros(blocks.shape, dtype=np.uint8)
    scale = np.zeros(len(blocks), dtype=np.uint8)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i, block in enumerate(blocks):
            codes, scale[i] = _encode_block(block, rounding)
            elem[i] = codes
    return elem.reshape(x.shape), scale.reshape(*x.shape[:-1], x.shape[-1] // MX_BLOCK)
