"""`rope`: rotary position embedding on interleaved pairs, every head of every row:

    y[s, h, 2i]   = x[s, h, 2i] * cos[s, i] - x[s, h, 2i+1] * sin[s, i]
    y[s, h, 2i+1] = x[s, h, 2i+1] * cos[s, i] + x[s, h, 2i] * sin[s, i]

x and y are rows x (heads * head_dim) (the BSHD tensor [S, H, D] collapsed to [S, H*D]; the
position s is the row).  The published kernel computes y = x (.) COS + (x @ P) (.) SGN_SIN
with P the pair-swap permutation: a gemm, two products and a sum.  Here both products come
first and the gemm does the swap and the sum at once:

    y = [x (.) COS | x (.) SIN] @ R,    R = [I ; P]   (2 MLEN x MLEN)

P is the signed pair swap ((v @ P)[2i] = -v[2i+1], (v @ P)[2i+1] = v[2i]), block diagonal
in 2 x 2 blocks, so it acts on any 64 consecutive columns of a row (pairs never straddle a
VLEN boundary).  Both MLEN x MLEN tiles of R are block diagonal per head, which is what the
lane-paired batched unit (M_BTMM, each lane contracting one head) needs to compute the gemm
as a plain one (plena-select-gemm's lane-sum form).  Per stacked row that is one vector
product on the two halves and the gemm's lane sum: the signed P saves the published sign
table and R the separate sum (at the default sizes 4,093 dynamic instructions against 4,785
for the published formulation on the same pipeline).

Kernel inputs (the host prepares R and the tables, as the published kernel's host does):

- `x`: rows x (heads * head_dim).
- `r`: R stored (N, K) (nn.Linear's layout: r[n, k] = R[k, n]), MLEN x 2 MLEN: the identity
  in columns 0 .. MLEN-1, then r[2i, MLEN + 2i+1] = -1 and r[2i+1, MLEN + 2i] = 1; loaded
  into MRAM (two tiles).
- `cos`, `sin`: rows x W, W = max(VLEN, head_dim): row s holds cos[s, i] (sin[s, i]) at
  columns 2i and 2i+1 of each head, the head repeated W / head_dim times.  That is one VRAM
  row per position, broadcast over the heads on chip: VLEN / head_dim times smaller than the
  published per-(position, head) tables [S, H*D] (head_dim must divide VLEN or VLEN divide
  head_dim).

Each program instance takes `block` rows and stacks the cols / VLEN column blocks of its
rows vertically (column block j at rows j*block ..), so one gemm with one R in MRAM covers
every head:

    a = [x | x] stacked;  cs = [COS | SIN] stacked (the table once per column block)
    a = a * cs;  rotated = a @ R;  y = rotated unstacked

Rounding (the golden): x and the tables are bf16 (the VRAM loads), the products bf16; the
gemm sums x[2i] cos - x[2i+1] sin in f32 (one lane per head; the other lanes' partials are
exactly 0) and writes it as bf16: y = bf16(bf16(x cos) -/+ bf16(x' sin)), as the published
formulation's bf16 sum.  `gemm_result` replays the form plena-select-gemm picks.
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.gemm.forms import GemmShape, select_form
from plena_mlir.gemm.results import gemm_result
from plena_mlir.kernels import elementwise, row_tiles
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

MLEN = 64  # P is one MLEN x MLEN tile
# rope is built for the default geometry: its row block and VRAM row width there
ROWS, VLEN = row_tiles.row_block(DEFAULT_TARGET), DEFAULT_TARGET.vlen
BASE = 10000.0  # the rotary frequency base of the tables make_inputs builds


def table_width(head_dim: int) -> int:
    """W: the columns of the cos / sin tables."""
    return max(VLEN, head_dim)


def build(
    rows: int = 128, heads: int = 8, head_dim: int = 16, target: Target = DEFAULT_TARGET
) -> ModuleOp:
    cols = heads * head_dim
    if rows % ROWS or rows <= 0 or cols % VLEN or cols <= 0 or head_dim % 2:
        raise ValueError(
            f"rope: rows ({rows}) must be a positive multiple of {ROWS}, heads * head_dim "
            f"({heads} * {head_dim}) a positive multiple of {VLEN} and head_dim even"
        )
    if VLEN % head_dim and head_dim % VLEN:
        raise ValueError(f"rope: head_dim ({head_dim}) must divide {VLEN} or be a multiple of it")
    width, blocks = table_width(head_dim), cols // VLEN
    block = row_tiles.tile_rows(rows, cols, DEFAULT_TARGET)
    with KernelBuilder("rope", grid={"block": rows // block}, target=target) as k:
        x, y = k.tensor("x", (rows, cols)), k.tensor("y", (rows, cols))
        r = k.tensor("r", (MLEN, 2 * MLEN))
        cos, sin = k.tensor("cos", (rows, width)), k.tensor("sin", (rows, width))
        row0, stack = k.axis("block") * block, blocks * block
        a, cs = k.alloc((stack, 2 * VLEN), name="a"), k.alloc((stack, 2 * VLEN), name="cs")
        rotated = k.alloc((stack, VLEN), name="rotated")
        r_tile = k.alloc((MLEN, 2 * MLEN), "mram", name="r_tile")
        k.copy(r, r_tile)
        for j in range(blocks):
            rows_j, col = j * block, j * VLEN
            for half, table in ((0, cos), (VLEN, sin)):
                k.copy(x[row0, col], a[rows_j, half], src_sizes=(block, VLEN))
                k.copy(table[row0, col % width], cs[rows_j, half], src_sizes=(block, VLEN))
        a *= cs
        k.gemm(rotated, a, r_tile, "mk,nk->mn")
        for j in range(blocks):
            k.copy(rotated[j * block, 0], y[row0, j * VLEN], src_sizes=(block, VLEN))
    return k.module


def rotation() -> np.ndarray:
    """The input r: R = [I ; P] stored (N, K) (module docstring)."""
    r = np.zeros((MLEN, 2 * MLEN), np.float32)
    r[:, :MLEN] = np.eye(MLEN)
    even = np.arange(0, MLEN, 2)
    r[even, MLEN + even + 1] = -1.0
    r[even + 1, MLEN + even] = 1.0
    return r


def tables(rows: int, head_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin): the rows x W tables for positions 0 .. rows-1, angle s * BASE^(-2i/D)."""
    pair = (np.arange(table_width(head_dim)) % head_dim) // 2
    angle = np.arange(rows)[:, None] * BASE ** (-2.0 * pair / head_dim)[None, :]
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)


