"""`linear`: C = A·Bᵀ + bias (B stored (N, K) as nn.Linear stores it), or C = A·B + bias.

M, N and K are whole MLEN tiles; the operands may be larger than the on-chip memories.  They
stream block by block (`plena_mlir.gemm.streaming`): B through MRAM in panels of
n_panel x k_panel, A through VRAM in blocks of m_block x k_panel rows, and each m_block x
n_panel block of C stays in VRAM while it accumulates over the K panels (one `tile.gemm`
per panel: `=` for the first, `+=` for the others); then the bias row is added to each of
its rows and it is stored.

    grid axis over the outer blocks (`panel` over N, or `block` over M: whichever order
    costs less), each program instance:
        load the outer dimension's operand (with one K panel)
        for each inner block (scf.for; none when there is one):
            load the inner dimension's operand (with one K panel)
            for each K panel (the first, then an scf.for over the others):
                load A's block and B's panel;  C block (+)= A block · B panel
            C block += bias row;  store it

With one K panel, the operand of the outer dimension is loaded once per instance and the
other once per C block; with several, both for every K panel.  plena-select-gemm tiles each
gemm over M, N and K tiles and picks its instruction form (the lane-paired M_BTMM / M_BMM
with a lane sum for these sizes).

The block sizes are chosen from the target's memory sizes (`choose_blocking`: the least
estimated cycles among the blockings whose buffers fit); `m_block`, `n_panel` and `k_panel`
force one (0: chosen).  When everything fits, there is one block of each: load A, load B,
one gemm, the bias, the store.
"""

from collections.abc import Iterator, Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import Index, KernelBuilder, Tensor
from plena_mlir.gemm.forms import select_form
from plena_mlir.gemm.results import gemm_result
from plena_mlir.gemm.streaming import Blocking, GemmProblem, choose_blocking
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM = MemorySpace.VRAM


def blocking(
    m: int,
    n: int,
    k: int,
    bias: bool,
    transpose_b: bool,
    target: Target,
    m_block: int = 0,
    n_panel: int = 0,
    k_panel: int = 0,
) -> tuple[GemmProblem, Blocking]:
    """The problem and its blocking (module docstring); ValueError for sizes that are not
    whole tiles."""
    tile = target.mlen
    if min(m, n, k) <= 0 or m % tile or n % tile or k % tile:
        raise ValueError(
            f"linear: M, N, K ({m}, {n}, {k}) must be multiples of {tile}, one tile at least"
        )
    problem = GemmProblem(m, n, k, transpose_b, bias, target)
    try:
        return problem, choose_blocking(problem, m_block, n_panel, k_panel)
    except ValueError as error:
        raise ValueError(f"linear: {error}") from None


