"""`rope`: rotary position embedding on interleaved pairs, every head of every row:

    y[s, h, 2i]   = x[s, h, 2i] * cos[s, i] - x[s, h, 2i+1] * sin[s, i]
    y[s, h, 2i+1] = x[s, h, 2i+1] * cos[s, i] + x[s, h, 2i] * sin[s, i]

x and y are rows x (heads * head_dim) (the BSHD tensor [S, H, D] collapsed to [S, H*D]; the
position s is the row).  The published kernel computes y = x (.) COS + (x @ P) (.) SGN_SIN
with P the pair-swap permutation: a gemm, two products and a sum.  Here both products come
first and the gemm does the swap and the sum at once:

    y = [x (.) COS | x (.) SIN] @ R,    R = [I ; P]   (2 MLEN x MLEN)

P is the signed pair swap ((v @ P)[2i] = -v[2i+1], (v @ P)[2i+1] = v[2i]), block diagonal
in 2 x 2 blocks, so it acts on any VLEN = MLEN consecutive columns of a row (pairs never
straddle a VLEN boundary).  Both MLEN x MLEN tiles of R are block diagonal in 2 x 2 blocks,
so per lane of HLEN columns (HLEN is even), which is what the lane-paired batched unit
(M_BTMM, each lane contracting its HLEN columns) needs to compute the gemm as a plain one
(plena-select-gemm's lane-sum form).  Every size comes from the target: R is MLEN x 2 MLEN
(`rotation(target)`), rows are whole blocks of MLEN.  Per stacked row that is one vector
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

Each program instance takes `block` rows (the largest multiple of MLEN dividing rows with at
most eight MLEN x MLEN tiles of x, one block of MLEN rows at least) and stacks the cols / VLEN
column blocks of its rows vertically (column block j at rows j*block ..), so one gemm with
one R in MRAM covers every head:

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

BASE = 10000.0  # the rotary frequency base of the tables make_inputs builds


def table_width(head_dim: int, target: Target = DEFAULT_TARGET) -> int:
    """W: the columns of the cos / sin tables."""
    return max(target.vlen, head_dim)


def _check(rows: int, heads: int, head_dim: int, target: Target) -> None:
    """ValueError for sizes rope cannot have on `target`."""
    cols, mlen, vlen = heads * head_dim, target.mlen, target.vlen
    if rows % mlen or rows <= 0 or cols % vlen or cols <= 0 or head_dim % 2:
        raise ValueError(
            f"rope: rows ({rows}) must be a positive multiple of {mlen}, heads * head_dim "
            f"({heads} * {head_dim}) a positive multiple of {vlen} and head_dim even"
        )
    if vlen % head_dim and head_dim % vlen:
        raise ValueError(f"rope: head_dim ({head_dim}) must divide {vlen} or be a multiple of it")


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """rope on `target` for `sizes` (a size not given takes its default there)."""
    every = SPECS[0].resolve(sizes, target)
    rows, heads, head_dim = every["rows"], every["heads"], every["head_dim"]
    _check(rows, heads, head_dim, target)
    mlen, vlen, cols = target.mlen, target.vlen, heads * head_dim
    width, blocks = table_width(head_dim, target), cols // vlen
    block = row_tiles.tile_rows(rows, cols, target)
    with KernelBuilder("rope", grid={"block": rows // block}, target=target) as k:
        x, y = k.tensor("x", (rows, cols)), k.tensor("y", (rows, cols))
        r = k.tensor("r", (mlen, 2 * mlen))
        cos, sin = k.tensor("cos", (rows, width)), k.tensor("sin", (rows, width))
        row0, stack = k.axis("block") * block, blocks * block
        a, cs = k.alloc((stack, 2 * vlen), name="a"), k.alloc((stack, 2 * vlen), name="cs")
        rotated = k.alloc((stack, vlen), name="rotated")
        r_tile = k.alloc((mlen, 2 * mlen), "mram", name="r_tile")
        k.copy(r, r_tile)
        for j in range(blocks):
            rows_j, col = j * block, j * vlen
            for half, table in ((0, cos), (vlen, sin)):
                k.copy(x[row0, col], a[rows_j, half], src_sizes=(block, vlen))
                k.copy(table[row0, col % width], cs[rows_j, half], src_sizes=(block, vlen))
        a *= cs
        k.gemm(rotated, a, r_tile, "mk,nk->mn")
        for j in range(blocks):
            k.copy(rotated[j * block, 0], y[row0, j * vlen], src_sizes=(block, vlen))
    return k.module


def rotation(target: Target = DEFAULT_TARGET) -> np.ndarray:
    """The input r: R = [I ; P] stored (N, K), MLEN x 2 MLEN (module docstring)."""
    mlen = target.mlen
    r = np.zeros((mlen, 2 * mlen), np.float32)
    r[:, :mlen] = np.eye(mlen)
    even = np.arange(0, mlen, 2)
    r[even, mlen + even + 1] = -1.0
    r[even + 1, mlen + even] = 1.0
    return r


def tables(
    rows: int, head_dim: int, target: Target = DEFAULT_TARGET
) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin): the rows x W tables for positions 0 .. rows-1, angle s * BASE^(-2i/D)."""
    pair = (np.arange(table_width(head_dim, target)) % head_dim) // 2
    angle = np.arange(rows)[:, None] * BASE ** (-2.0 * pair / head_dim)[None, :]
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)


