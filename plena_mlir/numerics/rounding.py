"""The two numeric modes of the `tile` interpreter, and the HBM quantisation kernels share.

* "exact": float64 values, no rounding anywhere: the mathematical result of the kernel.
* "rounded": the machine's rounding points (plena-isa-tvm.md A2, A3), so a compiled kernel
  matches it to the last bit or nearly:
    - values are float32, element-wise arithmetic is f32 (each op correctly rounded);
    - every write to VRAM rounds to bf16 (RNE);
    - MRAM holds f32 (never rounded);
    - FPRAM entries, and every f32 scalar when used (it sits in FPRAM or an FP register),
      round to the target's `fp_format` (fp16 on plena-tvm);
    - sums (gemm, row reductions) accumulate exactly (float64) and round to f32 once;
    - HBM: with `hbm_format="mxfp8"` inputs are MX-quantised as the image writer does (flat
      order, blocks of 8) and every store to HBM as H_STORE_V does ("tvm" rounding, blocks of
      8 along the last dimension); with "fp32" HBM holds float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.numerics.formats import mx_quantize, round_bf16, round_fp
from plena_mlir.numerics.hbm_format import MX_BLOCK, HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

Mode = Literal["exact", "rounded"]

#: Where a value is written: a buffer's memory space, or HBM.
Place = MemorySpace | Literal["hbm"]


def hbm_input(x: np.ndarray, hbm_format: HbmFormat) -> np.ndarray:
    """A host tensor as HBM holds it: float32, MX-quantised like the image writer for mxfp8
    (blocks of 8 in flat order, a ragged last block zero-padded)."""
    if hbm_format == "fp32":
        return np.array(x, dtype=np.float32)  # a copy: kernels write HBM in place
    flat = np.asarray(x, dtype=np.float32).ravel()
    padded = np.zeros(-(-flat.size // MX_BLOCK) * MX_BLOCK, dtype=np.float32)
    padded[: flat.size] = flat
    return mx_quantize(padded, "writer")[: flat.size].reshape(np.shape(x))


def hbm_store(x: np.ndarray, hbm_format: HbmFormat) -> np.ndarray:
    """Values as a store to HBM leaves them: float32, or MX-quantised with H_STORE_V's
    rounding in blocks of 8 along the last dimension (which must be a multiple of 8)."""
    x = np.asarray(x, dtype=np.float32)
    if hbm_format == "fp32":
        return x
    if x.shape[-1] % MX_BLOCK:
        raise ValueError(
            f"an MXFP8 store writes blocks of {MX_BLOCK} elements along the last dimension; "
            f"a region {'x'.join(map(str, x.shape))} is not made of whole blocks"
        )
    return mx_quantize(x, "tvm")


@dataclass(frozen=True)
class Numerics:
    """The rounding applied at each point where the machine rounds (none when exact)."""

    mode: Mode = "exact"
    target: Target = DEFAULT_TARGET
    hbm_format: HbmFormat = "fp32"

    def __post_init__(self) -> None:
        if self.mode not in ("exact", "rounded"):
            raise ValueError(f"unknown mode '{self.mode}' (expected 'exact' or 'rounded')")
        if self.hbm_format not in ("fp32", "mxfp8"):
            raise ValueError(f"unknown HBM format '{self.hbm_format}' (expected fp32 or mxfp8)")

    @property
    def rounded(self) -> bool:
        return self.mode == "rounded"

    @property
    def dtype(self) -> type[np.floating]:
        """The dtype values are held in: float32 (rounded) or float64 (exact)."""
        return np.float32 if self.rounded else np.float64

    def hbm_input(self, x: np.ndarray) -> np.ndarray:
        if not self.rounded:
            return np.array(x, dtype=np.float64)
        return hbm_input(x, self.hbm_format)

    def store(self, place: Place, x: np.ndarray) -> np.ndarray:
        """`x` as written to `place`."""
        if not self.rounded:
            return np.asarray(x, dtype=np.float64)
        if place == "hbm":
            return hbm_store(x, self.hbm_format)
        if place is MemorySpace.VRAM:
            return round_bf16(np.asarray(x, dtype=np.float32))
        if place is MemorySpace.FPRAM:
            return self.fp(x)
        return np.asarray(x, dtype=np.float32)

    def fp(self, x: np.ndarray | float) -> np.ndarray:
        """A value in FPRAM or an FP register: the target's fp_format (rounded mode)."""
        if not self.rounded:
            return np.asarray(x, dtype=np.float64)
        return np.asarray(round_fp(np.asarray(x, dtype=np.float32), self.target.fp_format))

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """A sum computed exactly (float64), as the f32 accumulator holds it."""
        return np.asarray(x).astype(self.dtype)

    def reduce_rows(self, ufunc: np.ufunc, x: np.ndarray, start: np.ndarray | float) -> np.ndarray:
        """`ufunc` (np.add or np.maximum) over each row of `x`, starting from `start` (one
        value per row, or one for all).  Rounded: VLEN columns at a time, each step like one
        V_RED_*, r = fp(r (op) f32(reduce(chunk))) in f32; exact: float64 in one step."""
        result = np.broadcast_to(np.asarray(start, dtype=self.dtype), x.shape[:1])
        chunk = self.target.vlen if self.rounded else x.shape[1]
        for col in range(0, x.shape[1], chunk):
            part = self.accumulate(ufunc.reduce(x[:, col : col + chunk].astype(np.float64), 1))
            result = self.fp(ufunc(result, part))
        return result
