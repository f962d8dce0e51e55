"""Streaming a gemm whose operands do not fit on chip: its blocks, panels and their cost.

C[m, n] = A[m, k] * B'[k, n] (B stored (N, K) or (K, N)) with A and C in VRAM and B in MRAM
is computed block by block:

    for each outer block (of N columns, or of M rows: `m_outer`):   the kernel's grid axis
        for each inner block (the other dimension):
            for each K panel:   load A's m_block x k_panel block (VRAM) and B's
                                n_panel x k_panel panel (MRAM); gemm into the C block,
                                `=` for the first panel, `+=` (accumulate) for the others
            (the kernel's epilogue: bias, store the C block)

With one K panel, the operand of the outer dimension is loaded once per outer block (each of
its blocks once), the other once per C block; with several, both once per C block and K
panel.  `choose_blocking` takes every blocking whose buffers fit (block sizes whole MLEN
tiles dividing M, N and K, either loop order) and keeps the one of least estimated cycles
(`BlockingCost`): the gemms as their instruction forms cost them (`forms.form_cost`: each K
panel after the first costs its lane sum again) plus the operand loads, an approximation of
the target's DMA time.  The C stores, the same for every blocking, are not counted.

Memory: B's panel may take all of MRAM (`panel_tiles`).  Keeping half of it for the next
panel (double buffering) would pay only where a load overlaps the gemms, and on PLENA a DMA
blocks until it is done; a panel of half the tiles means twice the panels, so K is split
sooner (each K panel repeats the lane sum) or A is loaded again for more panels: at 4096 x
4096 x 14336 the estimate doubles at MLEN 256 and 512.  The A block, the C block, the
gemm's scratch and the bias row fit in VRAM below the lowering's staging rows.  When not
even one tile of each fits, the smallest blocking is returned and plena-allocate-memory
reports the buffer that overflows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from plena_mlir.gemm.forms import GemmShape, scratch_shape, select_form
from plena_mlir.ir.addresses import VramLayout
from plena_mlir.memory.staging import vram_staging_rows
from plena_mlir.target import MxFormat, Target

#: Bytes of one HBM line: the unit the DMA moves and the cycle model counts.
LINE_BYTES = 64


@dataclass(frozen=True)
class GemmProblem:
    """C[m, n] = A[m, k] * B'[k, n] on `target`; `bias`: the kernel keeps a row of the C
    block's columns in VRAM beside the blocks."""

    m: int
    n: int
    k: int
    transposed_b: bool
    bias: bool
    target: Target


@dataclass(frozen=True)
class Blocking:
    """Block sizes (elements, whole MLEN tiles dividing the dimension) and the loop order."""

    m_block: int
    """Rows of A and C per block."""
    n_panel: int
    """Columns of B's panel and of the C block."""
    k_panel: int
    """K per panel: the columns of A's block and the rows of B's panel."""
    m_outer: bool
    """The blocks of M are the outer loop (A's block stays while B's panels stream)."""

    def counts(self, problem: GemmProblem) -> tuple[int, int, int]:
        """(blocks of M, panels of N, panels of K)."""
        return (
            problem.m // self.m_block,
            problem.n // self.n_panel,
            problem.k // self.k_panel,
        )

    def gemm_shape(self, problem: GemmProblem, accumulate: bool) -> GemmShape:
        """The shape of one block's gemm over one K panel."""
        return GemmShape(self.m_block, self.n_panel, self.k_panel, problem.transposed_b, accumulate)

    def a_loads(self, problem: GemmProblem) -> int:
        """How many A blocks are loaded: each once (one K panel, M outer), else once for
        every block of C and K panel."""
        m_blocks, n_blocks, k_panels = self.counts(problem)
        once = k_panels == 1 and self.m_outer
        return m_blocks * k_panels * (1 if once else n_blocks)

    def b_loads(self, problem: GemmProblem) -> int:
        """How many B panels are loaded: each once (one K panel, N outer), else once for
        every block of C and K panel."""
        m_blocks, n_blocks, k_panels = self.counts(problem)
        once = k_panels == 1 and not self.m_outer
        return n_blocks * k_panels * (1 if once else m_blocks)


@dataclass(frozen=True)
class BlockingCost:
    """The estimated cycles a blocking spends on its gemms and operand loads."""

    blocking: Blocking
    gemm_cycles: int
    load_cycles: int
    vram_rows: int
    """VRAM rows its buffers take (the blocks, the scratch, a bias row)."""
    mram_tiles: int

    @property
    def cycles(self) -> int:
        return self.gemm_cycles + self.load_cycles


def panel_tiles(target: Target) -> int:
    """The MRAM tiles one panel of B may take: all of MRAM (module docstring)."""
    return target.mram_tiles


def vram_budget(target: Target) -> int:
    """The VRAM rows buffers may take: all but the lowering's staging rows."""
    return target.vram_rows - vram_staging_rows(target)


