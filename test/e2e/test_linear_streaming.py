"""`linear` with operands larger than the on-chip memories: streamed block by block.

`SMALL` is plena-tvm with MRAM cut to 4 tiles and VRAM to 1024 rows (a Target object: the
kernel records it as #plena.target with the overrides), so a 256 x 256 weight is 4 times
MRAM and 1024 x 256 activations 4 times VRAM.  The kernel streams B through MRAM in panels
and A through VRAM in row blocks, each C block accumulating over the K panels; every
element must match the golden.  The 4096 x 4096 x 14336 projection (m = 4096 tokens) must
compile at every preset, quickly and without unrolling its blocks.
"""

import numpy as np
import pytest
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.gemm.streaming import GemmProblem, choose_blocking
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel
from plena_mlir.target import PLENA_TVM, PRESETS, Target

SMALL = PLENA_TVM.with_overrides(mram_rows=4 * PLENA_TVM.mlen, vram_rows=1024)
KERNELS = ["linear", "linear_no_transpose"]


def _check(name: str, overrides: dict, target: Target, hbm_format: str) -> None:
    spec = all_kernels()[name]
    sizes = spec.resolve(overrides, target)
    compiled = compile_kernel(spec.build(sizes, target))
    assert compiled.target == target
    inputs = spec.make_inputs(sizes, np.random.default_rng(5), target)
    outputs, _ = run_kernel(compiled, inputs, hbm_format)
    result = compare(outputs["c"], spec.golden(inputs, sizes, target, hbm_format)["c"], hbm_format)
    assert result.passed, result.describe()


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("k", [256, 512], ids=["one-k-panel", "k-panels-accumulate"])
def test_operands_larger_than_the_memories_stream_exactly(name: str, k: int, hbm_format: str):
    m, n = 1024, 256
    tile, vram_rows = SMALL.mlen, SMALL.vram_rows
    assert n * k >= 4 * SMALL.mram_tiles * tile * tile  # the weight: 4 (8) x MRAM
    assert m * k >= 4 * vram_rows * SMALL.vlen  # the activations: 4 (8) x VRAM
    problem = GemmProblem(m, n, k, name == "linear", True, SMALL)
    m_blocks, n_blocks, k_panels = choose_blocking(problem).counts(problem)
    assert m_blocks > 1 and n_blocks > 1 and k_panels == k // 256
    _check(name, {"m": m, "n": n, "k": k}, SMALL, hbm_format)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_a_4096_x_4096_x_14336_projection_compiles_at_every_preset(preset: str):
    spec = all_kernels()["linear"]
    target = PRESETS[preset]
    sizes = spec.resolve({"m": 4096, "k": 4096, "n": 14336}, target)
    compiled = compile_kernel(spec.build(sizes, target))
    assert len(compiled.program) < 1000  # the blocks are loops, not unrolled


def test_when_not_one_tile_fits_allocation_names_the_buffer():
    tiny = PLENA_TVM.with_overrides(vram_rows=256)
    spec = all_kernels()["linear"]
    with pytest.raises(DiagnosticException, match="does not fit in VRAM"):
        compile_kernel(spec.build(spec.resolve({}, tiny), tiny))
