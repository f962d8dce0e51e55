"""Scalar FP and integer instructions (`plena-isa-tvm.md` A3.5/A3.6).

FP: operands widen to f32, the op runs in f32, the result is rounded to the target's FP format
(fp16 on plena-tvm).  The seven ALU ops with rd = 0 are skipped entirely.  FP register indices
at or past the register count abort when executed.

INT: u32 with wrapping; shifts are logical by (amount & 31); S_LUI_INT overwrites with imm<<12;
division by zero gives 0 (DIV) or the dividend (REM).  FPRAM / INTRAM indices are
gp[rs1] + imm2 (wrapping) and abort at or past the memory size.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from plena_mlir.numerics.formats import f32_rounder, round_bf16, round_fp
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.inline import inlinable
from plena_mlir.sim.ops_common import MASK32, Fields, Handler, aborting, fmax, register_error, skip

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor

_ONE = np.float32(1.0)


def _fp_alu(compute: Callable[..., np.floating], arity: int):
    """fD = round_fp(compute(fA[, fB])) in f32; rd = 0 -> skipped.  `compute` takes and gives
    np.float32 scalars (f32 arithmetic); the result is rounded by `f32_rounder`."""

    def factory(ex: Executor, f: Fields) -> Handler:
        t = ex.target
        if f.rd == 0:
            return skip
        regs = (f.rd, f.rs1, f.rs2)[: arity + 1]
        for index in regs:
            if reason := register_error("FP", index, t.fp_registers):
                return aborting(reason)
        fp, rnd, rd, rs1, rs2 = ex.state.fp, f32_rounder(t.fp_format), f.rd, f.rs1, f.rs2
        if arity == 1:

            def handler(pc: int, tick: int) -> int:
                fp[rd] = rnd(float(compute(fp[rs1])))
                return pc + 1

        else:

            def handler(pc: int, tick: int) -> int:
                fp[rd] = rnd(float(compute(fp[rs1], fp[rs2])))
                return pc + 1

        return handler

    return factory


def _window(ex: Executor, mnemonic: str, length: int):
    """`index(start)`: check that FPRAM[start .. start+length-1] exists."""
    size = ex.target.fpram_entries

    def index(start: int) -> int:
        if start + length > size:
            raise MachineFault(
                f"{mnemonic} FPRAM index {start}"
                + (f"..{start + length - 1}" if length > 1 else "")
                + f" is past the end of FPRAM ({size} entries)"
            )
        return start

    return index


def s_ld_fp(ex: Executor, f: Fields) -> Handler:
    """S_LD_FP: f[rd] = FPRAM[gp[rs1] + imm2]   (f0 can be written).  The value is copied as
    its bits (`Executor.fp_bits`, `fpram_bits`)."""
    if reason := register_error("FP", f.rd, ex.target.fp_registers):
        return aborting(reason)
    return inlinable(
        "i = gp[rs1] + imm; fp[rd] = fpram[i if i < size else index(i & 0xFFFFFFFF)]",
        gp=ex.state.gp, fp=ex.fp_bits, fpram=ex.fpram_bits, rd=f.rd, rs1=f.rs1, imm=f.imm2,
        size=ex.target.fpram_entries, index=_window(ex, "S_LD_FP", 1),
    )


def s_st_fp(ex: Executor, f: Fields) -> Handler:
    """S_ST_FP: FPRAM[gp[rs1] + imm2] = f[rd] (its bits)."""
    if reason := register_error("FP", f.rd, ex.target.fp_registers):
        return aborting(reason)
    return inlinable(
        "i = gp[rs1] + imm; fpram[i if i < size else index(i & 0xFFFFFFFF)] = fp[rd]",
        gp=ex.state.gp, fp=ex.fp_bits, fpram=ex.fpram_bits, rd=f.rd, rs1=f.rs1, imm=f.imm2,
        size=ex.target.fpram_entries, index=_window(ex, "S_ST_FP", 1),
    )


def s_map_v_fp(ex: Executor, f: Fields) -> Handler:
    """S_MAP_V_FP: VROW(gp[rd])[j] = bf16(FPRAM[gp[rs1] + imm2 + j]) for j < V."""
    st, V = ex.state, ex.target.vlen
    gp, vram, fpram, rd, rs1, imm = st.gp, st.vram, st.fpram, f.rd, f.rs1, f.imm2
    index, first_row = _window(ex, "S_MAP_V_FP", V), ex.first_row

    def handler(pc: int, tick: int) -> int:
        start = index((gp[rs1] + imm) & MASK32)
        vram[first_row(gp[rd])] = round_bf16(fpram[start : start + V])
        return pc + 1

    return handler


def s_map_fp_v(ex: Executor, f: Fields) -> Handler:
    """S_MAP_FP_V: FPRAM[gp[rd] + imm2 + j] = round_fp(VROW(gp[rs1])[j]) for j < V."""
    st, t = ex.state, ex.target
    gp, vram, fpram, rd, rs1, imm = st.gp, st.vram, st.fpram, f.rd, f.rs1, f.imm2
    V, fmt = t.vlen, t.fp_format
    index, first_row = _window(ex, "S_MAP_FP_V", V), ex.first_row

    def handler(pc: int, tick: int) -> int:
        start = index((gp[rd] + imm) & MASK32)
        fpram[start : start + V] = round_fp(vram[first_row(gp[rs1])], fmt)
        return pc + 1

    return handler


#: The integer ALU: gp[rd] = op(gp[rs1], b) & 0xFFFFFFFF, where b = imm2 for the
#: `INT_IMMEDIATE` forms and gp[rs2] for the others.  The handlers below and the timing-only
#: loop analysis (`loop_summary.py`) share it.
INT_ALU: dict[str, Callable[[int, int], int]] = {
    "S_ADD_INT": operator.add,
    "S_ADDI_INT": operator.add,
    "S_SUB_INT": operator.sub,
    "S_MUL_INT": operator.mul,
    "S_SLL_INT": lambda a, b: a << (b & 31),
    "S_SLLI_INT": lambda a, b: a << (b & 31),
    "S_SRL_INT": lambda a, b: a >> (b & 31),
    "S_SRLI_INT": lambda a, b: a >> (b & 31),
    "S_DIV_INT": lambda a, b: a // b if b else 0,
    "S_REM_INT": lambda a, b: a % b if b else a,
}
INT_IMMEDIATE = frozenset({"S_ADDI_INT", "S_SLLI_INT", "S_SRLI_INT"})


def _int_alu(mnemonic: str):
    """gp[rd] = INT_ALU[mnemonic](gp[rs1], imm2 or gp[rs2]) & 0xFFFFFFFF."""
    compute = INT_ALU[mnemonic]

    def factory(ex: Executor, f: Fields) -> Handler:
        gp, rd, rs1, rs2, imm = ex.state.gp, f.rd, f.rs1, f.rs2, f.imm2

        if mnemonic in INT_IMMEDIATE:

            def handler(pc: int, tick: int) -> int:
                gp[rd] = compute(gp[rs1], imm) & MASK32
                return pc + 1

        else:

            def handler(pc: int, tick: int) -> int:
                gp[rd] = compute(gp[rs1], gp[rs2]) & MASK32
                return pc + 1

        return handler

    return factory


def s_add_int(ex: Executor, f: Fields) -> Handler:
    """S_ADD_INT: gp[rd] = gp[rs1] + gp[rs2] (mod 2^32); the hot path, inlinable."""
    return inlinable("gp[rd] = (gp[rs1] + gp[rs2]) & 0xFFFFFFFF",
                     gp=ex.state.gp, rd=f.rd, rs1=f.rs1, rs2=f.rs2)


def s_addi_int(ex: Executor, f: Fields) -> Handler:
    """S_ADDI_INT: gp[rd] = gp[rs1] + imm2 (mod 2^32); the hot path, inlinable."""
    return inlinable("gp[rd] = (gp[rs1] + imm) & 0xFFFFFFFF",
                     gp=ex.state.gp, rd=f.rd, rs1=f.rs1, imm=f.imm2)


def s_lui_int(ex: Executor, f: Fields) -> Handler:
    """S_LUI_INT: gp[rd] = (imm << 12) mod 2^32 (bit 20 of the 21-bit imm is lost)."""
    gp, rd, value = ex.state.gp, f.rd, (f.imm << 12) & MASK32

    def handler(pc: int, tick: int) -> int:
        gp[rd] = value
        return pc + 1

    return handler


def _intram_index(ex: Executor, mnemonic: str):
    size = ex.target.intram_entries

    def index(i: int) -> int:
        if i >= size:
            raise MachineFault(
                f"{mnemonic} INTRAM index {i} is past the end of INTRAM ({size} entries)"
            )
        return i

    return index


def s_ld_int(ex: Executor, f: Fields) -> Handler:
    """S_LD_INT: gp[rd] = INTRAM[gp[rs1] + imm2]."""
    st = ex.state
    gp, intram, rd, rs1, imm = st.gp, st.intram, f.rd, f.rs1, f.imm2
    index = _intram_index(ex, "S_LD_INT")

    def handler(pc: int, tick: int) -> int:
        gp[rd] = int(intram[index((gp[rs1] + imm) & MASK32)])
        return pc + 1

    return handler


def s_st_int(ex: Executor, f: Fields) -> Handler:
    """S_ST_INT: INTRAM[gp[rs1] + imm2] = gp[rd]."""
    st = ex.state
    gp, intram, rd, rs1, imm = st.gp, st.intram, f.rd, f.rs1, f.imm2
    index = _intram_index(ex, "S_ST_INT")

    def handler(pc: int, tick: int) -> int:
        intram[index((gp[rs1] + imm) & MASK32)] = gp[rd]
        return pc + 1

    return handler


FACTORIES = {
    "S_ADD_FP": _fp_alu(operator.add, 2),
    "S_SUB_FP": _fp_alu(operator.sub, 2),
    "S_MAX_FP": _fp_alu(fmax, 2),
    "S_MUL_FP": _fp_alu(operator.mul, 2),
    "S_EXP_FP": _fp_alu(np.exp, 1),
    "S_RECI_FP": _fp_alu(lambda x: _ONE / x, 1),
    "S_SQRT_FP": _fp_alu(np.sqrt, 1),
    "S_LD_FP": s_ld_fp,
    "S_ST_FP": s_st_fp,
    "S_MAP_V_FP": s_map_v_fp,
    "S_MAP_FP_V": s_map_fp_v,
    "S_ADD_INT": s_add_int,
    "S_ADDI_INT": s_addi_int,
    **{m: _int_alu(m) for m in INT_ALU if m not in ("S_ADD_INT", "S_ADDI_INT")},
    "S_LUI_INT": s_lui_int,
    "S_LD_INT": s_ld_int,
    "S_ST_INT": s_st_int,
}
