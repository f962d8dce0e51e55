"""What a `tile.gemm` leaves in C on the machine, per instruction form (for goldens).

    c = gemm_result(form, a, b, transposed_b, target)            # C = A·B'
    c = gemm_result(form, a, b, transposed_b, target, c=c_old)   # C += A·B'

`a` holds A's VRAM values (bf16), `b` B as stored in MRAM (f32; (N, K) when `transposed_b`).
For one lane of a `lane.gemm` they are that lane's operands (N may be a head's H columns: the
lane-sum forms' partials of those columns are the same numbers the whole tile's would be).

- M_MM / M_TMM / M_MV: replayed instruction by instruction, bit for bit as the simulator
  computes them: per Bl x Bl block of C (one row x Bl for M_MV), m_accum (v_accum) adds the
  float32 product of each K tile in turn (the very NumPy call plena_mlir/sim/ops_matrix.py
  makes, so it sums in the same order), one bf16 rounding at the write-out; `+=` adds the
  written product to C, rounded again.  (The exactly rounded sum differs from the
  accumulator's in the last f32 bit now and then, and with K of 256 or more terms that
  reaches the bf16 result often enough to show in a kernel's output.)
- lane-sum forms: replayed instruction by instruction, bit for bit as the simulator computes
  them: per M-row tile and N tile, hm_accum (L x M x M, f32) accumulates one f32 batched
  product per K tile (lane l contracts the columns l*H .. l*H+H-1 of the K tile), each lane
  partial P_l is rounded to bf16 by the write-out, and C = bf16(...bf16(bf16(P_0 + P_1) +
  P_2)... + P_(L-1)) (`+=`: starting from C + P_0).  M_BTMV (one row, hv_accum) likewise,
  row by row.
"""

from __future__ import annotations

import numpy as np

from plena_mlir.gemm.forms import Form
from plena_mlir.numerics.formats import round_bf16
from plena_mlir.target import Target


