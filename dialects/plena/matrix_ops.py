"""Matrix (systolic array) instructions: M_*.

Notation (plena-isa-tvm.md A3.1, A3.2): M = MLEN, B = BLEN, H = HLEN, L = M/H lanes.  For an
MRAM address m, t = m - m mod M^2 is the tile base, o = m mod M^2 the in-tile offset and
TILE(t) the M x M tile there.  VROW(x) is the VRAM row at element address x (x mod M = 0).
The accumulators m_accum (B x B), v_accum (B), hm_accum (L x M x M) and hv_accum (L x M)
are f32; write-outs round to bf16 and clear them.
"""

from plena_mlir.dialects.plena.base import instruction
from xdsl.irdl import irdl_op_definition


@irdl_op_definition
class M_MmOp(instruction("M_MM")):
    """Matrix x matrix block, element-granular columns.

        m = gp[mram]; v = gp[vram]; c = o              # requires o < M, o mod B = 0
        for i, j < B: m_accum[i][j] += sum_k<M VROW(v + i*M)[k] * TILE(t)[k][c + j]
    """


@irdl_op_definition
class M_TmmOp(instruction("M_TMM")):
    """Matrix x transposed tile rows (note the VRAM operand comes first).

        v = gp[vram]; m = gp[mram]; r = o / M          # requires o mod M = 0, r mod B = 0
        for i, j < B: m_accum[i][j] += sum_k<M VROW(v + i*M)[k] * TILE(t)[r + j][k]
    """


@irdl_op_definition
class M_TmmAOp(instruction("M_TMM_A")):
    """Intended A-transpose matrix product; on plena-tvm it executes exactly as M_MM.

        m_accum += (as M_MM with m = gp[mram], v = gp[vram])
    """


@irdl_op_definition
class M_BmmOp(instruction("M_BMM")):
    """Lane-paired matrix product: lane l uses tile rows l*H .. l*H+H-1.

        m = gp[mram] (tile-aligned); v = gp[vram]
        for l < L, q, n < M:
            hm_accum[l][q][n] += sum_d<H VROW(v + q*M)[l*H + d] * TILE(t)[l*H + d][n]
    """


@irdl_op_definition
class M_BtmmOp(instruction("M_BTMM")):
    """Lane-paired Q x K^T: each lane l its own H-wide head slice (scale 1.0).

        m = gp[mram] (tile-aligned); v = gp[vram]
        for l < L, q, k < M:
            hm_accum[l][q][k] += sum_d<H VROW(v + q*M)[l*H + d] * TILE(t)[k][l*H + d]
    """


@irdl_op_definition
class M_BmmWoOp(instruction("M_BMM_WO")):
    """Write hm_accum out as L*M whole VRAM rows, head-major.

        d = gp[dst] + imm                              # imm must be 0 (encoding mismatch)
        for l < L, i < M: VROW(d + (l*M + i)*M) = bf16(hm_accum[l][i])   # d mod M = 0
        hm_accum = 0
    """


@irdl_op_definition
class M_MmWoOp(instruction("M_MM_WO")):
    """Write m_accum into B columns of B VRAM rows (read-modify-write).

        d = gp[dst] + imm; s = 1 if stride is gp0 else gp[stride]
        base = d - d mod M; c = d mod M                # c mod B = 0
        for i < B: VROW(base + i*M*s)[c .. c+B-1] = bf16(m_accum[i])
        m_accum = 0
    """


@irdl_op_definition
class M_MvOp(instruction("M_MV")):
    """Vector x matrix, B output columns.

        m = gp[mram]; v = gp[vram]                     # requires o < M, o mod B = 0
        for j < B: v_accum[j] += sum_k<M VROW(v)[k] * TILE(t)[k][o + j]
    """


@irdl_op_definition
class M_TmvOp(instruction("M_TMV")):
    """Vector x transposed tile rows 0 .. B-1.

        m = gp[mram] (tile-aligned); v = gp[vram]
        for j < B: v_accum[j] += sum_k<M VROW(v)[k] * TILE(m)[j][k]
    """


@irdl_op_definition
class M_BmvOp(instruction("M_BMV")):
    """Lane-paired vector x matrix.  Always aborts on the plena-tvm emulator.

        m = gp[mram] + gp[offset]; v = gp[vram]
        intended: for l < L, n < M:
            hv_accum[l][n] += sum_d<H VROW(v)[l*H + d] * TILE(t)[l*H + d][n]
    """


@irdl_op_definition
class M_BtmvOp(instruction("M_BTMV")):
    """Lane-paired q x K^T for one query row (1 cycle).

        m = gp[mram] + gp[offset] (tile-aligned); v = gp[vram]
        for l < L, k < M: hv_accum[l][k] += sum_d<H VROW(v)[l*H + d] * TILE(t)[k][l*H + d]
    """


@irdl_op_definition
class M_MvWoOp(instruction("M_MV_WO")):
    """Write v_accum into B columns of one VRAM row (read-modify-write).

        d = gp[dst] + imm                              # imm must be 0 (encoding mismatch)
        VROW(d - d mod M)[c .. c+B-1] = bf16(v_accum), c = d mod M   # c mod B = 0
        v_accum = 0
    """


@irdl_op_definition
class M_BmvWoOp(instruction("M_BMV_WO")):
    """Write hv_accum out as L VRAM rows.

        d = gp[dst] + imm                              # imm must be 0 (encoding mismatch)
        for l < L: VROW(d + l*M) = bf16(hv_accum[l])   # d mod M = 0
        hv_accum = 0
    """


MATRIX_OPS = (
    M_MmOp,
    M_TmmOp,
    M_TmmAOp,
    M_BmmOp,
    M_BtmmOp,
    M_BmmWoOp,
    M_MmWoOp,
    M_MvOp,
    M_TmvOp,
    M_BmvOp,
    M_BtmvOp,
    M_MvWoOp,
    M_BmvWoOp,
)
