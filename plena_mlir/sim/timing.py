"""Timing-only runs: the handlers of an executor that computes costs and no values.

Cycles and HBM traffic depend on the timing state only (`loop_summary.py`), so a
timing-only run executes

- every S_*_INT instruction, C_SET_*, C_LOOP_END and C_BREAK as a full run does;
- H_PREFETCH_M / H_PREFETCH_V / H_STORE_V as their cost: the HBM address checks, the DMA
  cycles and the bytes (`Hbm.transfer_cost`), no data;
- C_LOOP_START as a full run does, then `LoopSummaries.skip`, which charges all but the last
  iteration of a loop it can summarise;
- every matrix, vector and scalar FP instruction as nothing at all.

An instruction that aborts whenever it runs (a register index past the register file, a
word that is no instruction) aborts here too.  Checks on values a timing-only run does not
keep -- VRAM rows, MRAM tiles, FPRAM indices, the on-chip side of a transfer -- are not made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plena_mlir.isa.opcodes import InstrClass, OpcodeInfo
from plena_mlir.sim.ops_common import Fields, Handler, always_aborts, skip
from plena_mlir.sim.ops_dma import transfer_shape

if TYPE_CHECKING:
    from plena_mlir.sim.loop_summary import LoopSummaries
    from plena_mlir.sim.machine import Executor

_NO_TIMING_STATE = frozenset({InstrClass.MATRIX, InstrClass.VECTOR, InstrClass.SCALAR_FP})


def timing_handler(
    ex: Executor, f: Fields, info: OpcodeInfo, full: Handler, summaries: LoopSummaries
) -> Handler:
    """The timing-only handler of a word whose full handler is `full`."""
    if always_aborts(full):
        return full
    if info.klass in _NO_TIMING_STATE:
        return skip
    if info.klass is InstrClass.HBM:
        return _transfer_cost(ex, f, info.mnemonic)
    if info.mnemonic == "C_LOOP_START":
        return _summarising_loop_start(full, summaries)
    return full


def _transfer_cost(ex: Executor, f: Fields, mnemonic: str) -> Handler:
    """An H_* instruction's checks, DMA cycles and HBM bytes."""
    store, rows, row_len, fmt = transfer_shape(mnemonic, f, ex.target)
    st, hbm, dma = ex.state, ex.hbm, ex.dma_cycles
    gp, areg, rs1, rs2, use_stride = st.gp, st.areg, f.rs1, f.rs2, f.rs3 == 1
    cost = hbm.transfer_cost

    def handler(pc: int, tick: int) -> int:
        stride = st.stride if use_stride else row_len
        cycles, read, written = cost(store, areg[rs2], gp[rs1], stride, st.scale, rows,
                                     row_len, fmt)
        dma[pc] += cycles
        hbm.bytes_read += read
        hbm.bytes_written += written
        return pc + 1

    return handler


def _summarising_loop_start(full: Handler, summaries: LoopSummaries) -> Handler:
    """C_LOOP_START, then as many iterations charged at once as can be (the frame's reset
    tick moved past them)."""
    skip, frames, skipped = summaries.skip, summaries.ex.frames, summaries.skipped

    def handler(pc: int, tick: int) -> int:
        full(pc, tick)
        if skip(pc, tick):
            frames[-1][2] = tick + skipped[0]
        return pc + 1

    return handler