def gemm_result(
    form: Form,
    a: np.ndarray,
    b: np.ndarray,
    transposed_b: bool,
    target: Target,
    c: np.ndarray | None = None,
) -> np.ndarray:
    """C after the gemm (module docstring), float32 holding bf16 values."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if not form.lane_sum:
        product = round_bf16(_block_products(a, b, transposed_b, target, form is Form.MV))
        return product if c is None else round_bf16(np.asarray(c, np.float32) + product)
    partials = _lane_partials(a, b, transposed_b, target, form is Form.BTMV_LANE_SUM)
    total = partials[0] if c is None else round_bf16(np.asarray(c, np.float32) + partials[0])
    for part in partials[1:]:
        total = round_bf16(total + part)
    return total


def _block_products(
    a: np.ndarray, b: np.ndarray, transposed_b: bool, target: Target, by_row: bool
) -> np.ndarray:
    """A·B' in f32 as m_accum (v_accum `by_row`) holds it before the write-out: per K tile,
    per Bl-column block of each N tile, the product of every Bl-row block (every row) with
    the tile's columns (M_MM, M_MV: TILE[:, c : c + Bl]) or rows (M_TMM: TILE[c : c + Bl].T),
    added to the accumulator in f32.  The row blocks are one stacked np.matmul, which makes
    the simulator's BLAS call once per block."""
    M, B = target.mlen, target.blen
    m, k = a.shape
    n = b.shape[0] if transposed_b else b.shape[1]
    step = 1 if by_row else B
    rows = -(-m // step) * step
    n_tiles = -(-n // M)
    padded = np.zeros((rows, k), dtype=np.float32)
    padded[:m] = a
    acc = np.zeros((rows, n_tiles * M), dtype=np.float32)
    for kt in range(k // M):
        x = np.ascontiguousarray(padded[:, kt * M : (kt + 1) * M]).reshape(rows // step, step, M)
        if by_row:
            x = x[:, 0]
        for nt in range(n_tiles):
            tile = np.zeros((M, M), dtype=np.float32)
            if transposed_b:
                part = b[nt * M : (nt + 1) * M, kt * M : (kt + 1) * M]
                tile[: part.shape[0]] = part
            else:
                part = b[kt * M : (kt + 1) * M, nt * M : (nt + 1) * M]
                tile[:, : part.shape[1]] = part
            for col in range(0, min(M, n - nt * M), B):
                weights = tile[col : col + B].T if transposed_b else tile[:, col : col + B]
                block = acc[:, nt * M + col : nt * M + col + B]
                block += (x @ weights).reshape(rows, B)
    return acc[:m, :n]


def _lane_partials(a: np.ndarray, b: np.ndarray, transposed_b: bool, target: Target, by_row: bool):
    """[P_l]: the bf16 lane partial products as M_BMM_WO (M_BMV_WO `by_row`) writes them."""
    M, H, L = target.mlen, target.hlen, target.lanes
    scale = np.float32(target.bmm_scale)
    m, k = a.shape
    n = b.shape[0] if transposed_b else b.shape[1]
    rows = -(-m // M) * M
    padded = np.zeros((rows, k), dtype=np.float32)
    padded[:m] = a
    partials = np.zeros((L, rows, n), dtype=np.float32)
    for mt in range(rows // M):
        for nt in range(-(-n // M)):
            columns = slice(nt * M, min(n, (nt + 1) * M))  # a lane's C: H columns of a tile
            w = columns.stop - columns.start
            acc = np.zeros((L, M, w), dtype=np.float32)
            for kt in range(k // M):
                x = np.ascontiguousarray(padded[mt * M : (mt + 1) * M, kt * M : (kt + 1) * M])
                x = x.reshape(M, L, H).transpose(1, 0, 2)
                if transposed_b:
                    tile = np.ascontiguousarray(b[columns, kt * M : (kt + 1) * M])
                    weights = tile.reshape(w, L, H).transpose(1, 2, 0)
                else:
                    tile = np.ascontiguousarray(b[kt * M : (kt + 1) * M, columns])
                    weights = tile.reshape(L, H, w)
                if by_row:
                    for r in range(M):
                        q = np.ascontiguousarray(x[:, r : r + 1])
                        row = np.matmul(q, weights).reshape(L, w)
                        np.add(acc[:, r], row * scale, out=acc[:, r])
                else:
                    np.add(acc, np.matmul(x, weights) * scale, out=acc)
            partials[:, mt * M : (mt + 1) * M, columns] = round_bf16(acc)
    return [partials[lane, :m] for lane in range(L)]


def lane_scores(q: np.ndarray, keys: np.ndarray, q_rows: int, target: Target) -> np.ndarray:
    """S = Q·Kᵀ of every head, [head, row, key] in f32, as the f32 accumulator of M_BTMM (q_rows
    = MLEN) or M_BTMV (q_rows = 1, one row per instruction) holds it, q [head, row, d] (bf16
    values) and keys [head, key, d] (f32, one kv block).

    The machine sums the H products of a score in f32 in its own order, which is not the
    exactly rounded sum.  Per group of L heads and block of q_rows rows this makes the very
    NumPy call the simulator makes (plena_mlir/sim/ops_matrix.py m_btmm / m_btmv): float32
    matmul of the lanes of the packed Q rows (q_rows x L*H, as VRAM holds them) and of the
    packed K tile (keys x L*H, as MRAM holds it), times bmm_scale, so it sums in the same
    order (with NumPy's OpenBLAS: one fused multiply-add per d, d = 0 .. H-1)."""
    lanes, hlen = target.lanes, target.hlen
    heads, rows, _ = q.shape
    n_keys = keys.shape[1]
    scale = np.float32(target.bmm_scale)
    scores = np.empty((heads, rows, n_keys), np.float32)
    for g in range(0, heads, lanes):
        tile = keys[g : g + lanes].transpose(1, 0, 2).reshape(n_keys, lanes * hlen)
        k = tile.astype(np.float32).reshape(n_keys, lanes, hlen).transpose(1, 2, 0)
        for r in range(0, rows, q_rows):
            packed = q[g : g + lanes, r : r + q_rows].transpose(1, 0, 2).reshape(q_rows, -1)
            packed = packed.astype(np.float32)
            if q_rows == 1:
                lane_rows = packed.reshape(lanes, 1, hlen)  # M_BTMV: one VRAM row
            else:
                lane_rows = packed.reshape(q_rows, lanes, hlen).transpose(1, 0, 2)
            scores[g : g + lanes, r : r + q_rows] = np.matmul(lane_rows, k) * scale
    return scores
