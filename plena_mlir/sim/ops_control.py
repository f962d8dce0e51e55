"""Control instructions: special registers and hardware loops (`plena-isa-tvm.md` A3.7,
`plena-isa.md` section 6).

Loop frames live in `Executor.frames` as `[counter register, pc of C_LOOP_START, tick of the
last reset]`; the executor's dispatch loop enforces MAX_LOOP_INSTRUCTIONS from the reset ticks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.ops_common import Fields, Handler, aborting, register_error

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor


def c_set_addr_reg(ex: Executor, f: Fields) -> Handler:
    """C_SET_ADDR_REG: a[rd] = gp[rs1] * 2^32 + gp[rs2]."""
    if reason := register_error("address", f.rd, ex.target.addr_registers):
        return aborting(reason)
    st = ex.state
    gp, areg, rd, rs1, rs2 = st.gp, st.areg, f.rd, f.rs1, f.rs2

    def handler(pc: int, tick: int) -> int:
        areg[rd] = (gp[rs1] << 32) | gp[rs2]
        return pc + 1

    return handler


def _set_special(name: str):
    """C_SET_SCALE_REG / C_SET_STRIDE_REG / C_SET_V_MASK_REG: the register = gp[rd]."""

    def factory(ex: Executor, f: Fields) -> Handler:
        st, gp, rd = ex.state, ex.state.gp, f.rd

        def handler(pc: int, tick: int) -> int:
            setattr(st, name, gp[rd])
            return pc + 1

        return handler

    return factory


def c_loop_start(ex: Executor, f: Fields) -> Handler:
    """C_LOOP_START gpC, N: abort if N == 0; gp[C] = N; push frame {C, this pc, now}."""
    if f.imm == 0:
        return aborting("C_LOOP_START with an iteration count of 0")
    gp, frames, rd, count = ex.state.gp, ex.frames, f.rd, f.imm

    def handler(pc: int, tick: int) -> int:
        gp[rd] = count
        frames.append([rd, pc, tick])
        return pc + 1

    return handler


def c_loop_end(ex: Executor, f: Fields) -> Handler:
    """C_LOOP_END gpC: take the newest frame whose register is C (abort if none).
    If the CURRENT gp[C] > 1: gp[C] -= 1, reset the frame's instruction count, jump to the
    instruction after its C_LOOP_START.  Else gp[C] = 0, remove that frame, fall through.
    """
    gp, frames, rd = ex.state.gp, ex.frames, f.rd

    def handler(pc: int, tick: int) -> int:
        i = len(frames) - 1
        while i >= 0 and frames[i][0] != rd:
            i -= 1
        if i < 0:
            raise MachineFault(f"C_LOOP_END gp{rd}: no open loop counts in gp{rd}")
        frame = frames[i]
        value = gp[rd]
        if value > 1:
            gp[rd] = value - 1
            frame[2] = tick
            return frame[1] + 1
        gp[rd] = 0
        del frames[i]
        return pc + 1

    return handler


def c_break(ex: Executor, f: Fields) -> Handler:
    """C_BREAK (0x31): pop the innermost frame, zero its register, continue at pc + 1."""
    gp, frames = ex.state.gp, ex.frames

    def handler(pc: int, tick: int) -> int:
        if not frames:
            raise MachineFault("C_BREAK with no open loop")
        gp[frames.pop()[0]] = 0
        return pc + 1

    return handler


FACTORIES = {
    "C_SET_ADDR_REG": c_set_addr_reg,
    "C_SET_SCALE_REG": _set_special("scale"),
    "C_SET_STRIDE_REG": _set_special("stride"),
    "C_SET_V_MASK_REG": _set_special("vmask"),
    "C_LOOP_START": c_loop_start,
    "C_LOOP_END": c_loop_end,
    "C_BREAK": c_break,
}
