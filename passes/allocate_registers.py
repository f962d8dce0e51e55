"""`plena-allocate-registers`: physical registers for every register value of a program.

    plena-opt kernel.mlir -p 'plena-allocate-registers{intram-spill-slots=128}' -t plena-asm

Input: `plena` instructions on unallocated registers (`!plena.gp`, `!plena.fp`,
`!plena.areg`), possibly mixed with fixed ones (`plena.get_register : !plena.gp<gp0>`), and
`plena.loop` nests.  Output: every register allocated on the module's target (`target_of`),
the zero registers gp0 and f0 never used for values, loop counters owned by their loops,
loop-carried values in one register per loop, V_RED_* accumulators updated in place.  When
a register file runs out, GP values are spilled to IntRAM and FP values to FPRAM scratch
slots (`S_ST_INT v, gp0, slot` after the definition, `S_LD_INT` before each reader) and never
stored inside a loop body they are live across.  The algorithm and its limits are described in
`plena_mlir/backend/register_allocation.py` and docs/passes.md.
"""

from dataclasses import dataclass

from plena_mlir.dialects.plena import target_of
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from plena_mlir.backend.register_allocation import allocate_registers, spill_windows


@dataclass(frozen=True)
class AllocateRegistersPass(ModulePass):
    """Allocate the registers of a `plena` program, spilling to IntRAM / FPRAM windows."""

    name = "plena-allocate-registers"

    intram_spill_base: int | None = None
    """First IntRAM word of the GP spill slots (default: the top `intram_spill_slots` words)."""

    intram_spill_slots: int = 256
    """How many IntRAM words GP spills may use."""

    fpram_spill_base: int | None = None
    """First FPRAM entry of the FP spill slots (default: the top `fpram_spill_slots` entries)."""

    fpram_spill_slots: int = 256
    """How many FPRAM entries FP spills may use."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        windows = spill_windows(
            target_of(op),
            self.intram_spill_base,
            self.intram_spill_slots,
            self.fpram_spill_base,
            self.fpram_spill_slots,
        )
        allocate_registers(op, windows)