def make_inputs(
    sizes: Mapping[str, int], rng: np.random.Generator, target: Target = DEFAULT_TARGET
) -> dict[str, np.ndarray]:
    rows, head_dim = sizes["rows"], sizes["head_dim"]
    cos, sin = tables(rows, head_dim, target)
    x = rng.normal(0.0, 1.0, (rows, sizes["heads"] * head_dim)).astype(np.float32)
    return {"x": x, "r": rotation(target), "cos": cos, "sin": sin}


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result (module docstring), computed on the stacked column blocks."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    x, cos, sin = v["x"], v["cos"], v["sin"]
    rows, cols = x.shape
    width, mlen, vlen = cos.shape[1], target.mlen, target.vlen
    starts = range(0, cols, vlen)
    a = np.concatenate([np.concatenate([x[:, j : j + vlen]] * 2, axis=1) for j in starts])
    cs = np.concatenate(
        [np.concatenate([t[:, j % width : j % width + vlen] for t in (cos, sin)], axis=1)
         for j in starts]
    )
    m = row_tiles.tile_rows(rows, cols, target) * cols // vlen  # the gemm's rows in one instance
    best, _ = select_form(GemmShape(m=m, n=mlen, k=2 * mlen, transposed_b=True), target)
    rotated = gemm_result(best.form, n.store(VRAM, a * cs), n.hbm_input(inputs["r"]), True, target)
    y = np.concatenate([rotated[j * rows : (j + 1) * rows] for j in range(cols // vlen)], axis=1)
    return {"y": n.store("hbm", y)}


def default_sizes(target: Target) -> dict[str, int]:
    """Two blocks of MLEN rows, two lane groups of heads of HLEN (two VLEN column blocks; on
    plena-tvm 128 rows x 8 heads of 16)."""
    return {"rows": 2 * target.mlen, "heads": 2 * target.lanes, "head_dim": target.hlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Heads as wide as a VRAM row; three row blocks of four lane groups; heads two rows
    wide (the tables as wide as a head)."""
    mlen, lanes = target.mlen, target.lanes
    return (
        {"rows": mlen, "heads": lanes, "head_dim": target.vlen},
        {"rows": 3 * mlen, "heads": 4 * lanes},
        {"rows": mlen, "heads": 2, "head_dim": 2 * target.vlen},
    )


SPECS = (
    KernelSpec(
        name="rope",
        summary="interleaved-pair rotary embedding of every head of rows x (heads * head_dim), "
        "y = [x*COS | x*SIN] @ [I ; P]",
        sizes=default_sizes,
        build_module=build,
        make_inputs=make_inputs,
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=test_sizes,
    ),
)
