"""The instruction forms that compute a `tile.gemm` or one lane of a `lane.gemm`, their cycle
cost, and the choice.

A gemm C[m, n] (+)= sum_k A[m, k] * B'[k, n] has A in VRAM (rows m, columns k), C in VRAM
(rows m, columns n) and B in MRAM, either as (K, N) ("kn") or as (N, K) ("nk", nn.Linear's
weight: B' = B^T).  M = MLEN, Bl = BLEN, L = MLEN / HLEN lanes, kt = K / M tiles of K.

| form              | B  | per step                                       | accumulator       |
|-------------------|----|------------------------------------------------|-------------------|
| M_MM              | kn | Bl rows x Bl columns, one K tile (M cycles)    | m_accum, M_MM_WO  |
| M_TMM             | nk | as M_MM, B read transposed                     | m_accum, M_MM_WO  |
| M_MV              | kn | one row x Bl columns (M cycles)                | v_accum, M_MV_WO  |
| M_BMM+lane-sum    | kn | M rows x M columns, one K tile (M cycles)      | hm_accum          |
| M_BTMM+lane-sum   | nk | as M_BMM+lane-sum, B read transposed           | hm_accum          |
| M_BTMV+lane-sum   | nk | one row x M columns, one K tile (1 cycle)      | hv_accum          |

The lane-sum forms use the lane-paired batched unit as a plain GEMM: lane l contracts only
the columns l*H .. l*H+H-1 of every K tile, so one M_BTMM / M_BMM yields L partial products
(accumulated in f32 over the K tiles); M_BMM_WO / M_BMV_WO writes them to a VRAM scratch
(L slabs, each rounded to bf16) and L-1 V_ADD_VV per row sum them into C:

    C[r] = bf16(bf16(bf16(P0[r] + P1[r]) + P2[r]) + P3[r])        (+= : C[r] + P0[r] + ...)

One lane of a `lane.gemm` is such a gemm on the lane's operands (lowering/lane/matrix.py):
its N may be a head's H columns (a col_pack C), and the lane-sum forms then merge the sum into
those columns under V_MASK (two more adds a row without `+=`; `packed_c`).

Not used: M_TMV (it reads only rows 0 .. Bl-1 of a tile-aligned tile, so N <= Bl), M_TMM_A
(plena-tvm runs it as M_MM: A cannot be read transposed), M_BMV (aborts on plena-tvm).  A
transposed A ("km") or C ("nm") has no instruction: `GemmFormError`.

Cost model (cycles, plena-isa.md 8.1 with the target's latencies): every matrix instruction
at its latency, write-outs 1 cycle, vector adds at VECTOR_ADD_CYCLES, plus the scalar
instructions the lowering (plena_mlir/lowering/tile/gemm.py) spends stepping addresses: 2 per
matrix instruction and write-out, and L + 1 per lane-sum row (C and the L slab rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from plena_mlir.target import Target


class GemmFormError(ValueError):
    """A gemm no instruction form computes (the reason is the message)."""


class Form(Enum):
    """An instruction form; the value is how IR attributes and reports name it."""

    MM = "M_MM"
    TMM = "M_TMM"
    MV = "M_MV"
    BMM_LANE_SUM = "M_BMM+lane-sum"
    BTMM_LANE_SUM = "M_BTMM+lane-sum"
    BTMV_LANE_SUM = "M_BTMV+lane-sum"

    @property
    def transposed_b(self) -> bool:
        """Whether the form reads B stored (N, K)."""
        return self in (Form.TMM, Form.BTMM_LANE_SUM, Form.BTMV_LANE_SUM)

    @property
    def lane_sum(self) -> bool:
        return self in (Form.BMM_LANE_SUM, Form.BTMM_LANE_SUM, Form.BTMV_LANE_SUM)

    @property
    def matrix_instruction(self) -> str:
        """The matrix instruction: how a `lane.gemm`'s `via` names the form."""
        return self.value.split("+")[0]

    @classmethod
    def of_instruction(cls, name: str) -> Form:
        """The form whose matrix instruction is `name`; ValueError for none."""
        for form in cls:
            if form.matrix_instruction == name:
                return form
        raise ValueError(f"no instruction form computes a gemm with {name} on plena-tvm")


@dataclass(frozen=True)
class GemmShape:
    """C[m, n] (+)= A[m, k] * B'[k, n]; `transposed_b`: B is stored (N, K).  `packed_c`: C
    is one lane of a col_pack buffer (a per-lane `lane.gemm`), so the lane sum and the `+=`
    adds merge into its columns under V_MASK."""

    m: int
    n: int
    k: int
    transposed_b: bool
    accumulate: bool = False
    packed_c: bool = False


@dataclass(frozen=True)
class FormCost:
    """The instructions and cycles one form spends on a gemm."""

    form: Form
    matrix_ops: int
    write_outs: int
    vector_adds: int
    cycles: int

    def describe(self) -> str:
        """e.g. "8 M_BTMM x 64 + 4 write-outs + 768 adds: ~2124 cycles"."""
        parts = [f"{self.matrix_ops} {self.form.matrix_instruction}"]
        if self.write_outs:
            parts.append(f"{self.write_outs} write-outs")
        if self.vector_adds:
            parts.append(f"{self.vector_adds} lane adds")
        return f"{self.form.value} ({' + '.join(parts)}): ~{self.cycles} cycles"


