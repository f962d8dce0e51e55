"""Every library kernel and chain at every target preset, fp32 and mxfp8 HBM, every element.

Each case builds the kernel for the preset at the preset's default sizes (the smallest that
exercise its tiling there), compiles, simulates and compares every output with the golden,
as `plena-run KERNEL --target PRESET` does.  plena-tvm itself is covered, at more sizes, by
test_kernel_library.py and test_ssb.py.

The whole matrix is marked `geometry` and left out of the default run (its MLEN 1024 cases
simulate 1024-wide rows); `pytest -m geometry` runs it.  The default run keeps one case per
preset (`DEFAULT_RUN`), so every configuration is exercised on every commit.
"""

import pytest

from plena_mlir.chains import all_chains
from plena_mlir.driver.chain_check import run_library_chain
from plena_mlir.driver.kernel_check import run_library_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.target import DEFAULT_TARGET, PRESETS

OTHER_PRESETS = [name for name in PRESETS if name != DEFAULT_TARGET.name]

#: The case of each preset the default run keeps: the streamed gemm at MLEN 1024, heads packed
#: into lanes at 512, the whole SingleStreamBlock at 256 and attention at BLEN 4.
DEFAULT_RUN = {
    "plena-tvm-mlen1024": "linear",
    "plena-tvm-mlen512": "rmsnorm",
    "plena-tvm-mlen256": "ssb",
    "plena-tvm-blen4": "flash_attention",
}


def _case(program: str, preset: str):
    marks = () if DEFAULT_RUN.get(preset) == program else (pytest.mark.geometry,)
    return pytest.param(program, preset, marks=marks, id=f"{program}-{preset}")


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize(
    "kernel, preset", [_case(k, p) for k in all_kernels() for p in OTHER_PRESETS]
)
def test_kernel_at_preset(kernel: str, preset: str, hbm_format: str):
    report = run_library_kernel(all_kernels()[kernel], target=preset, hbm_format=hbm_format)
    assert report.passed, report.format_text()


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize(
    "chain, preset", [_case(c, p) for c in all_chains() for p in OTHER_PRESETS]
)
def test_chain_at_preset(chain: str, preset: str, hbm_format: str):
    report = run_library_chain(all_chains()[chain], target=preset, hbm_format=hbm_format)
    assert report.passed, report.format_text()


def test_every_preset_has_a_case_in_the_default_run():
    assert set(DEFAULT_RUN) == set(OTHER_PRESETS)
    assert set(DEFAULT_RUN.values()) <= set(all_kernels()) | set(all_chains())
