"""`linear` with forced block sizes (`m_block`, `n_panel`, `k_panel`): run block by block,
or refused when a forced panel does not fit (test_linear_streaming.py: the sizes chosen).

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
from plena_mlir.kernels.spec import KernelSizeError
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


def test_weight_bigger_than_mram_in_one_forced_panel_is_refused() -> None:
    spec = all_kernels()["linear"]
    sizes = spec.resolve({"m": 64, "n": 1024, "k": 128, "n_panel": 1024})
    with pytest.raises(DiagnosticException, match="(?i)mram"):
        _compile_for_small_mram(spec, sizes)


@pytest.mark.parametrize("name", ["linear", "linear_no_transpose"])
def test_forced_blocks_on_every_axis(name: str) -> None:
    spec = all_kernels()[name]
    blocks = {"m_block": 64, "n_panel": 128, "k_panel": 64}
    sizes = spec.resolve({"m": 128, "n": 256, "k": 192, **blocks})
    inputs = spec.make_inputs(sizes, np.random.default_rng(4), DEFAULT_TARGET)
    compiled = compile_kernel(spec.build(sizes))
    outputs, _ = run_kernel(compiled, inputs, "mxfp8")
    result = compare(
        outputs["c"], spec.golden(inputs, sizes, DEFAULT_TARGET, "mxfp8")["c"], "mxfp8"
    )
    assert result.passed, result.describe()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"n": 192, "n_panel": 128},
            r"n_panel \(128\) must be a multiple of MLEN = 64 that "
            r"divides N \(192\)",
        ),
        ({"k_panel": 96}, r"k_panel \(96\) must be a multiple of MLEN = 64"),
        ({"m_block": -64}, r"m_block \(-64\)"),
    ],
)
def test_block_sizes_that_are_not_whole_dividing_tiles_are_size_errors(overrides, message):
    spec = all_kernels()["linear"]
    with pytest.raises(KernelSizeError, match=message):
        spec.build(spec.resolve(overrides))
