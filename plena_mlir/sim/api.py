"""The simulator's public API: `Simulator(target, hbm_format)`.

    sim = Simulator(target=PLENA_TVM, hbm_format="mxfp8")     # or "fp32"
    sim.hbm.write_tensor(addr, array); sim.load_fpram(values); sim.load_intram(values)
    sim.load_vram(rows)
    stats = sim.run(program)        # list[Instruction] | list[int] (words) | str (assembly)
    sim.state.gp / fp / areg / scale / stride / vmask / vram / mram / fpram / intram / *_accum
    sim.read_vram(addr, rows)

A fresh simulator is in the reset state.  `run` resets only the pc, the loop stack and the
statistics, so memories and registers can be preloaded and carry over from run to run.
Programs execute as the emulator decodes their 32-bit words; an `Instruction` list is packed
into words first (operand i into its field), so it behaves exactly like its machine code.

A run has a budget (`budget.py`): by default an instruction budget from the program's loop
tree; `sim.run(program, budget=Budget(max_instructions=N, max_cycles=C))` sets one (0: no
limit).  A run that reaches it raises `BudgetExceeded`, Ctrl-C raises
`SimulationInterrupted`; both carry the statistics so far (`e.stats`, also `sim.stats`).
`progress=ProgressBar.on_stderr()` shows a progress bar during long runs.

`sim.run(program, timing_only=True)` gives the statistics a full run gives -- cycles,
instructions, per-opcode counts, per-class cycles, HBM bytes -- without computing any value:
it keeps only the integer registers, address registers, SCALE, STRIDE and INTRAM up to date
and charges the iterations of the loops it can summarise at once (`timing.py`,
`loop_summary.py`).  Everything else in `sim.state` and HBM is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import pack
from plena_mlir.isa.instruction import Instruction, IsaError
from plena_mlir.numerics.formats import round_bf16, round_fp
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.sim.budget import Budget
from plena_mlir.sim.errors import SimulationError
from plena_mlir.sim.hbm import Hbm
from plena_mlir.sim.image import check_preload
from plena_mlir.sim.machine import Executor, MachineState
from plena_mlir.sim.progress import ProgressBar
from plena_mlir.sim.stats import Stats, collect
from plena_mlir.target import DEFAULT_TARGET, Target, TargetError

Program = Sequence[Instruction] | Sequence[int] | str


class Simulator:
    """One plena-tvm machine: state, HBM, and `run`."""

    def __init__(self, target: Target = DEFAULT_TARGET, hbm_format: HbmFormat = "mxfp8"):
        if not target.btmm_lane_paired:
            raise TargetError(
                f"target '{target.name}': the simulator implements the lane-paired M_BTMM/M_BMM "
                "of plena-tvm only (btmm_lane_paired = True)"
            )
        self.target = target
        self.hbm = Hbm(target, hbm_format)
        self.state = MachineState.reset(target)
        self.stats: Stats | None = None

    # ------------------------------------------------------------------------------ preload
    def load_fpram(self, values: Sequence[float] | np.ndarray) -> None:
        """FPRAM[0 .. n) = values rounded to the target's FP format."""
        values = np.asarray(values, dtype=np.float32).ravel()
        check_preload(values.size, self.target.fpram_entries, "FPRAM")
        self.state.fpram[: values.size] = round_fp(values, self.target.fp_format)

    def load_intram(self, values: Sequence[int] | np.ndarray) -> None:
        """INTRAM[0 .. n) = values (each must be a u32)."""
        values = np.asarray(values).ravel()
        if values.size and (
            not np.issubdtype(values.dtype, np.integer)
            or values.min() < 0
            or values.max() > 0xFFFFFFFF
        ):
            raise ValueError("INTRAM values must be integers in 0 .. 2^32-1")
        check_preload(values.size, self.target.intram_entries, "INTRAM")
        self.state.intram[: values.size] = values.astype(np.uint32)

    def load_vram(self, rows: np.ndarray) -> None:
        """VRAM rows 0 .. n = rows (n, VLEN), rounded to bf16."""
        rows = np.asarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.target.vlen:
            raise ValueError(f"VRAM rows must have shape (n, {self.target.vlen}), got {rows.shape}")
        check_preload(rows.shape[0], self.target.vram_rows, "VRAM")
        self.state.vram[: rows.shape[0]] = round_bf16(rows)

    def read_vram(self, addr: int, rows: int = 1) -> np.ndarray:
        """A copy of `rows` VRAM rows from element address `addr` (a multiple of VLEN)."""
        vlen, total = self.target.vlen, self.target.vram_rows
        if addr < 0 or addr % vlen or addr // vlen + rows > total or rows < 0:
            raise ValueError(
                f"VRAM rows at address {addr} (+{rows} rows) are not VLEN-aligned rows of the "
                f"{total}-row VRAM"
            )
        return self.state.vram[addr // vlen : addr // vlen + rows].copy()

    # ---------------------------------------------------------------------------------- run
    def run(
        self,
        program: Program,
        budget: Budget | None = None,
        progress: ProgressBar | None = None,
        timing_only: bool = False,
    ) -> Stats:
        """Run `program` from pc 0 to its end within `budget` (default `Budget()`), drawing
        `progress`; SimulationError if the machine aborts, BudgetExceeded or
        SimulationInterrupted (with the statistics so far) if the run is stopped.
        `timing_only`: the same statistics without computing values (see the module doc)."""
        words, lines = self.machine_code(program)
        read0, written0 = self.hbm.bytes_read, self.hbm.bytes_written
        executor = Executor(self.state, self.hbm, timing_only=timing_only)
        record = executor.run(words, lines, budget, progress)
        self.stats = collect(
            record,
            self.target,
            self.hbm.bytes_read - read0,
            self.hbm.bytes_written - written0,
        )
        if record.stop is not None:
            record.stop.stats = self.stats
            raise record.stop
        return self.stats

    def machine_code(self, program: Program) -> tuple[list[int], list[int | None]]:
        """The words of `program` and the source line of each (None where unknown)."""
        if isinstance(program, str):
            program = parse_asm(program, self.target)
        words: list[int] = []
        lines: list[int | None] = []
        for pc, item in enumerate(program):
            if isinstance(item, Instruction):
                words.append(self._pack(pc, item))
                lines.append(item.line)
            elif isinstance(item, int | np.integer) and 0 <= item <= 0xFFFFFFFF:
                words.append(int(item))
                lines.append(None)
            else:
                raise TypeError(
                    f"program item {pc} is {item!r}: expected an Instruction or a 32-bit word"
                )
        return words, lines

    def _pack(self, pc: int, instr: Instruction) -> int:
        """The word of `instr` as `encoding.pack` makes it; SimulationError if it has none."""
        try:
            return pack(instr, self.target)
        except IsaError as e:
            text = f"{instr.mnemonic} {', '.join(map(str, instr.operands))}".strip()
            raise SimulationError(pc, text, f"cannot be encoded: {e}", instr.line) from None