def parse_roles(a_roles: str, b_roles: str, c_roles: str) -> bool:
    """Whether B is transposed (stored (N, K)); GemmFormError for roles no form computes."""
    if a_roles != "mk":
        raise GemmFormError(
            f"A has roles [{', '.join(a_roles)}]: the matrix unit reads A row by row as "
            "[m, k] (M_TMM_A runs as M_MM on plena-tvm, so no instruction reads A transposed)"
        )
    if c_roles != "mn":
        raise GemmFormError(
            f"C has roles [{', '.join(c_roles)}]: every write-out writes C as [m, n]"
        )
    return b_roles == "nk"


def candidate_forms(shape: GemmShape, target: Target, row_blocks: bool = True) -> tuple[Form, ...]:
    """The forms that compute `shape`; none when K is not whole M tiles (every matrix
    instruction contracts a whole MRAM tile, M rows of K).  The lane-sum forms write whole
    M-column tiles of partials, so N is whole tiles or one lane's H columns of a packed C;
    M_MM / M_TMM / M_MV write Bl columns at a time.  `row_blocks`: C may be written Bl rows
    at a time (M_MM_WO), which a lane's C inside a row_stack buffer may not when its rows are
    not a multiple of Bl (the next lane's rows follow)."""
    M, B = target.mlen, target.blen
    if shape.k == 0 or shape.k % M:
        return ()
    whole_partials = shape.n % M == 0 or (shape.packed_c and shape.n == target.hlen)
    column_blocks = shape.n % B == 0
    forms: list[Form] = []
    if column_blocks and row_blocks:
        forms.append(Form.TMM if shape.transposed_b else Form.MM)
    if whole_partials:
        forms += (
            [Form.BTMM_LANE_SUM, Form.BTMV_LANE_SUM] if shape.transposed_b else [Form.BMM_LANE_SUM]
        )
    if column_blocks and shape.m == 1 and not shape.transposed_b:
        forms.append(Form.MV)
    return tuple(forms)


def form_cost(form: Form, shape: GemmShape, target: Target) -> FormCost:
    """The cost model of the module docstring."""
    M, B, L = target.mlen, target.blen, target.lanes
    lat = target.latencies
    systolic = lat["SYSTOLIC_PROCESSING_OVERHEAD"] + M
    add, scalar = lat["VECTOR_ADD_CYCLES"], lat["SCALAR_INT_BASIC_CYCLES"]
    k_tiles, n_tiles = shape.k // M, -(-shape.n // M)
    sums = L - (0 if shape.accumulate else 1)  # adds per lane-sum row
    if shape.packed_c and not shape.accumulate:
        sums += 2  # the masked merge into the lane's columns
    if form in (Form.MM, Form.TMM, Form.MV):
        rows = 1 if form is Form.MV else -(-shape.m // B)
        blocks = rows * (shape.n // B)
        ops, wos = blocks * k_tiles, blocks
        latency = systolic if form is not Form.MV else M
        adds = shape.m * -(-shape.n // target.vlen) if shape.accumulate else 0
        cycles = ops * (latency + 2 * scalar) + wos * (1 + 2 * scalar) + adds * (add + 3 * scalar)
        return FormCost(form, ops, wos, adds, cycles)
    if form is Form.BTMV_LANE_SUM:
        wos = shape.m * n_tiles
        ops = wos * k_tiles
        latency = lat["SYSTOLIC_PROCESSING_OVERHEAD"] + 1
    else:
        wos = -(-shape.m // M) * n_tiles
        ops = wos * k_tiles
        latency = systolic
    adds = shape.m * n_tiles * sums
    cycles = (
        ops * (latency + 2 * scalar)
        + wos * (1 + 2 * scalar)
        + adds * add
        + shape.m * n_tiles * (L + 1) * scalar
    )
    return FormCost(form, ops, wos, adds, cycles)


def select_form(
    shape: GemmShape, target: Target, row_blocks: bool = True
) -> tuple[FormCost, list[FormCost]]:
    """The cheapest form for `shape` and the costs of all candidates (`candidate_forms`),
    cheapest first; GemmFormError when no form computes it."""
    forms = candidate_forms(shape, target, row_blocks)
    if not forms:
        raise GemmFormError(
            f"no instruction form computes a {shape.m} x {shape.n} x {shape.k} (M x N x K) "
            f"gemm: K must be whole {target.mlen}-row MRAM tiles and N whole "
            f"{target.mlen}-column tiles, a lane's {target.hlen} columns of a packed C, or "
            f"(for M_MM / M_TMM / M_MV) a multiple of BLEN = {target.blen}"
        )
    costs = sorted((form_cost(form, shape, target) for form in forms), key=lambda c: c.cycles)
    return costs[0], costs


def scratch_shape(form: Form, shape: GemmShape, target: Target) -> tuple[int, int] | None:
    """The VRAM scratch (rows, columns) the form writes partial products to, if any: the L
    slabs of M rows of M_BMM_WO, the L rows of M_BMV_WO, or C's shape for the m_accum /
    v_accum forms with `accumulate` (the product is written out, then added to C)."""
    M, L = target.mlen, target.lanes
    if form is Form.BTMV_LANE_SUM:
        return (L, M)
    if form.lane_sum:
        return (L * M, M)
    if shape.accumulate:
        return (shape.m, shape.n)
    return None
