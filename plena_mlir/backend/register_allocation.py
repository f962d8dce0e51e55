"""Register allocation for `plena` programs: the algorithm behind `plena-allocate-registers`.

The program is the module body; `plena.loop` nests to any depth.  Allocation works on live
ranges over the program in emission order, with every value read inside a loop it is not
defined in kept live to that loop's end (`register_live_ranges`):

1. Copies give each register constraint (loop-carried values, in-place V_RED_* updates) fresh
   values of its own (`register_copies`).
2. Spill until at most N values of each register file are live at any position, N being the
   file's allocatable registers on the module's target (`target_of`) less any register the
   input already uses.  Victims are values live across a position they are not read at,
   cheapest first by executed stores and reloads; spilling is everywhere: store after the
   definition, reload before each reader (`register_spilling`).  Loop counters,
   loop-carried values and their tied copies are never spilled, so no spill store of a value
   live across iterations lands inside a repeating loop body.
3. Colour (`register_colouring`): tied values share a register, copies are coalesced where
   the ranges allow, groups take the lowest free register in order of their first position.
   A group that finds no register (the holes of coalesced groups can make colouring need
   more than the pressure) first retries without coalescing, then spills a value overlapping
   it and starts again from 2.
4. Give spilled values IntRAM (GP) or FPRAM (FP) slots of their windows, reusing dead slots;
   set every register type; delete copies whose source and result share a register.

The zero registers gp0 and f0 are never allocated.  A loop counter's range is the whole loop,
so no value live across or inside the loop shares its register and nested loops count in
different registers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import BlockArgument, Operation, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.register_colouring import Conflict, colour
from plena_mlir.backend.register_copies import (
    CopyRole,
    ZeroRegisters,
    insert_constraint_copies,
    remove_redundant_copies,
)
from plena_mlir.backend.register_live_ranges import (
    LiveRange,
    ProgramOrder,
    describe_value,
    is_unallocated,
    live_ranges,
    program_order,
)
from plena_mlir.backend.register_spilling import (
    Spill,
    SpillWindow,
    assign_spill_slots,
    conflict_victim,
    is_rematerialisable,
    pressure_victims,
    spill_everywhere,
)
from plena_mlir.dialects.plena import (
    REGISTER_TYPES,
    AddrRegisterType,
    CommentOp,
    FpRegisterType,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    PlenaInstruction,
    PlenaRegisterType,
    YieldOp,
    target_of,
)
from plena_mlir.target import Target

REGISTER_FILES: tuple[type[PlenaRegisterType], ...] = (
    GpRegisterType,
    FpRegisterType,
    AddrRegisterType,
)


@dataclass(frozen=True)
class AllocationReport:
    """What allocation added to the program."""

    #: values stored to and reloaded from IntRAM or FPRAM
    spilled: int
    #: values recomputed before each reader instead
    rematerialised: int
    #: copies left in the program (a carried or in-place value that could not keep its
    #: register, or a carried value initialised from a fixed register)
    copies: int


def spill_windows(
    target: Target,
    intram_base: int | None,
    intram_slots: int,
    fpram_base: int | None,
    fpram_slots: int,
) -> dict[type[PlenaRegisterType], SpillWindow]:
    """The IntRAM and FPRAM spill windows; a base of None puts the window at the top of the
    memory.  DiagnosticException when a window does not fit the memory or the immediate."""
    windows = {
        GpRegisterType: SpillWindow(
            "IntRAM",
            target.intram_entries - intram_slots if intram_base is None else intram_base,
            intram_slots,
            "intram-spill-base, intram-spill-slots",
        ),
        FpRegisterType: SpillWindow(
            "FPRAM",
            target.fpram_entries - fpram_slots if fpram_base is None else fpram_base,
            fpram_slots,
            "fpram-spill-base, fpram-spill-slots",
        ),
    }
    windows[GpRegisterType].check(target.intram_entries, target)
    windows[FpRegisterType].check(target.fpram_entries, target)
    return windows


def allocate_registers(
    module: ModuleOp, windows: dict[type[PlenaRegisterType], SpillWindow]
) -> AllocationReport:
    """Allocate every unallocated register value of `module` (module doc)."""
    _check_program(module)
    pools = _register_pools(module)
    zeros = ZeroRegisters(module.body.block)
    copies = insert_constraint_copies(module, zeros)
    fixed = {op for op, role in copies.items() if role is not CopyRole.LOOP_RESULT}
    spilled: set[SSAValue] = set()
    spills: list[Spill] = []
    while True:
        order = program_order(module.body.block)
        ranges = live_ranges(order, _spill_cost(order, fixed, spilled))
        by_file: dict[type[PlenaRegisterType], list[LiveRange]] = {f: [] for f in pools}
        for live_range in ranges.values():
            by_file[live_range.register_type].append(live_range)
        victims = [
            victim
            for f, file_ranges in by_file.items()
            if file_ranges
            for victim in pressure_victims(order, file_ranges, len(pools[f]))
        ]
        if not victims:
            ties = list(_ties(order))
            weighted_copies = [(op, order.frequency[op]) for op in copies]
            result = colour(ranges, ties, weighted_copies, pools, coalesce=True)
            if isinstance(result, Conflict):
                result = colour(ranges, ties, weighted_copies, pools, coalesce=False)
            if not isinstance(result, Conflict):
                break
            file_ranges = by_file[result.register_type]
            registers = len(pools[result.register_type])
            victims = [conflict_victim(order, file_ranges, result.segments, registers)]
        for victim in victims:
            spilled.add(victim.value)
            spill = spill_everywhere(victim.value, zeros, fixed)
            if spill is not None:
                spills.append(spill)
    assign_spill_slots(order, spills, windows)
    for value, register in result.items():
        Rewriter.replace_value_with_new_type(value, register)
    kept = len(copies) - remove_redundant_copies(copies)
    zeros.erase_unused()
    return AllocationReport(len(spills), len(spilled) - len(spills), kept)


def _spill_cost(order: ProgramOrder, fixed: set[Operation], spilled: set[SSAValue]):
    """`spill_cost(value, reloads)` for `live_ranges`: executed stores plus reloads, or None
    for values that must stay in a register."""

    def cost(value: SSAValue, reloads: int) -> int | None:
        op = value.owner
        if (
            type(value) is BlockArgument
            or not isinstance(op, PlenaInstruction)
            or op in fixed
            or value in spilled
            or type(value.type) is AddrRegisterType
        ):
            return None
        return reloads if is_rematerialisable(value) else reloads + order.frequency[op]

    return cost


def _ties(order: ProgramOrder) -> Iterator[Sequence[SSAValue]]:
    """The groups of values that must share one register."""
    for op in order.ops:
        if isinstance(op, LoopOp):
            yield_op = op.body.block.last_op
            assert isinstance(yield_op, YieldOp)
            carried = op.body.block.args[1:]
            for i, arg in enumerate(carried):
                yield op.operands[i], arg, yield_op.operands[i], op.results[i]
        elif isinstance(op, PlenaInstruction):
            yield from op.inouts()


def _register_pools(module: ModuleOp) -> dict[type[PlenaRegisterType], list[PlenaRegisterType]]:
    """The allocatable registers of each file on the module's target, less every register
    the input already names (its values are fixed there and must not be overwritten)."""
    target = target_of(module)
    taken = set()
    for op in module.walk():
        values = op.results
        if op.regions:
            values = (*values, *(a for r in op.regions for b in r.blocks for a in b.args))
        for value in values:
            register = value.type
            if type(register) in REGISTER_TYPES and register.physical_index is not None:  # type: ignore[attr-defined]
                taken.add(register)
    return {
        register_file: [r for r in register_file.allocatable_registers(target) if r not in taken]
        for register_file in REGISTER_FILES
    }


#: The ops besides instructions that the allocator knows.
_OTHER_KNOWN_OPS = (LoopOp, YieldOp, GetRegisterOp, CommentOp)


def _check_program(module: ModuleOp) -> None:
    """DiagnosticException for what the allocator cannot handle: ops other than the plena
    dialect's that hold registers or regions, and in-place updates into a fixed register
    from an unallocated one."""
    for op in module.body.walk():
        if not isinstance(op, PlenaInstruction):
            if isinstance(op, _OTHER_KNOWN_OPS):
                continue
            values = (*op.operands, *op.results)
            if op.regions or any(isinstance(v.type, PlenaRegisterType) for v in values):
                raise DiagnosticException(
                    f"plena-allocate-registers: cannot allocate registers around {op.name}: the "
                    "program must consist of plena instructions, plena.loop, plena.get_register "
                    "and plena.comment"
                )
        else:
            for operand, result in op.inouts():
                if is_unallocated(operand) and not is_unallocated(result):
                    raise DiagnosticException(
                        f"plena-allocate-registers: {op.name} updates {describe_value(operand)} "
                        f"in place into the fixed register {result.type}; allocate both or "
                        "neither"
                    )
