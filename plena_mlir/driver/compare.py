"""Element-by-element comparison of a simulated output with its golden.

The golden models the machine's rounding points, so the tolerance only absorbs what is left:

- fp32 HBM: a few bf16 ulps of the value (accumulation order inside the vector unit);
- mxfp8 HBM: one E4M3 step of the stored value (3 mantissa bits), since the result is
  MX-encoded by the program's H_STORE_V and by the golden independently.

A NaN never matches, in the result or in the golden (a golden NaN usually means the kernel
read memory it never wrote); an infinity matches only the same infinity.

    result = compare(actual, golden, "mxfp8")
    result.passed, result.max_abs_error, result.worst_index, result.describe()
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plena_mlir.numerics.hbm_format import HbmFormat

BF16_ULP = 2.0**-7
"""Relative spacing of bf16 values."""

RELATIVE_TOLERANCE: dict[str, float] = {"fp32": 4 * BF16_ULP, "mxfp8": 2.0**-3}
"""|actual - golden| <= RELATIVE_TOLERANCE * max(|golden|, SMALLEST) on every element."""

SMALLEST = 2.0**-14
"""Below this magnitude the tolerance is absolute (the smallest normal fp16)."""


@dataclass(frozen=True)
class Comparison:
    elements: int
    bad_elements: int
    """Elements outside the tolerance, NaN on either side, or an infinity against anything
    but the same infinity."""
    max_abs_error: float
    mean_abs_error: float
    worst_index: tuple[int, ...]
    actual_at_worst: float
    golden_at_worst: float
    hbm_format: str

    @property
    def passed(self) -> bool:
        return self.bad_elements == 0

    def describe(self) -> str:
        verdict = "all match" if self.passed else f"{self.bad_elements} differ"
        return (
            f"{verdict} of {self.elements} elements ({self.hbm_format} HBM): max error "
            f"{self.max_abs_error:.3g}, mean {self.mean_abs_error:.3g}, worst at "
            f"{self.worst_index}: got {self.actual_at_worst:.6g}, golden "
            f"{self.golden_at_worst:.6g}"
        )


def compare(actual: np.ndarray, golden: np.ndarray, hbm_format: HbmFormat) -> Comparison:
    """Compare every element of `actual` with `golden` (same shape; ValueError otherwise)."""
    actual, golden = np.asarray(actual), np.asarray(golden)
    if actual.shape != golden.shape:
        raise ValueError(f"output shape {actual.shape} is not the golden's {golden.shape}")
    a, g = actual.astype(np.float64), golden.astype(np.float64)
    with np.errstate(invalid="ignore"):
        error = np.abs(a - g)
    same_infinity = np.isinf(a) & (a == g)
    error = np.where(same_infinity, 0.0, error)
    error = np.where(np.isnan(error), np.inf, error)
    with np.errstate(invalid="ignore"):
        within = error <= RELATIVE_TOLERANCE[hbm_format] * np.maximum(np.abs(g), SMALLEST)
    bad = ~(same_infinity | (within & np.isfinite(g)))
    worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.size else ()
    finite = error[np.isfinite(error)]
    return Comparison(
        elements=int(error.size),
        bad_elements=int(bad.sum()),
        max_abs_error=float(error.max()) if error.size else 0.0,
        mean_abs_error=float(finite.mean()) if finite.size else 0.0,
        worst_index=tuple(int(i) for i in worst),
        actual_at_worst=float(a[worst]) if error.size else 0.0,
        golden_at_worst=float(g[worst]) if error.size else 0.0,
        hbm_format=hbm_format,
    )
