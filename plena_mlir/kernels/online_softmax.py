"""`online_softmax`: one step of the online softmax over a tile of scores, one head per program
instance (the head axis is the lane axis), the step `flash_attention` takes per kv block:

    m_new = max(m_in, max_j S[r, j])
    P[r, j] = exp(S[r, j] - m_new)
    alpha = exp(m_in - m_new)                   (how much the previous partial results shrink)
    l_new = l_in * alpha + sum_j P[r, j]

per query row r of each head, over a score tile of M = MLEN keys (one kv block; the scores
are already scaled).  Interface (BSHD, heads in the head dimension, D = head_dim):

- `S` (in), `P` (out): [1, rows, heads, M], the scores and the probabilities of the tile.
- `m_in`, `l_in` (in), `m_out`, `l_out`, `alpha` (out): [1, rows, heads, D], the running max
  and sum before and after the step and the rescale factor, laid out like a head's attention
  output O: row r of head h holds its value in all D columns.  A caller rescales its output
  accumulator element-wise (O * alpha), adds P·V, and passes m_out, l_out on as the next
  step's m_in, l_in.  (The kernel reads the max of the D columns of an input row.)

Why D columns rather than one value per row: FPRAM is reached from HBM only through VRAM, and
a store moves whole VRAM rows (H_STORE_V); a head's M state values would be one VRAM row
(S_MAP_V_FP), a row per head that no store can write alone.  As an M x D tile per head the
state moves like any head of a BSHD tensor (one DMA for the heads of a lane group), and the
row values get there by a row reduction (in) and a row broadcast (out: a zero tile plus the
per-row FPRAM value).

Heads of D = HLEN are packed L = MLEN / HLEN to a program (the head axis is the lane axis);
heads of a multiple of MLEN run one per program (`plena_mlir.kernels.heads`).  A program
instance (row block b, head h) loads its M x M score tile and its two state tiles into VRAM,
reduces the state tiles into FPRAM, computes the step with row reductions, row-broadcast
vector ops and whole-buffer FPRAM ops, and writes P and the state tiles back.

Rounding (`golden`): S, P and the state tiles bf16 in VRAM; the state in the FP format
(fp16 on plena-tvm) in FPRAM: the row max and sum, alpha and l_new.
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import MemorySpace
from plena_mlir.frontend.kernel_builder import Buffer, KernelBuilder
from plena_mlir.kernels.heads import head_width_problem, heads_per_program
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Numerics
from plena_mlir.target import DEFAULT_TARGET, Target

VRAM = MemorySpace.VRAM
STATE_IN, STATE_OUT = ("m_in", "l_in"), ("m_out", "l_out", "alpha")


def online_softmax_step(
    k: KernelBuilder,
    s: Buffer,
    m_old: Buffer,
    m_new: Buffer,
    alpha: Buffer,
    row_sum: Buffer,
    running_sum: Buffer,
) -> None:
    """One online-softmax step over the score tile `s` (FPRAM buffers: one entry per row):

        m_new = max(rowmax(s), m_old);  s = exp(s - m_new);  alpha = exp(m_old - m_new)
        running_sum = running_sum * alpha + rowsum(s)
    """
    k.reduce_max(m_new, s)
    k.fp_max(m_new, m_new, m_old)
    s -= m_new
    k.exp(s, s)
    k.fp_sub(alpha, m_old, m_new)
    k.fp_exp(alpha, alpha)
    k.reduce_sum(row_sum, s)
    running_sum *= alpha
    running_sum += row_sum


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """online_softmax on `target` for `sizes` (a size not given takes its default there)."""
    every = SPECS[0].resolve(sizes, target)
    heads, blocks, d = every["heads"], every["blocks"], every["head_dim"]
    block = target.mlen
    if width := head_width_problem(d, target):
        raise ValueError(f"online_softmax: {width}")
    group = heads_per_program(d, target)
    if heads <= 0 or heads % group or blocks <= 0:
        raise ValueError(
            f"online_softmax: heads ({heads}) must be a positive multiple of {group} and "
            f"blocks ({blocks}) positive"
        )
    rows = blocks * block
    grid = {"block": blocks, "head": heads}
    with KernelBuilder("online_softmax", grid=grid, lane="head", target=target) as k:
        scores = k.tensor("S", (1, rows, heads, block))
        state = {name: k.tensor(name, (1, rows, heads, d)) for name in STATE_IN}
        probabilities = k.tensor("P", (1, rows, heads, block))
        state |= {name: k.tensor(name, (1, rows, heads, d)) for name in STATE_OUT}
        row0, head = k.axis("block") * block, k.axis("head")
        s = k.alloc((block, block), "vram", name="s")
        state_tile = k.alloc((block, d), "vram", name="state_tile")
        m_old = k.alloc((block,), "fpram", name="m_old")
        m_new = k.alloc((block,), "fpram", name="m_new")
        running_sum = k.alloc((block,), "fpram", name="running_sum")
        alpha = k.alloc((block,), "fpram", name="alpha")
        row_sum = k.alloc((block,), "fpram", name="row_sum")
        tile_rows, state_rows = (1, block, 1, block), (1, block, 1, d)
        k.copy(scores[0, row0, head, 0], s, src_sizes=tile_rows)
        for name, fp in zip(STATE_IN, (m_old, running_sum), strict=True):
            k.copy(state[name][0, row0, head, 0], state_tile, src_sizes=state_rows)
            k.reduce_max(fp, state_tile)
        online_softmax_step(k, s, m_old, m_new, alpha, row_sum, running_sum)
        k.copy(s, probabilities[0, row0, head, 0], dst_sizes=tile_rows)
        for name, fp in zip(STATE_OUT, (m_new, running_sum, alpha), strict=True):
            k.fill(state_tile, 0.0)
            state_tile += fp
            k.copy(state_tile, state[name][0, row0, head, 0], dst_sizes=state_rows)
    return k.module


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The step of the module docstring at the machine's rounding points, every head and row
    at once (state [head, row], scores [head, row, key])."""
    n = Numerics("rounded", target, hbm_format)
    s = n.store(VRAM, n.hbm_input(inputs["S"])[0].transpose(1, 0, 2))
    heads, rows, keys = s.shape
    d = inputs["m_in"].shape[-1]

    def state_in(name: str) -> np.ndarray:
        """[head, row]: the max of each row of the state tile, in FPRAM (V_RED_MAX)."""
        t = n.store(VRAM, n.hbm_input(inputs[name])[0].transpose(1, 0, 2))
        return n.reduce_rows(np.maximum, t.reshape(heads * rows, d), -np.inf).reshape(
            heads, rows
        )

    def state_out(x: np.ndarray) -> np.ndarray:
        """[1, row, head, D]: the FPRAM values broadcast over a zero tile (V_ADD_VF)."""
        t = n.store(VRAM, np.zeros((heads, rows, d), np.float32) + x[..., None])
        return n.store("hbm", t.transpose(1, 0, 2)[None])

    m_old, running_sum = state_in("m_in"), state_in("l_in")
    flat = s.reshape(heads * rows, keys)
    m_new = n.fp(np.fmax(n.reduce_rows(np.maximum, flat, -np.inf).reshape(heads, rows), m_old))
    p = n.store(VRAM, np.exp(n.store(VRAM, s - m_new[..., None])))
    alpha = n.fp(np.exp(n.fp(m_old - m_new)))
    row_sum = n.reduce_rows(np.add, p.reshape(heads * rows, keys), 0.0).reshape(heads, rows)
    running_sum = n.fp(n.fp(running_sum * alpha) + row_sum)
    results = (m_new, running_sum, alpha)
    state = {name: state_out(x) for name, x in zip(STATE_OUT, results, strict=True)}
    return {"P": n.store("hbm", p.transpose(1, 0, 2)[None]), **state}


