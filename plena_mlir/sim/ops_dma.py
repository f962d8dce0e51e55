"""HBM transfer instructions H_PREFETCH_M / H_PREFETCH_V / H_STORE_V (`plena-isa-tvm.md` A4).

Operands: rd = GP with the on-chip address, rs1 = GP with the HBM offset, rs2 = the HBM
address-register index (base), rs3 = the rstride literal (exactly 1 -> rows STRIDE apart,
anything else -> rows one row length apart), funct1 = the precision literal (0 -> the
weight/activation format, anything else -> the KV format).  The address arithmetic, MX
coding, bounds checks and DMA cycles are the `Hbm` model's; each handler adds the cycles
it returns to this pc's DMA total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from plena_mlir.numerics.formats import round_bf16
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.ops_common import Fields, Handler, aborting, register_error
from plena_mlir.target import MxFormat, Target

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor


class TransferShape(NamedTuple):
    """What an H_* instruction moves: `rows` rows of `row_len` elements in `fmt`."""

    store: bool
    rows: int
    row_len: int
    fmt: MxFormat


def transfer_shape(mnemonic: str, f: Fields, t: Target) -> TransferShape:
    """The rows, row length and HBM format of one H_* instruction (funct1 = precision)."""
    if mnemonic == "H_PREFETCH_M":
        fmt = t.hbm_m_weight_format if f.funct1 == 0 else t.hbm_m_kv_format
        return TransferShape(False, t.hbm_m_prefetch_rows, t.mlen, fmt)
    fmt = t.hbm_v_act_format if f.funct1 == 0 else t.hbm_v_kv_format
    if mnemonic == "H_PREFETCH_V":
        return TransferShape(False, t.hbm_v_prefetch_rows, t.vlen, fmt)
    return TransferShape(True, t.hbm_v_writeback_rows, t.vlen, fmt)


def _checked(ex: Executor, f: Fields) -> str | None:
    return register_error("address", f.rs2, ex.target.addr_registers)


def h_prefetch_m(ex: Executor, f: Fields) -> Handler:
    """H_PREFETCH_M: R = HBM_M_Prefetch_Amount rows of M elements, decoded to f32 (unrounded);
    row r -> MRAM tile gp[rd]/M^2 + r div M, tile row r mod M.
    Abort unless gp[rd] is a multiple of M^2 and every tile exists.
    """
    if reason := _checked(ex, f):
        return aborting(reason)
    st, t, hbm, dma = ex.state, ex.target, ex.hbm, ex.dma_cycles
    gp, areg, mram = st.gp, st.areg, st.mram
    rd, rs1, rs2, use_stride = f.rd, f.rs1, f.rs2, f.rs3 == 1
    _, R, M, fmt = transfer_shape("H_PREFETCH_M", f, t)
    T, tiles = t.tile_elements, t.mram_tiles
    count = R // M

    def handler(pc: int, tick: int) -> int:
        dst = gp[rd]
        if dst % T:
            raise MachineFault(
                f"H_PREFETCH_M destination {dst} is not a multiple of MLEN^2 ({T})"
            )
        tile = dst // T
        if tile + count > tiles:
            raise MachineFault(
                f"H_PREFETCH_M writes MRAM tiles {tile}..{tile + count - 1}, past the end of "
                f"MRAM ({tiles} tiles)"
            )
        stride = st.stride if use_stride else M
        values, cycles = hbm.read_rows(areg[rs2], gp[rs1], stride, st.scale, R, M, fmt)
        mram[tile : tile + count] = values.reshape(count, M, M)
        dma[pc] += cycles
        return pc + 1

    return handler


def h_prefetch_v(ex: Executor, f: Fields) -> Handler:
    """H_PREFETCH_V: R = HBM_V_Prefetch_Amount rows of V elements;
    row r -> VROW(gp[rd] + r*V) rounded to bf16; rows past the end of VRAM are dropped.
    Abort unless gp[rd] is a multiple of V.
    """
    if reason := _checked(ex, f):
        return aborting(reason)
    st, t, hbm, dma = ex.state, ex.target, ex.hbm, ex.dma_cycles
    gp, areg, vram = st.gp, st.areg, st.vram
    rd, rs1, rs2, use_stride = f.rd, f.rs1, f.rs2, f.rs3 == 1
    _, R, V, fmt = transfer_shape("H_PREFETCH_V", f, t)
    rows = t.vram_rows

    def handler(pc: int, tick: int) -> int:
        dst = gp[rd]
        if dst % V:
            raise MachineFault(f"H_PREFETCH_V destination {dst} is not a multiple of VLEN ({V})")
        stride = st.stride if use_stride else V
        values, cycles = hbm.read_rows(areg[rs2], gp[rs1], stride, st.scale, R, V, fmt)
        row = dst // V
        kept = max(0, min(R, rows - row))
        if kept:
            vram[row : row + kept] = round_bf16(values[:kept])
        dma[pc] += cycles
        return pc + 1

    return handler


def h_store_v(ex: Executor, f: Fields) -> Handler:
    """H_STORE_V: R = HBM_V_Writeback_Amount rows VROW(gp[rd] + r*V) -> HBM, MX-encoded by the
    TVM store encoder.  Abort if any source row is misaligned or past the end of VRAM.
    """
    if reason := _checked(ex, f):
        return aborting(reason)
    st, t, hbm, dma = ex.state, ex.target, ex.hbm, ex.dma_cycles
    gp, areg, vram, first_row = st.gp, st.areg, st.vram, ex.first_row
    rd, rs1, rs2, use_stride = f.rd, f.rs1, f.rs2, f.rs3 == 1
    _, R, V, fmt = transfer_shape("H_STORE_V", f, t)

    def handler(pc: int, tick: int) -> int:
        row = first_row(gp[rd], R)
        stride = st.stride if use_stride else V
        cycles = hbm.write_rows(areg[rs2], gp[rs1], stride, st.scale, vram[row : row + R], fmt)
        dma[pc] += cycles
        return pc + 1

    return handler


FACTORIES = {
    "H_PREFETCH_M": h_prefetch_m,
    "H_PREFETCH_V": h_prefetch_v,
    "H_STORE_V": h_store_v,
}