def build(
    m: int | None = None,
    n: int | None = None,
    k: int | None = None,
    bias: bool = True,
    transpose_b: bool = True,
    m_block: int = 0,
    n_panel: int = 0,
    k_panel: int = 0,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    """The tile IR on `target` (M, N or K not given takes its default there)."""
    given = {"m": m, "n": n, "k": k}
    defaults = default_sizes(target)
    m, n, k = (defaults[name] if size is None else size for name, size in given.items())
    problem, plan = blocking(m, n, k, bias, transpose_b, target, m_block, n_panel, k_panel)
    m_blocks, n_blocks, _ = plan.counts(problem)
    grid = {"block": m_blocks} if plan.m_outer else {"panel": n_blocks}
    with KernelBuilder("linear", grid=grid, target=target) as kb:
        a = kb.tensor("a", (m, k))
        b = kb.tensor("b", (n, k) if transpose_b else (k, n))
        bias_vector = kb.tensor("bias", (n,)) if bias else None
        c = kb.tensor("c", (m, n))
        _Streaming(kb, problem, plan, a, b, bias_vector, c).emit()
    return kb.module


class _Streaming:
    """The loop nest of the module docstring, built into `kb`: the outer blocks are the
    grid axis (`block` over M or `panel` over N), the inner ones and the K panels after
    the first `scf.for`s."""

    def __init__(
        self,
        kb: KernelBuilder,
        problem: GemmProblem,
        plan: Blocking,
        a: Tensor,
        b: Tensor,
        bias: Tensor | None,
        c: Tensor,
    ):
        self.kb, self.problem, self.plan = kb, problem, plan
        self.a, self.b, self.bias, self.c = a, b, bias, c
        mb, nb, kp = plan.m_block, plan.n_panel, plan.k_panel
        m_blocks, n_blocks, self.k_panels = plan.counts(problem)
        self.outer, axis = ("m", "block") if plan.m_outer else ("n", "panel")
        self.inner = "n" if plan.m_outer else "m"
        self.outer_offset = kb.axis(axis) * (mb if plan.m_outer else nb)
        self.inner_blocks, self.inner_size = (n_blocks, nb) if plan.m_outer else (m_blocks, mb)
        transposed = problem.transposed_b
        self.a_block = kb.alloc((mb, kp), name="a_block")
        self.b_panel = kb.alloc((nb, kp) if transposed else (kp, nb), "mram", name="b_panel")
        self.acc = kb.alloc((mb, nb), name="acc")

    def emit(self) -> None:
        """The outer block's loads, the inner loop, each C block."""
        inner_loads = self.k_panels == 1 and self.inner_blocks > 1
        offsets = {self.outer: self.outer_offset, self.inner: 0}
        if self.k_panels == 1:
            self._load_operands(offsets, inner=not inner_loads)
        if self.inner_blocks == 1:
            self._block(offsets)
            return
        if self.bias is not None and self.outer == "n":
            self._load_bias(offsets)
        for inner in self._offsets(self.inner_blocks, self.inner_size, self.inner):
            offsets[self.inner] = inner
            if inner_loads:
                self._load_operands(offsets, inner=True, outer=False)
            self._block(offsets)

    def _load_operands(
        self, offsets: dict, k0: int | Index = 0, inner: bool = True, outer: bool = True
    ) -> None:
        """Load A's block and B's panel at the offsets (those of the outer or inner
        dimension only), A first."""
        for dim, load in (("m", self._load_a), ("n", self._load_b)):
            if (outer and dim == self.outer) or (inner and dim == self.inner):
                load(offsets, k0)

    def _offsets(self, count: int, size: int, name: str, first: int = 0) -> Iterator:
        """The offsets of `count` blocks of `size` from `first`: an scf.for's index, or the
        one offset when count is 1."""
        if count == 1:
            yield first
        else:
            yield from self.kb.range(first, first + count * size, size, name=f"{name}0")

    def _load_a(self, offsets: dict, k0: int | Index) -> None:
        self.kb.copy(self.a[offsets["m"], k0], self.a_block)

    def _load_b(self, offsets: dict, k0: int | Index) -> None:
        n0 = offsets["n"]
        self.kb.copy(self.b[n0, k0] if self.problem.transposed_b else self.b[k0, n0], self.b_panel)

    def _load_bias(self, offsets: dict) -> None:
        self.bias_row = self.kb.alloc((1, self.plan.n_panel), name="bias_row")
        self.kb.copy(self.bias[offsets["n"]], self.bias_row)

    def _gemm(self, accumulate: bool) -> None:
        roles = "mk,nk->mn" if self.problem.transposed_b else "mk,kn->mn"
        self.kb.gemm(self.acc, self.a_block, self.b_panel, roles, accumulate)

    def _k_panel(self, offsets: dict, k0: int | Index) -> None:
        """Load the K panel at k0 of A's block and B's panel; C block (+)= their product."""
        self._load_operands(offsets, k0)
        self._gemm(accumulate=not (isinstance(k0, int) and k0 == 0))

    def _block(self, offsets: dict) -> None:
        """One C block: its K panels, the bias, the store."""
        if self.k_panels == 1:
            self._gemm(accumulate=False)
        else:
            self._k_panel(offsets, 0)
            size = self.plan.k_panel
            for k0 in self._offsets(self.k_panels - 1, size, "k", first=size):
                self._k_panel(offsets, k0)
        if self.bias is not None:
            if self.outer != "n" or self.inner_blocks == 1:
                self._load_bias(offsets)
            self.acc += self.bias_row
        self.kb.copy(self.acc, self.c[offsets["m"], offsets["n"]])


def golden(
    inputs: Mapping[str, np.ndarray],
    transpose_b: bool = True,
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
    m_block: int = 0,
    n_panel: int = 0,
    k_panel: int = 0,
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 A, f32 B (MRAM is not rounded); per C block, the product
    of each K panel as the form plena-select-gemm picks computes it (`gemm_result`: the lane
    partials rounded to bf16 and summed in bf16), the panels after the first added to the
    block in bf16; plus the bf16 bias, rounded to bf16."""
    num = Numerics("rounded", target, hbm_format)
    a = num.store(VRAM, num.hbm_input(inputs["a"]))
    b = num.hbm_input(inputs["b"])
    (m, k), n = a.shape, b.shape[0] if transpose_b else b.shape[1]
    problem, plan = blocking(
        m, n, k, "bias" in inputs, transpose_b, target, m_block, n_panel, k_panel
    )
    c = np.empty((m, n), np.float32)
    for m0 in range(0, m, plan.m_block):
        for n0 in range(0, n, plan.n_panel):
            c[m0 : m0 + plan.m_block, n0 : n0 + plan.n_panel] = _block_result(
                a[m0 : m0 + plan.m_block], b, n0, problem, plan
            )
    if "bias" in inputs:
        c = num.store(VRAM, c + num.store(VRAM, num.hbm_input(inputs["bias"])))
    return {"c": num.store("hbm", c)}


def _block_result(
    a_rows: np.ndarray, b: np.ndarray, n0: int, problem: GemmProblem, plan: Blocking
) -> np.ndarray:
    """One C block: A's rows times B's columns n0.., accumulated over the K panels."""
    transposed, target = problem.transposed_b, problem.target
    columns = slice(n0, n0 + plan.n_panel)
    block = None
    for k0 in range(0, problem.k, plan.k_panel):
        depth = slice(k0, k0 + plan.k_panel)
        panel = b[columns, depth] if transposed else b[depth, columns]
        form = select_form(plan.gemm_shape(problem, block is not None), target)[0].form
        block = gemm_result(form, a_rows[:, depth], panel, transposed, target, c=block)
    return block


def _inputs(sizes: Mapping[str, int], rng: np.random.Generator, transpose_b: bool):
    m, n, k = sizes["m"], sizes["n"], sizes["k"]
    inputs = {
        "a": rng.standard_normal((m, k)).astype(np.float32),
        "b": rng.standard_normal((n, k) if transpose_b else (k, n)).astype(np.float32),
    }
    if sizes["bias"]:
        inputs["bias"] = rng.standard_normal(n).astype(np.float32)
    return inputs


#: Sizes that force a blocking, 0: chosen from the target's memories.
BLOCK_SIZES = ("m_block", "n_panel", "k_panel")


def default_sizes(target: Target) -> dict[str, int]:
    """Two tiles on each of M, N and K (128 on plena-tvm), with a bias, blocks chosen."""
    tiles = 2 * target.mlen
    return {"m": tiles, "n": tiles, "k": tiles, "bias": True} | dict.fromkeys(BLOCK_SIZES, 0)


def sizes_to_test(target: Target) -> tuple[dict[str, int], ...]:
    """One tile without a bias; 4 x 8 x 8 tiles; N of 3 tiles; N of 4 tiles in 2 forced
    panels (on plena-tvm the sizes the published compiler tests)."""
    t = target.mlen
    return (
        {"m": t, "n": t, "k": t, "bias": False},
        {"m": 4 * t, "n": 8 * t, "k": 8 * t},
        {"m": t, "n": 3 * t, "k": 2 * t},
        {"m": t, "n": 4 * t, "k": 2 * t, "n_panel": 2 * t},
    )


def _spec(name: str, summary: str, transpose_b: bool) -> KernelSpec:
    return KernelSpec(
        name=name,
        summary=summary,
        sizes=default_sizes,
        build_module=lambda **s: build(**s, transpose_b=transpose_b),
        make_inputs=lambda sizes, rng, target: _inputs(sizes, rng, transpose_b),
        golden=lambda inputs, sizes, target, fmt: golden(
            inputs, transpose_b, target, fmt, *(sizes[s] for s in BLOCK_SIZES)
        ),
        test_sizes=sizes_to_test,
    )


SPECS = (
    _spec("linear", "C = A·Bᵀ + bias, B stored (N, K) like nn.Linear's weight", True),
    _spec("linear_no_transpose", "C = A·B + bias, B stored (K, N)", False),
)