def make_inputs(
    sizes: Mapping[str, int], rng: np.random.Generator, target: Target
) -> dict[str, np.ndarray]:
    """Scores ~ N(0, 2); a running max around the tile's row maxima (some rows above, some
    below, so both alpha = 1 and alpha < 1 occur) and a running sum of a few units, each the
    same in the D columns of a row."""
    heads, block = sizes["heads"], target.mlen
    rows = sizes["blocks"] * block
    state = (1, rows, heads, 1)
    ones = np.ones((1, 1, 1, sizes["head_dim"]), np.float32)
    return {
        "S": rng.normal(0.0, 2.0, (1, rows, heads, block)).astype(np.float32),
        "m_in": rng.normal(5.0, 1.5, state).astype(np.float32) * ones,
        "l_in": rng.uniform(1.0, 20.0, state).astype(np.float32) * ones,
    }


def default_sizes(target: Target) -> dict[str, int]:
    """Two lane groups of heads of HLEN, two row blocks (on plena-tvm 8 heads x 128 rows)."""
    return {"heads": 2 * target.lanes, "blocks": 2, "head_dim": target.hlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Four lane groups, one row block; heads of one tile width."""
    return ({"heads": 4 * target.lanes, "blocks": 1}, {"heads": 3, "head_dim": target.mlen})


SPECS = (
    KernelSpec(
        name="online_softmax",
        summary="one online-softmax step over an MLEN-key score tile per head: P = exp(S - "
        "m_new), m_new, l_new = l_in * alpha + rowsum(P), alpha = exp(m_in - m_new)",
        sizes=default_sizes,
        build_module=build,
        make_inputs=make_inputs,
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=test_sizes,
    ),
)
