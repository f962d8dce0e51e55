"""The golden comparison: the tolerance per HBM format, and no false PASS from non-finite
values (a NaN never matches; an infinity matches only the same infinity)."""

import numpy as np
import pytest

from plena_mlir.driver.compare import compare

NAN, INF = np.nan, np.inf


@pytest.mark.parametrize(
    "actual, golden, passed",
    [
        (1.0, 1.0, True),
        (1.0 + 2.0**-6, 1.0, True),  # within 4 bf16 ulps
        (1.1, 1.0, False),
        (1.0, NAN, False),  # a NaN golden (e.g. a buffer read before it is written)
        (NAN, 1.0, False),
        (NAN, NAN, False),  # a NaN is never a match
        (INF, INF, True),
        (-INF, -INF, True),
        (-INF, INF, False),
        (1e30, INF, False),
        (INF, 1e30, False),
    ],
)
def test_non_finite_values_never_pass_by_accident(actual, golden, passed):
    result = compare(np.array([actual]), np.array([golden]), "fp32")
    assert result.passed is passed
    assert result.bad_elements == (0 if passed else 1)


def test_one_bad_element_among_many_is_named():
    golden = np.ones((4, 8), np.float32)
    actual = golden.copy()
    actual[2, 5] = NAN
    result = compare(actual, golden, "mxfp8")
    assert not result.passed and result.bad_elements == 1
    assert result.worst_index == (2, 5)
    assert "1 differ of 32 elements" in result.describe()


def test_mxfp8_tolerance_is_one_e4m3_step():
    assert compare(np.array([1.0 + 2.0**-4]), np.array([1.0]), "mxfp8").passed
    assert not compare(np.array([1.0 + 2.0**-2]), np.array([1.0]), "mxfp8").passed


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="output shape"):
        compare(np.zeros(3), np.zeros(4), "fp32")
