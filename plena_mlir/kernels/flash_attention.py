"""`flash_attention`: multi-head attention with an online softmax, one head per program
instance (the head axis is the lane axis):

    O[0, s, o_head_offset + h, :] = softmax(Q[0, s, h, :] · K_hᵀ / sqrt(D)) V_h
    K_h = K[0, :, kv(h), :],  V_h = V[0, :, kv(h), :]

Everything is sized by the target: a block is M = MLEN rows (a q block of query rows, a kv
block of keys), D = head_dim.  Q is [1, q_blocks*M, heads, D], K and V [1, kv_blocks*M,
kv_heads, D] (BSHD), O [1, q_blocks*M, o_heads, D]: the heads are written into heads
o_head_offset .. o_head_offset + heads - 1 of a possibly wider output, the other heads are left
as they were.  kv(h) = h % kv_heads: kv_heads = heads is plain multi-head attention, fewer kv
heads is grouped-query attention (`flash_attention_gqa`, interleaved groups: the machine has no
integer divide, so a query head h reads kv head h % kv_heads, not h // group).

The head width decides how heads meet the hardware (`Attention.packed`):

- D = HLEN: L = MLEN / HLEN heads share every row; plena-expand-lanes packs L consecutive
  heads into the lanes of one program (Q·Kᵀ one M_BTMM for all of them, P·V per lane), so
  heads and kv_heads are multiples of L;
- D a multiple of MLEN: one head fills whole rows (D / MLEN tiles wide), the head axis stays
  an ordinary grid axis and both products are plain gemms (plena-select-gemm's choice);
- any other D is rejected: a head would straddle lanes.

A program instance (q block qb, head h) holds one head: Q (M x D, VRAM), per kv block K and V
(M x D each, MRAM: gemm B operands), the scores S (M x M), and per row of the q block the
softmax state in FPRAM (M entries each): the running max m, the running sum l, the rescale
alpha.  Per kv block j (scale = 1/sqrt(D), the FP format's value of it):

    S     = Q · K_jᵀ
    S     = S * scale
    m_new = max(rowmax(S), m_old)
    S     = exp(S - m_new)                  (P)
    alpha = exp(m_old - m_new)
    l     = l * alpha + rowsum(P)
    O     = O * alpha + P · V_j
    m_old = m_new

then O = O * (1 / l).  m starts at -inf (the first alpha is 0), l and O at 0.

`Attention(..., decode=True)` (one q block) is the form `flash_decode` uses: one query row,
S one row of M, the state one FPRAM entry per head.

Rounding (`golden`, the machine's rounding points): Q is bf16 in VRAM, K and V f32 in MRAM
(both as HBM holds them: MX-quantised with mxfp8); Q·Kᵀ packed (one lane of M_BTMM / M_BTMV)
is summed in the f32 accumulator in the machine's order (`lane_scores`: not the exactly
rounded sum, which differs in the last f32 bit for most scores and so, now and then, in a bf16
score) and rounded to bf16 once by the write-out; unpacked, and P·V always, it is what the
form plena-select-gemm picks computes (`gemm_result`: once rounded for M_MM / M_TMM / M_MV;
for the lane-sum forms the L bf16 lane partials summed in bf16); every vector op rounds to
bf16, every row reduction and FPRAM op to the FP format (fp16 on plena-tvm); O += PV is a
bf16 add.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import Index, KernelBuilder
from plena_mlir.gemm.forms import Form, GemmShape, select_form
from plena_mlir.gemm.results import gemm_result, lane_scores
from plena_mlir.kernels.heads import head_width_problem, heads_per_program, packs_heads
from plena_mlir.kernels.online_softmax import online_softmax_step
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM, FPRAM = MemorySpace.VRAM, MemorySpace.FPRAM


@dataclass(frozen=True)
class Attention:
    """The sizes of one attention kernel on its target, checked."""

    name: str
    heads: int
    kv_heads: int
    q_blocks: int
    kv_blocks: int
    o_heads: int
    o_head_offset: int
    head_dim: int
    target: Target
    decode: bool = False  # one query row (flash_decode)

    def __post_init__(self) -> None:
        if width := head_width_problem(self.head_dim, self.target):
            raise ValueError(f"{self.name}: {width}")
        problems = []
        group = self.group
        if self.heads <= 0 or self.heads % group:
            problems.append(f"heads ({self.heads}) must be a positive multiple of {group}")
        grouped = self.kv_heads != self.heads  # GQA: kv_heads is a parameter of its own
        if grouped and (self.kv_heads <= 0 or self.kv_heads % group or self.heads % self.kv_heads):
            need = f"a positive multiple of {group} dividing" if group > 1 else "positive, dividing"
            problems.append(f"kv_heads ({self.kv_heads}) must be {need} heads ({self.heads})")
        if self.q_blocks <= 0 or self.kv_blocks <= 0:
            problems.append(
                f"q_blocks ({self.q_blocks}) and kv_blocks ({self.kv_blocks}) must be positive"
            )
        if self.decode and self.q_blocks != 1:
            problems.append(f"a decode kernel has one q block, not {self.q_blocks}")
        if self.o_head_offset < 0 or self.o_head_offset + self.heads > self.o_heads:
            problems.append(
                f"heads {self.o_head_offset} .. {self.o_head_offset + self.heads - 1} of the "
                f"output do not fit its o_heads ({self.o_heads})"
            )
        if problems:
            raise ValueError(f"{self.name}: {'; '.join(problems)}")

    @property
    def packed(self) -> bool:
        """Whether heads are narrower than a row, so L of them share it (in lanes)."""
        return packs_heads(self.head_dim, self.target)

    @property
    def group(self) -> int:
        """Heads that run as one program: the lanes when packed, else 1."""
        return heads_per_program(self.head_dim, self.target)

    @property
    def block(self) -> int:
        """Keys per kv block and query rows per q block: MLEN."""
        return self.target.mlen

    @property
    def q_rows(self) -> int:
        """Query rows of a program instance."""
        return 1 if self.decode else self.block

    @property
    def q_len(self) -> int:
        return self.q_blocks * self.q_rows

    @property
    def kv_len(self) -> int:
        return self.kv_blocks * self.block

    @property
    def scale(self) -> float:
        """The softmax scale 1/sqrt(D) as the kernel writes it (the FP format rounds it)."""
        return float(1.0 / np.sqrt(self.head_dim))


def build_attention(shape: Attention) -> ModuleOp:
    """The tile IR of the module docstring for `shape`."""
    rows, block, d = shape.q_rows, shape.block, shape.head_dim
    grid = (
        {"head": shape.heads}
        if shape.q_blocks == 1
        else {"q_block": shape.q_blocks, "head": shape.heads}
    )
    with KernelBuilder(shape.name, grid=grid, lane="head", target=shape.target) as k:
        q_hbm = k.tensor("Q", (1, shape.q_len, shape.heads, d))
        k_hbm = k.tensor("K", (1, shape.kv_len, shape.kv_heads, d))
        v_hbm = k.tensor("V", (1, shape.kv_len, shape.kv_heads, d))
        o_hbm = k.tensor("O", (1, shape.q_len, shape.o_heads, d))
        head = k.axis("head")
        row0 = k.axis("q_block") * rows if shape.q_blocks > 1 else 0
        kv_head = head
        if shape.kv_heads != shape.heads:
            remainder = arith.RemSIOp(head.value, k.index_value(shape.kv_heads))
            kv_head = Index(k, k.emit(remainder).result)
        q = k.alloc((rows, d), "vram", name="q")
        key = k.alloc((block, d), "mram", name="k")
        value = k.alloc((block, d), "mram", name="v")
        s = k.alloc((rows, block), "vram", name="s")
        pv, o = k.alloc((rows, d), "vram", name="pv"), k.alloc((rows, d), "vram", name="o")
        m_old, m_new = (
            k.alloc((rows,), "fpram", name="m_old"),
            k.alloc((rows,), "fpram", name="m_new"),
        )
        alpha = k.alloc((rows,), "fpram", name="alpha")
        row_sum = k.alloc((rows,), "fpram", name="row_sum")
        running_sum = k.alloc((rows,), "fpram", name="running_sum")
        head_rows = (1, rows, 1, d)
        kv_rows = (1, block, 1, d)
        k.copy(q_hbm[0, row0, head, 0], q, src_sizes=head_rows)
        k.fill(m_old, -np.inf)
        k.fill(running_sum, 0.0)
        k.fill(o, 0.0)
        for kv in k.range(0, shape.kv_blocks, name="kv"):
            kv0 = kv * block
            k.copy(k_hbm[0, kv0, kv_head, 0], key, src_sizes=kv_rows)
            k.copy(v_hbm[0, kv0, kv_head, 0], value, src_sizes=kv_rows)
            k.gemm(s, q, key, "mk,nk->mn")
            s *= shape.scale
            online_softmax_step(k, s, m_old, m_new, alpha, row_sum, running_sum)
            o *= alpha
            k.gemm(pv, s, value, "mk,kn->mn")
            o += pv
            k.copy(m_new, m_old)
        k.fp_reci(running_sum, running_sum)
        o *= running_sum
        k.copy(o, o_hbm[0, row0, head + shape.o_head_offset, 0], dst_sizes=head_rows)
    return k.module


def pv_form(shape: Attention) -> Form:
    """The form plena-select-gemm picks for one head's P·V, (q_rows x M) · (M x D): packed, a
    per-lane gemm into the D columns of a col_pack buffer."""
    gemm = GemmShape(shape.q_rows, shape.head_dim, shape.block, False, packed_c=shape.packed)
    return select_form(gemm, shape.target)[0].form


def scores(shape: Attention, q: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """S = Q·Kᵀ of every head ([head, row, key], bf16 values) for q [head, row, d] and the
    keys of one kv block [head, key, d], as the machine computes it (module docstring)."""
    target = shape.target
    if shape.packed:
        return lane_scores(q, keys, shape.q_rows, target)
    gemm = GemmShape(shape.q_rows, shape.block, shape.head_dim, transposed_b=True)
    form = select_form(gemm, target)[0].form
    return np.stack([gemm_result(form, q[h], keys[h], True, target) for h in range(shape.heads)])


def attention_golden(
    shape: Attention, inputs: Mapping[str, np.ndarray], hbm_format: HbmFormat = "fp32"
) -> dict[str, np.ndarray]:
    """O as the machine computes it (module docstring), every head and row at once."""
    target, block = shape.target, shape.block
    n = Numerics("rounded", target, hbm_format)
    kv_of_head = np.arange(shape.heads) % shape.kv_heads
    # [head, query row, d] and [head, key, d]
    q = n.store(VRAM, n.hbm_input(inputs["Q"])[0].transpose(1, 0, 2))
    keys = n.store(MemorySpace.MRAM, n.hbm_input(inputs["K"])[0].transpose(1, 0, 2))[kv_of_head]
    values = n.store(MemorySpace.MRAM, n.hbm_input(inputs["V"])[0].transpose(1, 0, 2))[kv_of_head]
    shape3 = (shape.heads, shape.q_len)
    m_old = np.full(shape3, -np.inf, np.float32)
    running_sum = np.zeros(shape3, np.float32)
    o = np.zeros((*shape3, shape.head_dim), np.float32)
    scale = n.fp(shape.scale)
    form = pv_form(shape)

    def rows(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
        """A row reduction of [head, row, column] into FPRAM (V_RED_*)."""
        start = 0.0 if ufunc is np.add else -np.inf
        return n.reduce_rows(ufunc, x.reshape(-1, x.shape[-1]), start).reshape(x.shape[:-1])

    for kv in range(shape.kv_blocks):
        keys_j = slice(kv * block, (kv + 1) * block)
        s = n.store(VRAM, scores(shape, q, keys[:, keys_j]))
        s = n.store(VRAM, s * scale)
        m_new = n.fp(np.fmax(rows(np.maximum, s), m_old))
        p = n.store(VRAM, np.exp(n.store(VRAM, s - m_new[..., None])))
        alpha = n.fp(np.exp(n.fp(m_old - m_new)))
        running_sum = n.fp(n.fp(running_sum * alpha) + rows(np.add, p))
        o = n.store(VRAM, o * alpha[..., None])
        pv = np.stack(
            [gemm_result(form, p[h], values[h, keys_j], False, target) for h in range(shape.heads)]
        )
        o = n.store(VRAM, o + pv)
        m_old = m_new
    o = n.store(VRAM, o * n.fp(np.reciprocal(running_sum))[..., None])
    out = np.zeros((1, shape.q_len, shape.o_heads, shape.head_dim), np.float32)
    heads = slice(shape.o_head_offset, shape.o_head_offset + shape.heads)
    out[0, :, heads] = n.store("hbm", o.transpose(1, 0, 2))
    return {"O": out}


def make_inputs(shape: Attention, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Q, K, V ~ N(0, 1): scores of a few units, as in trained attention."""
    q = (1, shape.q_len, shape.heads, shape.head_dim)
    kv = (1, shape.kv_len, shape.kv_heads, shape.head_dim)
    return {
        "Q": rng.normal(0.0, 1.0, q).astype(np.float32),
        "K": rng.normal(0.0, 1.0, kv).astype(np.float32),
        "V": rng.normal(0.0, 1.0, kv).astype(np.float32),
    }


