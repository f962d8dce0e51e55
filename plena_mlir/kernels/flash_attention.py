"""`flash_attention`: multi-head attention with an online softmax, one head per program
instance (the head axis is the lane axis: the compiler packs L = MLEN / HLEN heads side by side).

    O[0, s, o_head_offset + h, :] = softmax(Q[0, s, h, :] · K_hᵀ / sqrt(D)) V_h
    K_h = K[0, :, kv(h), :],  V_h = V[0, :, kv(h), :]

Q is [1, q_blocks*64, heads, 16], K and V [1, kv_blocks*64, kv_heads, 16] (BSHD, D = HLEN =
16), O [1, q_blocks*64, o_heads, 16]: the heads are written into heads o_head_offset ..
o_head_offset + heads - 1 of a possibly wider output, the other heads are left as they were.
kv(h) = h % kv_heads: kv_heads = heads is plain multi-head attention, fewer kv heads is
grouped-query attention (`flash_attention_gqa`, interleaved groups: the machine has no
integer divide, so a query head h reads kv head h % kv_heads, not h // group).

A program instance (q block qb, head h) holds one head: Q (64 x 16, VRAM), per kv block K and
V (64 x 16 each, MRAM: gemm B operands), the scores S (64 x 64), and per row of the q block the
softmax state in FPRAM (64 entries each): the running max m, the running sum l, the rescale
alpha.  Per kv block j (scale = 1/sqrt(16) = 0.25, exact):

    S     = Q · K_jᵀ                        (M_BTMM for all lanes)
    S     = S * scale
    m_new = max(rowmax(S), m_old)
    S     = exp(S - m_new)                  (P)
    alpha = exp(m_old - m_new)
    l     = l * alpha + rowsum(P)
    O     = O * alpha + P · V_j             (P·V: per-lane M_MM)
    m_old = m_new

then O = O * (1 / l).  m starts at -inf (the first alpha is 0), l and O at 0.

`build(..., q_rows=1)` (with q_blocks = 1) is the decode form `flash_decode` uses: one query
row, S one row of 64, the state one FPRAM entry per head.

Rounding (`golden`, the machine's rounding points): Q is bf16 in VRAM, K and V f32 in MRAM
(both as HBM holds them: MX-quantised with mxfp8); Q·Kᵀ (one lane of M_BTMM / M_BTMV) is
summed in the f32 accumulator in the machine's order (`lane_scores`: not the exactly rounded
sum, which differs in the last f32 bit for most scores and so, now and then, in a bf16 score)
and rounded to bf16 once by the write-out; P·V is what the form
plena-select-gemm picks for one head's gemm computes (`pv_form`, `gemm_result`: once rounded
for M_MM / M_MV; for M_BMM+lane-sum the four bf16 lane partials summed in bf16); every vector
op rounds to bf16, every row reduction and FPRAM op to the FP format (fp16 on plena-tvm);
O += PV is a bf16 add.
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
from plena_mlir.kernels.online_softmax import online_softmax_step
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

MLEN = 64  # rows of a q block and of a kv block (keys per score tile)
HLEN = 16  # head_dim: one lane of a packed row
LANES = MLEN // HLEN
SCALE = 1.0 / np.sqrt(HLEN)  # the softmax scale 1/sqrt(D) = 0.25 (exact in fp16)
VRAM, FPRAM = MemorySpace.VRAM, MemorySpace.FPRAM


@dataclass(frozen=True)
class Attention:
    """The sizes of one attention kernel, checked."""

    name: str
    heads: int
    kv_heads: int
    q_blocks: int
    kv_blocks: int
    o_heads: int
    o_head_offset: int
    q_rows: int = MLEN  # query rows per q block: MLEN, or 1 (decode)

    def __post_init__(self) -> None:
        problems = []
        if self.heads <= 0 or self.heads % LANES:
            problems.append(f"heads ({self.heads}) must be a positive multiple of {LANES}")
        grouped = self.kv_heads != self.heads  # GQA: kv_heads is a parameter of its own
        if grouped and (self.kv_heads <= 0 or self.kv_heads % LANES or self.heads % self.kv_heads):
            problems.append(
                f"kv_heads ({self.kv_heads}) must be a positive multiple of {LANES} dividing "
                f"heads ({self.heads})"
            )
        if self.q_blocks <= 0 or self.kv_blocks <= 0:
            problems.append(
                f"q_blocks ({self.q_blocks}) and kv_blocks ({self.kv_blocks}) must be positive"
            )
        if self.q_rows not in (1, MLEN) or (self.q_rows == 1 and self.q_blocks != 1):
            problems.append(f"q_rows ({self.q_rows}) must be {MLEN}, or 1 with one q block")
        if self.o_head_offset < 0 or self.o_head_offset + self.heads > self.o_heads:
            problems.append(
                f"heads {self.o_head_offset} .. {self.o_head_offset + self.heads - 1} of the "
                f"output do not fit its o_heads ({self.o_heads})"
            )
        if problems:
            raise ValueError(f"{self.name}: {'; '.join(problems)}")

    @property
    def q_len(self) -> int:
        return self.q_blocks * self.q_rows

    @property
    def kv_len(self) -> int:
        return self.kv_blocks * MLEN


def build_attention(shape: Attention, target: Target) -> ModuleOp:
    """The tile IR of the module docstring for `shape`."""
    rows = shape.q_rows
    grid = (
        {"head": shape.heads}
        if shape.q_blocks == 1
        else {"q_block": shape.q_blocks, "head": shape.heads}
    )
    with KernelBuilder(shape.name, grid=grid, lane="head", target=target) as k:
        q_hbm = k.tensor("Q", (1, shape.q_len, shape.heads, HLEN))
        k_hbm = k.tensor("K", (1, shape.kv_len, shape.kv_heads, HLEN))
        v_hbm = k.tensor("V", (1, shape.kv_len, shape.kv_heads, HLEN))
        o_hbm = k.tensor("O", (1, shape.q_len, shape.o_heads, HLEN))
        head = k.axis("head")
        row0 = k.axis("q_block") * rows if shape.q_blocks > 1 else 0
        kv_head = head
        if shape.kv_heads != shape.heads:
            remainder = arith.RemSIOp(head.value, k.index_value(shape.kv_heads))
            kv_head = Index(k, k.emit(remainder).result)
        q = k.alloc((rows, HLEN), "vram", name="q")
        key = k.alloc((MLEN, HLEN), "mram", name="k")
        value = k.alloc((MLEN, HLEN), "mram", name="v")
        s = k.alloc((rows, MLEN), "vram", name="s")
        pv, o = k.alloc((rows, HLEN), "vram", name="pv"), k.alloc((rows, HLEN), "vram", name="o")
        m_old, m_new = (
            k.alloc((rows,), "fpram", name="m_old"),
            k.alloc((rows,), "fpram", name="m_new"),
        )
        alpha = k.alloc((rows,), "fpram", name="alpha")
        row_sum = k.alloc((rows,), "fpram", name="row_sum")
        running_sum = k.alloc((rows,), "fpram", name="running_sum")
        head_rows = (1, rows, 1, HLEN)
        kv_rows = (1, MLEN, 1, HLEN)
        k.copy(q_hbm[0, row0, head, 0], q, src_sizes=head_rows)
        k.fill(m_old, -np.inf)
        k.fill(running_sum, 0.0)
        k.fill(o, 0.0)
        for kv in k.range(0, shape.kv_blocks, name="kv"):
            kv0 = kv * MLEN
            k.copy(k_hbm[0, kv0, kv_head, 0], key, src_sizes=kv_rows)
            k.copy(v_hbm[0, kv0, kv_head, 0], value, src_sizes=kv_rows)
            k.gemm(s, q, key, "mk,nk->mn")
            s *= float(SCALE)
            online_softmax_step(k, s, m_old, m_new, alpha, row_sum, running_sum)
            o *= alpha
            k.gemm(pv, s, value, "mk,kn->mn")
            o += pv
            k.copy(m_new, m_old)
        k.fp_reci(running_sum, running_sum)
        o *= running_sum
        k.copy(o, o_hbm[0, row0, head + shape.o_head_offset, 0], dst_sizes=head_rows)
    return k.module


def pv_form(q_rows: int, target: Target) -> Form:
    """The form plena-select-gemm picks for one head's P·V: a per-lane gemm (q_rows x 64) ·
    (64 x 16) into the 16 columns of a col_pack buffer."""
    shape = GemmShape(q_rows, HLEN, MLEN, transposed_b=False, packed_c=True)
    return select_form(shape, target, row_blocks=True)[0].form


def attention_golden(
    shape: Attention,
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """O as the machine computes it (module docstring), every head and row at once."""
    n = Numerics("rounded", target, hbm_format)
    kv_of_head = np.arange(shape.heads) % shape.kv_heads
    # [head, query row, d] and [head, key, d]
    q = n.store(VRAM, n.hbm_input(inputs["Q"])[0].transpose(1, 0, 2))
    keys = n.store(MemorySpace.MRAM, n.hbm_input(inputs["K"])[0].transpose(1, 0, 2))[kv_of_head]
    values = n.store(MemorySpace.MRAM, n.hbm_input(inputs["V"])[0].transpose(1, 0, 2))[kv_of_head]
    shape3 = (shape.heads, shape.q_len)
    m_old = np.full(shape3, -np.inf, np.float32)
    running_sum = np.zeros(shape3, np.float32)
    o = np.zeros((*shape3, HLEN), np.float32)
    scale = n.fp(SCALE)
    form = pv_form(shape.q_rows, target)

    def rows(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
        """A row reduction of [head, row, column] into FPRAM (V_RED_*)."""
        start = 0.0 if ufunc is np.add else -np.inf
        return n.reduce_rows(ufunc, x.reshape(-1, x.shape[-1]), start).reshape(x.shape[:-1])

    for kv in range(shape.kv_blocks):
        block = slice(kv * MLEN, (kv + 1) * MLEN)
        s = n.store(VRAM, lane_scores(q, keys[:, block], shape.q_rows, target))
        s = n.store(VRAM, s * scale)
        m_new = n.fp(np.fmax(rows(np.maximum, s), m_old))
        p = n.store(VRAM, np.exp(n.store(VRAM, s - m_new[..., None])))
        alpha = n.fp(np.exp(n.fp(m_old - m_new)))
        running_sum = n.fp(n.fp(running_sum * alpha) + rows(np.add, p))
        o = n.store(VRAM, o * alpha[..., None])
        pv = np.stack(
            [gemm_result(form, p[h], values[h, block], False, target) for h in range(shape.heads)]
        )
        o = n.store(VRAM, o + pv)
        m_old = m_new
    o = n.store(VRAM, o * n.fp(np.reciprocal(running_sum))[..., None])
    out = np.zeros((1, shape.q_len, shape.o_heads, HLEN), np.float32)
    heads = slice(shape.o_head_offset, shape.o_head_offset + shape.heads)
    out[0, :, heads] = n.store("hbm", o.transpose(1, 0, 2))
    return {"O": out}


def make_inputs(shape: Attention, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Q, K, V ~ N(0, 1): scores of a few units, as in trained attention."""
    q = (1, shape.q_len, shape.heads, HLEN)
    kv = (1, shape.kv_len, shape.kv_heads, HLEN)
    return {
        "Q": rng.normal(0.0, 1.0, q).astype(np.float32),
        "K": rng.normal(0.0, 1.0, kv).astype(np.float32),
        "V": rng.normal(0.0, 1.0, kv).astype(np.float32),
    }


