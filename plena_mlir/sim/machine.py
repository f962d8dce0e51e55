"""The machine state of a plena-tvm accelerator and the executor that runs programs on it.

`MachineState` is everything a program can read or write besides HBM (`plena-isa-tvm.md` A2):
registers, the special registers, the on-chip memories and the four accumulators, all in the
emulator's numeric formats (VRAM bf16 values, MRAM and accumulators f32, FP registers and
FPRAM in the target's `fp_format`, INTRAM u32).

`Executor.run(words)` decodes every word once into a handler closure (`ops_common`), then
runs the dispatch loop

    tick = 0
    while pc < len(program):
        tick += 1                      # the emulator's per-dispatch loop-guard step
        counts[pc] += 1
        pc = handlers[pc](pc, tick)

A condition the emulator aborts on raises `SimulationError(pc, instruction, reason, line)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from plena_mlir.isa.encoding import decode
from plena_mlir.isa.instruction import IsaError, format_instruction
from plena_mlir.isa.opcodes import TVM_BY_OPCODE
from plena_mlir.sim import ops_control, ops_dma, ops_matrix, ops_scalar, ops_vector
from plena_mlir.sim.errors import MachineFault, SimulationError
from plena_mlir.sim.hbm import Hbm
from plena_mlir.sim.ops_common import Fields, Handler, aborting, vram_rows_checker
from plena_mlir.target import Target

_FACTORIES = {
    **ops_matrix.FACTORIES,
    **ops_vector.FACTORIES,
    **ops_scalar.FACTORIES,
    **ops_dma.FACTORIES,
    **ops_control.FACTORIES,
}


@dataclass(eq=False, slots=True)
class MachineState:
    """Registers, memories and accumulators; `MachineState.reset(target)` is the power-on state."""

    target: Target
    gp: list[int]  # gp_registers x u32 (gp0 is writable)
    fp: np.ndarray  # float32[fp_registers], values representable in target.fp_format
    areg: list[int]  # addr_registers x u64 HBM base addresses
    scale: int  # SCALE: distance from a tensor's elements to its MX scales
    stride: int  # STRIDE: HBM row pitch used when an H_* rstride literal is 1
    vmask: int  # V_MASK: bit h enables head h of a masked vector op
    vram: np.ndarray  # float32[vram_rows, vlen], bf16 values
    mram: np.ndarray  # float32[mram_tiles, mlen, mlen], unrounded
    fpram: np.ndarray  # float32[fpram_entries], fp_format values
    intram: np.ndarray  # uint32[intram_entries]
    m_accum: np.ndarray  # float32[blen, blen]: M_MM / M_TMM / M_TMM_A
    v_accum: np.ndarray  # float32[blen]: M_MV / M_TMV
    hm_accum: np.ndarray  # float32[lanes, mlen, mlen]: M_BMM / M_BTMM
    hv_accum: np.ndarray  # float32[lanes, mlen]: M_BTMV

    @classmethod
    def reset(cls, target: Target) -> MachineState:
        """GP/FP/address registers 0, SCALE 0, STRIDE 1, V_MASK 0, memories and accumulators 0."""
        t, f32 = target, np.float32
        return cls(
            target=t,
            gp=[0] * t.gp_registers,
            fp=np.zeros(t.fp_registers, f32),
            areg=[0] * t.addr_registers,
            scale=0,
            stride=1,
            vmask=0,
            vram=np.zeros((t.vram_rows, t.vlen), f32),
            mram=np.zeros((t.mram_tiles, t.mlen, t.mlen), f32),
            fpram=np.zeros(t.fpram_entries, f32),
            intram=np.zeros(t.intram_entries, np.uint32),
            m_accum=np.zeros((t.blen, t.blen), f32),
            v_accum=np.zeros(t.blen, f32),
            hm_accum=np.zeros((t.lanes, t.mlen, t.mlen), f32),
            hv_accum=np.zeros((t.lanes, t.mlen), f32),
        )


@dataclass(eq=False)
class RunRecord:
    """What one run leaves for the statistics: per-pc dispatch counts and DMA cycles."""

    words: list[int]
    counts: list[int]
    dma_cycles: list[int]
    instructions: int = 0


@dataclass(eq=False)
class Executor:
    """Runs programs on one `MachineState` and one `Hbm`.

    Handler factories (the `ops_*` modules) read from it: `state`, `hbm`, `target`, the
    `first_row` VRAM check, the per-pc `dma_cycles` of the current run, and the loop
    `frames` (each `[counter register, pc of C_LOOP_START, tick of the last reset]`).
    """

    state: MachineState
    hbm: Hbm
    target: Target = field(init=False)
    dma_cycles: list[int] = field(init=False, default_factory=list)
    frames: list[list[int]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.target = self.state.target
        self.first_row = vram_rows_checker(self.target.vlen, self.target.vram_rows)

    def handler_for(self, f: Fields) -> Handler:
        """The handler of one decoded word (an aborting one if it is not an instruction)."""
        info = TVM_BY_OPCODE.get(f.opcode)
        if info is None or info.mnemonic not in self.target.opcodes:
            return aborting(
                f"opcode 0x{f.opcode:02X} is not an instruction of target "
                f"'{self.target.name}' (the emulator aborts when it executes one)"
            )
        return _FACTORIES[info.mnemonic](self, f)

    def run(self, words: list[int], lines: list[int | None] | None = None) -> RunRecord:
        """Execute `words` from pc 0 until pc passes the end; SimulationError on an abort."""
        n = len(words)
        record = RunRecord(words, [0] * n, [0] * n)
        self.dma_cycles = record.dma_cycles
        self.frames = []
        handlers = [self.handler_for(Fields.of(w)) for w in words]
        counts = record.counts
        limit = self.target.max_loop_instructions
        deadline = limit
        pc = tick = 0
        try:
            with np.errstate(all="ignore"):
                while pc < n:
                    tick += 1
                    if tick > deadline:
                        deadline = self._loop_deadline(tick, limit)
                    counts[pc] += 1
                    pc = handlers[pc](pc, tick)
        except MachineFault as fault:
            line = lines[pc] if lines is not None else None
            text = disassemble(words[pc], self.target)
            raise SimulationError(pc, text, str(fault), line) from None
        record.instructions = tick
        return record

    def _loop_deadline(self, tick: int, limit: int) -> int:
        """The next tick at which a loop frame could exceed MAX_LOOP_INSTRUCTIONS.

        The emulator counts every dispatch in every open frame and aborts when one frame's
        count passes the limit (`main.rs` dispatch loop).  A frame reset at tick r reaches
        count k at tick r + k, so it aborts at the first tick > r + limit.  The minimum over
        open frames never decreases (pushes and resets happen later than existing resets),
        so the executor only recomputes it when the cached value is passed.
        """
        if not self.frames:
            return tick + limit
        oldest = min(self.frames, key=lambda frame: frame[2])
        if tick > oldest[2] + limit:
            raise MachineFault(
                f"the loop started at pc {oldest[1]} (counter gp{oldest[0]}) executed more than "
                f"MAX_LOOP_INSTRUCTIONS = {limit} instructions in one iteration"
            )
        return oldest[2] + limit


def disassemble(word: int, target: Target) -> str:
    """The assembly text of `word`, or its hex form if it is not an instruction."""
    try:
        return format_instruction(decode(word, target))
    except IsaError:
        return f"0x{word:08X}"
