"""A timing-only run gives exactly the statistics of a full run -- cycles, instructions, every
opcode's count, every class's cycles, HBM bytes: every kernel of the library and every chain
at its default sizes, on every target preset it compiles for (plena-tvm and plena-tvm-blen4
must), with mxfp8 HBM (and fp32 HBM on plena-tvm)."""

import numpy as np
import pytest
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.chains import all_chains
from plena_mlir.driver.run import SimOptions, run_chain, run_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel, link_chain
from plena_mlir.target import PRESETS

#: Presets every kernel and chain compiles for (the others are tried, and skipped where not).
MUST_COMPILE = ("plena-tvm", "plena-tvm-blen4")

LIBRARY = {**all_kernels(), **all_chains()}

CASES = [
    pytest.param(name, preset, hbm_format, id=f"{name}-{preset}-{hbm_format}")
    for preset in PRESETS
    for name in LIBRARY
    for hbm_format in (("mxfp8", "fp32") if preset == "plena-tvm" else ("mxfp8",))
]


@pytest.mark.parametrize("name, preset, hbm_format", CASES)
def test_timing_only_statistics_are_the_full_runs(name, preset, hbm_format):
    spec, target = LIBRARY[name], PRESETS[preset]
    is_chain = name in all_chains()
    try:
        sizes = spec.resolve({}, target)
        module = spec.build(sizes, target)
        compiled = link_chain(module) if is_chain else compile_kernel(module)
    except (ValueError, DiagnosticException) as e:
        if preset in MUST_COMPILE:
            raise
        pytest.skip(f"{name} does not compile for {preset} yet: {str(e).splitlines()[0]}")
    inputs = spec.make_inputs(sizes, np.random.default_rng(0), target)
    timing = SimOptions(timing_only=True)
    if is_chain:
        full, fast = (run_chain(compiled, inputs, hbm_format, options)
                      for options in (None, timing))
        assert fast.stage_stats == full.stage_stats
        full_stats, fast_stats = full.stats, fast.stats
    else:
        (_, full_stats), (outputs, fast_stats) = (
            run_kernel(compiled, inputs, hbm_format, options) for options in (None, timing)
        )
        assert outputs == {}
    assert full_stats.instructions > 0
    assert fast_stats == full_stats