def make_inputs(sizes: Mapping[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    rows, head_dim = sizes["rows"], sizes["head_dim"]
    cos, sin = tables(rows, head_dim)
    x = rng.normal(0.0, 1.0, (rows, sizes["heads"] * head_dim)).astype(np.float32)
    return {"x": x, "r": rotation(), "cos": cos, "sin": sin}


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result (module docstring), computed on the stacked column blocks."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    x, cos, sin = v["x"], v["cos"], v["sin"]
    rows, cols = x.shape
    width = cos.shape[1]
    starts = range(0, cols, VLEN)
    a = np.concatenate([np.concatenate([x[:, j : j + VLEN]] * 2, axis=1) for j in starts])
    cs = np.concatenate(
        [np.concatenate([t[:, j % width : j % width + VLEN] for t in (cos, sin)], axis=1)
         for j in starts]
    )
    # the gemm's rows in one instance
    m = row_tiles.tile_rows(rows, cols, DEFAULT_TARGET) * cols // VLEN
    best, _ = select_form(GemmShape(m=m, n=MLEN, k=2 * MLEN, transposed_b=True), target)
    rotated = gemm_result(best.form, n.store(VRAM, a * cs), n.hbm_input(inputs["r"]), True, target)
    y = np.concatenate([rotated[j * rows : (j + 1) * rows] for j in range(cols // VLEN)], axis=1)
    return {"y": n.store("hbm", y)}


SPECS = (
    KernelSpec(
        name="rope",
        summary="interleaved-pair rotary embedding of every head of rows x (heads * head_dim), "
        "y = [x*COS | x*SIN] @ [I ; P]",
        sizes={"rows": 128, "heads": 8, "head_dim": 16},
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(sizes, rng),
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=(
            {"rows": 64, "heads": 4, "head_dim": 64},
            {"rows": 192, "heads": 16},
            {"rows": 64, "heads": 2, "head_dim": 128},
        ),
    ),
)
