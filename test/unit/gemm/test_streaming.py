"""gemm/streaming.py: the blocking of a gemm larger than the on-chip memories."""

import pytest

from plena_mlir.gemm.streaming import (
    Blocking,
    GemmProblem,
    blocking_cost,
    choose_blocking,
    panel_tiles,
    vram_budget,
)
from plena_mlir.target import PLENA_TVM, PRESETS


def test_operands_that_fit_are_one_block_each():
    problem = GemmProblem(256, 512, 512, True, True, PLENA_TVM)
    assert choose_blocking(problem).counts(problem) == (1, 1, 1)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_the_blocking_of_a_big_projection_fits_the_memories(preset: str):
    target = PRESETS[preset]
    problem = GemmProblem(4096, 14336, 4096, True, True, target)
    cost = blocking_cost(choose_blocking(problem), problem)
    assert cost.mram_tiles <= panel_tiles(target)
    assert cost.vram_rows <= vram_budget(target)


def test_loads_follow_the_loop_order():
    problem = GemmProblem(256, 256, 128, True, False, PLENA_TVM)
    m_outer = Blocking(64, 64, 128, m_outer=True)  # 4 x 4 blocks, one K panel
    assert (m_outer.a_loads(problem), m_outer.b_loads(problem)) == (4, 16)
    n_outer = Blocking(64, 64, 128, m_outer=False)
    assert (n_outer.a_loads(problem), n_outer.b_loads(problem)) == (16, 4)
    k_panels = Blocking(64, 64, 64, m_outer=True)  # both reloaded for each K panel
    assert (k_panels.a_loads(problem), k_panels.b_loads(problem)) == (32, 32)


def test_forced_sizes_are_kept():
    problem = GemmProblem(256, 256, 256, True, True, PLENA_TVM)
    blocking = choose_blocking(problem, m_block=128, k_panel=64)
    assert (blocking.m_block, blocking.k_panel) == (128, 64)


def test_when_nothing_fits_the_smallest_blocking_is_left_to_allocation():
    tiny = PLENA_TVM.with_overrides(vram_rows=256)
    problem = GemmProblem(256, 256, 256, True, True, tiny)
    blocking = choose_blocking(problem)
    assert (blocking.m_block, blocking.n_panel, blocking.k_panel) == (64, 64, 64)


def test_a_forced_size_that_does_not_divide_is_refused():
    problem = GemmProblem(256, 192, 256, True, True, PLENA_TVM)
    with pytest.raises(ValueError, match=r"n_panel \(128\) must be a multiple of MLEN = 64"):
        choose_blocking(problem, n_panel=128)
