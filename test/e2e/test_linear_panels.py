"""`linear` with a weight bigger than MRAM: run panel by panel (`n_panel`), or refused.

The target is plena-tvm with MRAM cut to 16 tiles (64 K elements), so a 128 x 1024 weight
(128 K elements) does not fit whole.
"""

import numpy as np
import pytest
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr
from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel
from plena_mlir.target import DEFAULT_TARGET

SMALL_MRAM = {"mram_rows": IntegerAttr(16 * 64, i64)}


def _compile_for_small_mram(spec, sizes):
    module = spec.build(sizes)
    module.attributes[TARGET_ATTR_NAME] = TargetAttr("plena-tvm", SMALL_MRAM)
    return compile_kernel(module)


@pytest.mark.parametrize("name", ["linear", "linear_no_transpose"])
def test_weight_bigger_than_mram_runs_in_panels(name: str) -> None:
    spec = all_kernels()[name]
    sizes = spec.resolve({"m": 64, "n": 1024, "k": 128, "n_panel": 256})
    inputs = spec.make_inputs(sizes, np.random.default_rng(3), DEFAULT_TARGET)
    compiled = _compile_for_small_mram(spec, sizes)
    outputs, _ = run_kernel(compiled, inputs, "mxfp8")
    result = compare(
        outputs["c"], spec.golden(inputs, sizes, compiled.target, "mxfp8")["c"], "mxfp8"
    )
    assert result.passed, result.describe()


def test_weight_bigger_than_mram_in_one_panel_is_refused() -> None:
    spec = all_kernels()["linear"]
    sizes = spec.resolve({"m": 64, "n": 1024, "k": 128})
    with pytest.raises(DiagnosticException, match="(?i)mram"):
        _compile_for_small_mram(spec, sizes)


def test_panel_that_does_not_divide_n_is_a_size_error() -> None:
    spec = all_kernels()["linear"]
    with pytest.raises(ValueError, match="n_panel"):
        spec.build(spec.resolve({"n": 192, "n_panel": 128}))