def _shape(sizes: Mapping[str, int]) -> Attention:
    return Attention(
        "flash_attention",
        sizes["heads"],
        sizes["heads"],
        sizes["q_blocks"],
        sizes["kv_blocks"],
        sizes["o_heads"] or sizes["heads"],
        sizes["o_head_offset"],
    )


def build(
    heads: int = 8,
    q_blocks: int = 2,
    kv_blocks: int = 2,
    o_heads: int = 0,
    o_head_offset: int = 0,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    """flash_attention; o_heads 0 means heads (the output has exactly the kernel's heads)."""
    sizes = {
        "heads": heads,
        "q_blocks": q_blocks,
        "kv_blocks": kv_blocks,
        "o_heads": o_heads,
        "o_head_offset": o_head_offset,
    }
    return build_attention(_shape(sizes), target)


SPECS = (
    KernelSpec(
        name="flash_attention",
        summary="O = softmax(Q·Kᵀ/sqrt(16)) V per head of 16 (online softmax over kv blocks "
        "of 64), written to heads o_head_offset.. of O (o_heads 0: heads)",
        sizes={"heads": 8, "q_blocks": 2, "kv_blocks": 2, "o_heads": 0, "o_head_offset": 0},
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(_shape(sizes), rng),
        golden=lambda inputs, sizes, target, hbm_format: attention_golden(
            _shape(sizes), inputs, target, hbm_format
        ),
        test_sizes=(
            {"heads": 16, "q_blocks": 2, "kv_blocks": 3},
            {"o_heads": 16, "o_head_offset": 8},
        ),
    ),
)