def blocking_cost(blocking: Blocking, problem: GemmProblem) -> BlockingCost:
    """The estimate of the module docstring, with the memory the blocking takes."""
    target = problem.target
    m_blocks, n_blocks, k_panels = blocking.counts(problem)
    first = select_form(blocking.gemm_shape(problem, False), target)[0]
    gemm = first.cycles
    scratch = [scratch_shape(first.form, blocking.gemm_shape(problem, False), target)]
    if k_panels > 1:
        shape = blocking.gemm_shape(problem, True)
        rest = select_form(shape, target)[0]
        gemm += (k_panels - 1) * rest.cycles
        scratch.append(scratch_shape(rest.form, shape, target))
    m_block, n_panel, k_panel = blocking.m_block, blocking.n_panel, blocking.k_panel
    vram = _vram_rows(m_block, k_panel, target) + _vram_rows(m_block, n_panel, target)
    vram += max(_vram_rows(*shape, target) if shape else 0 for shape in scratch)
    if problem.bias:
        vram += _vram_rows(1, n_panel, target)
    tiles = (n_panel // target.mlen) * (k_panel // target.mlen)
    loads = blocking.a_loads(problem) * _vram_load_cycles(m_block, k_panel, target)
    loads += blocking.b_loads(problem) * tiles * _tile_load_cycles(target)
    return BlockingCost(blocking, m_blocks * n_blocks * gemm, loads, vram, tiles)


def choose_blocking(
    problem: GemmProblem, m_block: int = 0, n_panel: int = 0, k_panel: int = 0
) -> Blocking:
    """The blocking of least estimated cycles whose buffers fit (module docstring); a size
    given (not 0) is kept as it is.  M, N and K must be whole MLEN tiles; ValueError naming
    the size for a given size that is not whole tiles dividing its dimension."""
    target = problem.target
    forced = {"m_block": m_block, "n_panel": n_panel, "k_panel": k_panel}
    dims = {"m_block": problem.m, "n_panel": problem.n, "k_panel": problem.k}
    for name, size in forced.items():
        if size and (size < 0 or size % target.mlen or dims[name] % size):
            raise ValueError(
                f"{name} ({size}) must be a multiple of MLEN = {target.mlen} that divides "
                f"{name[0].upper()} ({dims[name]})"
            )
    choices = [
        [size] if size else _tile_divisors(dims[name], target.mlen) for name, size in forced.items()
    ]
    costs = [
        blocking_cost(Blocking(mb, nb, kb, m_outer), problem)
        for mb in choices[0]
        for nb in choices[1]
        for kb in choices[2]
        for m_outer in (False, True)
    ]
    fitting = [
        c
        for c in costs
        if c.mram_tiles <= panel_tiles(target) and c.vram_rows <= vram_budget(target)
    ]
    if not fitting:  # one tile of each (or a given size) does not fit: allocation says which
        return Blocking(*(size or target.mlen for size in forced.values()), m_outer=False)
    return min(fitting, key=_preference).blocking


def _preference(cost: BlockingCost) -> tuple:
    """Least cycles; on a tie the fewest blocks, then N outer."""
    b = cost.blocking
    return (cost.cycles, -(b.m_block * b.n_panel * b.k_panel), b.m_outer)


@cache
def _tile_divisors(size: int, tile: int) -> list[int]:
    """The multiples of `tile` dividing `size` (a multiple of it), largest first."""
    tiles = size // tile
    return [d * tile for d in range(tiles, 0, -1) if tiles % d == 0]


def _vram_rows(rows: int, cols: int, target: Target) -> int:
    return VramLayout(rows, cols, target.vlen, target.blen).units


def _line_cycles(lines: int, target: Target) -> int:
    return math.ceil(lines * LINE_BYTES / target.dma_bytes_per_cycle)


def _row_lines(elements: int, fmt: MxFormat) -> int:
    """HBM lines one row of `elements` MX-packed elements touches (elements and scales)."""
    element_bytes = elements * fmt.elem_bits // 8
    scale_bytes = -(-elements // fmt.block) * fmt.scale_exp // 8 if fmt.block else 0
    return -(-element_bytes // LINE_BYTES) + -(-scale_bytes // LINE_BYTES)


def _vram_load_cycles(rows: int, cols: int, target: Target) -> int:
    """H_PREFETCH_V time of a rows x cols block: one DMA per row group and VLEN columns."""
    group = min(rows, target.hbm_v_prefetch_rows)
    lines = group * _row_lines(target.vlen, target.hbm_v_act_format)
    dmas = -(-rows // group) * -(-cols // target.vlen)
    return dmas * (target.dma_startup_cycles + _line_cycles(lines, target))


def _tile_load_cycles(target: Target) -> int:
    """H_PREFETCH_M time of one MLEN x MLEN tile."""
    lines = target.mlen * _row_lines(target.mlen, target.hbm_m_weight_format)
    return target.dma_startup_cycles + _line_cycles(lines, target)