def _shape(sizes: Mapping[str, int], target: Target) -> Attention:
    return Attention(
        "flash_attention",
        sizes["heads"],
        sizes["heads"],
        sizes["q_blocks"],
        sizes["kv_blocks"],
        sizes["o_heads"] or sizes["heads"],
        sizes["o_head_offset"],
        sizes["head_dim"],
        target,
    )


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """flash_attention on `target` for `sizes` (a size not given takes its default there);
    o_heads 0 means heads (the output has exactly the kernel's heads)."""
    return build_attention(_shape(SPECS[0].resolve(sizes, target), target))


def default_sizes(target: Target) -> dict[str, int]:
    """Two lane groups of heads of HLEN, two q blocks and two kv blocks of MLEN rows (on
    plena-tvm the published compiler's 8 heads of 16 x 128 rows)."""
    return {
        "heads": 2 * target.lanes,
        "q_blocks": 2,
        "kv_blocks": 2,
        "o_heads": 0,
        "o_head_offset": 0,
        "head_dim": target.hlen,
    }


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Four lane groups over three kv blocks; two groups written into the upper half of an
    output of four; heads of one tile width (not packed).  (Heads of two tile widths:
    flash_attention_gqa's test sizes.)"""
    lanes = target.lanes
    return (
        {"heads": 4 * lanes, "q_blocks": 2, "kv_blocks": 3},
        {"o_heads": 4 * lanes, "o_head_offset": 2 * lanes},
        {"heads": 3, "q_blocks": 2, "kv_blocks": 2, "head_dim": target.mlen},
    )


SPECS = (
    KernelSpec(
        name="flash_attention",
        summary="O = softmax(Q·Kᵀ/sqrt(head_dim)) V per head (online softmax over kv blocks of "
        "MLEN keys), written to heads o_head_offset.. of O (o_heads 0: heads)",
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(_shape(sizes, target), rng),
        golden=lambda inputs, sizes, target, hbm_format: attention_golden(
            _shape(sizes, target), inputs, hbm_format
        ),
        test_sizes=test_sizes,
    ),
)
