"""The machine state of a plena-tvm accelerator and the executor that runs programs on it.

`MachineState` is everything a program can read or write besides HBM (`plena-isa-tvm.md` A2):
registers, the special registers, the on-chip memories and the four accumulators, all in the
emulator's numeric formats (VRAM bf16 values, MRAM and accumulators f32, FP registers and
FPRAM in the target's `fp_format`, INTRAM u32).

`Executor.run(words)` decodes every word once into a handler closure (`ops_common`), groups
them into straight-line units and runs the dispatch loop (`dispatch.py`), which now and then
lets `watch.py` check the loop guard, the budgets and the progress bar.

A condition the emulator aborts on raises `SimulationError(pc, instruction, reason, line)`.
A run stopped early -- by its budget (`BudgetExceeded`) or by Ctrl-C
(`SimulationInterrupted`) -- returns its record with the exception in `RunRecord.stop`, so
the caller can attach the statistics so far before raising it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from plena_mlir.isa.encoding import decode
from plena_mlir.isa.instruction import IsaError, format_instruction
from plena_mlir.isa.opcodes import TVM_BY_OPCODE
from plena_mlir.sim import ops_control, ops_dma, ops_matrix, ops_scalar, ops_vector
from plena_mlir.sim.budget import Budget, static_excess
from plena_mlir.sim.dispatch import Halted, Units
from plena_mlir.sim.errors import (
    BudgetExceeded,
    MachineFault,
    SimulationError,
    SimulationInterrupted,
)
from plena_mlir.sim.hbm import Hbm
from plena_mlir.sim.loop_summary import LoopSummaries
from plena_mlir.sim.loop_tree import LoopTree, loop_tree
from plena_mlir.sim.ops_common import (
    Fields,
    Handler,
    RowViews,
    aborting,
    always_aborts,
    vram_rows_checker,
)
from plena_mlir.sim.progress import ProgressBar
from plena_mlir.sim.timing import timing_handler
from plena_mlir.sim.watch import StopRun, Watch
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
    """What one run leaves for the statistics: per-pc dispatch counts and DMA cycles, and how
    it ended early if it did."""

    words: list[int]
    counts: list[int]
    dma_cycles: list[int]
    instructions: int = 0
    summarised: int = 0
    """Of the instructions, those a timing-only run charged without dispatching them."""
    stop: BudgetExceeded | SimulationInterrupted | None = None


@dataclass(eq=False)
class Executor:
    """Runs programs on one `MachineState` and one `Hbm`.

    Handler factories (the `ops_*` modules) read from it: `state`, `hbm`, `target`, the
    `first_row` VRAM check, the checked single-row VRAM views `rows` (`RowViews`), the FP
    registers and FPRAM as u32 `memoryview`s (`fp_bits`, `fpram_bits`: a value copied as
    its bits, without making NumPy scalars), the per-pc `dma_cycles` of the current run, and
    the loop
    `frames` (each `[counter register, pc of C_LOOP_START, tick of the last reset]`).
    With `timing_only` it computes the statistics and the timing state only (`timing.py`).
    """

    state: MachineState
    hbm: Hbm
    target: Target = field(init=False)
    dma_cycles: list[int] = field(init=False, default_factory=list)
    frames: list[list[int]] = field(init=False, default_factory=list)
    timing_only: bool = False
    _words: list[int] = field(init=False, default_factory=list)
    _lines: list[int | None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.target = self.state.target
        self.first_row = vram_rows_checker(self.target.vlen, self.target.vram_rows)
        self.rows = RowViews(self.state.vram, self.first_row)
        self.fp_bits = memoryview(self.state.fp.view(np.uint32))
        self.fpram_bits = memoryview(self.state.fpram.view(np.uint32))

    def handler_for(self, f: Fields) -> Handler:
        """The handler of one decoded word (an aborting one if it is not an instruction)."""
        info = TVM_BY_OPCODE.get(f.opcode)
        if info is None or info.mnemonic not in self.target.opcodes:
            return aborting(
                f"opcode 0x{f.opcode:02X} is not an instruction of target "
                f"'{self.target.name}' (the emulator aborts when it executes one)"
            )
        return _FACTORIES[info.mnemonic](self, f)

    def run(
        self,
        words: list[int],
        lines: list[int | None] | None = None,
        budget: Budget | None = None,
        progress: ProgressBar | None = None,
    ) -> RunRecord:
        """Execute `words` from pc 0 until pc passes the end, within `budget` (default:
        `Budget()`), updating `progress`; SimulationError on an abort."""
        n = len(words)
        record = RunRecord(words, [0] * n, [0] * n)
        self.dma_cycles = record.dma_cycles
        self.frames = []
        budget = budget or Budget()
        tree = loop_tree(words)
        self._words, self._lines = words, lines
        if reason := static_excess(budget, tree):
            pc, text, line = self._where(tree.largest_loop().start)
            record.stop = BudgetExceeded(pc, text, reason, line)
            return record
        watch = Watch(self, record, budget, tree, progress)
        decoded: dict[int, Handler] = {}  # a handler depends on its word alone: one per word
        handlers = [
            decoded.get(w) or decoded.setdefault(w, self.handler_for(Fields.of(w))) for w in words
        ]
        summaries = self._timing(handlers, record, tree, watch) if self.timing_only else None
        units = Units.of(words, handlers)

        def flush() -> None:
            """Bring the per-pc counts up to date (unit counts, summarised iterations)."""
            if summaries is not None:
                summaries.flush()
            units.expand(record.counts)

        watch.flush = flush
        if progress is not None:
            progress.begin(tree.instructions)
        skipped = summaries.skipped if summaries is not None else [0]
        tick = 0
        try:
            with np.errstate(all="ignore"):
                tick = units.run(record.counts, watch.check, skipped)
        except Halted as halt:
            tick = self._halted(halt, record, flush)
        finally:
            flush()
            if progress is not None:
                progress.update(tick)
                progress.end()
        record.instructions = tick
        if summaries is not None:
            record.summarised = summaries.charged
        return record

    def _halted(self, halt: Halted, record: RunRecord, flush: Callable[[], None]) -> int:
        """A run the dispatch loop left early: raise SimulationError for a fault, else record
        the stop; the instructions run."""
        pc, text, line = self._where(halt.pc)
        if isinstance(halt.cause, MachineFault):
            raise SimulationError(pc, text, str(halt.cause), line) from None
        if isinstance(halt.cause, StopRun):
            record.stop = BudgetExceeded(pc, text, str(halt.cause), line)
            return halt.tick - 1  # the instruction it stopped before did not run
        flush()  # Ctrl-C: the counts say what ran (but the rest of an interrupted block)
        for at in halt.uncounted:
            record.counts[at] -= 1
        record.stop = SimulationInterrupted(pc, text)
        return sum(record.counts)

    def _timing(
        self, handlers: list[Handler], record: RunRecord, tree: LoopTree, watch: Watch
    ) -> LoopSummaries:
        """Turn `handlers` into their timing-only forms (`timing.py`); the loop summaries."""
        aborting = {pc for pc, handler in enumerate(handlers) if always_aborts(handler)}
        summaries = LoopSummaries(self, record, tree, watch, aborting)
        for pc, word in enumerate(record.words):
            f = Fields.of(word)
            info = TVM_BY_OPCODE.get(f.opcode)
            if info is not None:
                handlers[pc] = timing_handler(self, f, info, handlers[pc], summaries)
        return summaries

    def _where(self, pc: int) -> tuple[int, str, int | None]:
        """pc, its instruction's text and its source line (the last word's past the end)."""
        pc = min(pc, len(self._words) - 1)
        line = self._lines[pc] if self._lines is not None else None
        return pc, disassemble(self._words[pc], self.target), line


def disassemble(word: int, target: Target) -> str:
    """The assembly text of `word`, or its hex form if it is not an instruction."""
    try:
        return format_instruction(decode(word, target))
    except IsaError:
        return f"0x{word:08X}"
