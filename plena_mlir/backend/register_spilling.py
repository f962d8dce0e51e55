"""Spilling: which values to spill, the spill code, and the spill slots.

A spilled value is spilled everywhere: stored right after its definition and reloaded right
before each instruction that reads it, into a fresh value that lives only until that read:

    %v = ...                               %v = ...
                                           plena.s_st_int %v, %gp0, SLOT      {comment = "spill"}
    plena.loop ... {                  ->   plena.loop ... {
      ... %v ...                             %v1 = plena.s_ld_int %gp0, SLOT  {comment = "reload"}
                                             ... %v1 ...

A GP value goes to an IntRAM slot, an FP value to an FPRAM slot, both addressed as gp0 + SLOT,
so spill code needs no register besides the reloaded value's own.  A value whose definition
reads only the zero registers (S_LUI_INT, S_ADDI_INT from gp0, ...) is recomputed before each
reader instead and needs no slot.  The store is in the block of the definition, so it never
runs inside a loop that the value is live across: a value read in a loop it is not defined in
is stored before that loop and only reloaded inside.  Loop counters, loop-carried values and
the copies tied to them are never spilled; address registers cannot be spilled at all.

Slots are reused: two spilled values share a slot when the first one's last reload (at the
end of the loop it is reloaded in, if the store is outside that loop) precedes the second
one's store.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.ir import BlockArgument, Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.register_copies import ZeroRegisters
from plena_mlir.backend.register_live_ranges import (
    LiveRange,
    ProgramOrder,
    describe_value,
    pressure,
    read_position,
)
from plena_mlir.dialects.plena import (
    AddrRegisterType,
    FpRegisterType,
    GetRegisterOp,
    GpRegisterType,
    PlenaInstruction,
    PlenaRegisterType,
)
from plena_mlir.dialects.plena.base import REGISTERS_ONLY
from plena_mlir.dialects.plena.scalar_fp_ops import S_LdFpOp, S_StFpOp
from plena_mlir.dialects.plena.scalar_int_ops import S_LdIntOp, S_StIntOp
from plena_mlir.target import Target

SPILL_COMMENT = "spill"
RELOAD_COMMENT = "reload"


@dataclass(frozen=True)
class SpillWindow:
    """The slots of one memory the allocator may spill to: entries [base, base + slots)."""

    memory: str
    base: int
    slots: int
    option: str

    def check(self, entries: int, target: Target) -> None:
        """DiagnosticException unless the window lies in the memory and in the immediate."""
        last_address = (1 << target.imm2_bits) - 1
        end = self.base + self.slots
        if self.base < 0 or self.slots < 0 or end > entries:
            raise DiagnosticException(
                f"plena-allocate-registers: the {self.memory} spill window [{self.base}, {end}) "
                f"({self.option}) is not inside the {entries} entries of target "
                f"'{target.name}'"
            )
        if end - 1 > last_address:
            raise DiagnosticException(
                f"plena-allocate-registers: the {self.memory} spill window [{self.base}, {end}) "
                f"({self.option}) passes {last_address}, the largest address gp0 + imm reaches"
            )


@dataclass
class Spill:
    """The spill code of one value."""

    value: SSAValue
    store: Operation
    reloads: list[Operation]


def is_rematerialisable(value: SSAValue) -> bool:
    """Whether `value` is recomputed by its definition anywhere: an instruction without
    machine state effects that reads only the zero registers."""
    op = value.owner
    return (
        isinstance(op, PlenaInstruction)
        and op.MACHINE_EFFECTS == REGISTERS_ONLY
        and len(op.results) == 1
        and all(
            isinstance(o.owner, GetRegisterOp) and o.type.physical_index == 0  # type: ignore[attr-defined]
            for o in op.operands
        )
    )


def spill_everywhere(value: SSAValue, zeros: ZeroRegisters, fixed: set[Operation]) -> Spill | None:
    """Rewrite the program so that `value` lives in a register only where it is defined and
    read; the spill code (None if it is recomputed).  New ops that must not be spilled are
    added to `fixed`."""
    definition = value.owner
    assert isinstance(definition, Operation)
    readers = list(dict.fromkeys(use.operation for use in value.uses))
    if is_rematerialisable(value):
        for reader in readers:
            clone = definition.clone()
            _insert_before(clone, reader)
            fixed.add(clone)
            _replace_operand(reader, value, clone.results[0])
        definition.parent_block().erase_op(definition)  # type: ignore[union-attr]
        return None
    is_gp = isinstance(value.type, GpRegisterType)
    assert is_gp or isinstance(value.type, FpRegisterType)
    store_class = S_StIntOp if is_gp else S_StFpOp
    load_class = S_LdIntOp if is_gp else S_LdFpOp
    store = store_class(value, zeros.gp(), imm=0, comment=SPILL_COMMENT)
    definition.parent_block().insert_op_after(store, definition)  # type: ignore[union-attr]
    reloads: list[Operation] = []
    for reader in readers:
        load = load_class(zeros.gp(), imm=0, comment=RELOAD_COMMENT)
        _insert_before(load, reader)
        fixed.add(load)
        reloads.append(load)
        _replace_operand(reader, value, load.results[0])
    return Spill(value, store, reloads)


def _insert_before(op: Operation, reader: Operation) -> None:
    reader.parent_block().insert_op_before(op, reader)  # type: ignore[union-attr]


def _replace_operand(op: Operation, old: SSAValue, new: SSAValue) -> None:
    for i, operand in enumerate(op.operands):
        if operand is old:
            op.operands[i] = new


def pressure_victims(
    order: ProgramOrder, ranges: list[LiveRange], registers: int
) -> list[LiveRange]:
    """Values of one register file to spill so that at most `registers` values are live at
    every position: at each position over the limit, the cheapest value live across it
    (fewest executed stores and reloads, then the farthest next read).
    DiagnosticException when too many values live there cannot be spilled."""
    live = pressure(ranges, order.positions)
    over = [int(q) for q in (live > registers).nonzero()[0]]
    candidates = sorted((r for r in ranges if r.spill_cost is not None), key=lambda r: r.start)
    active: list[LiveRange] = []
    victims: list[LiveRange] = []
    taken = 0
    for q in over:
        while taken < len(candidates) and candidates[taken].start < q:
            active.append(candidates[taken])
            taken += 1
        active = [r for r in active if r.end >= q]
        while live[q] > registers:
            choices = [r for r in active if r.frees(q, q)]
            if not choices:
                raise out_of_registers(order, ranges, q, registers)
            victim = min(choices, key=lambda r: (r.spill_cost, -r.next_use_distance(q)))
            active.remove(victim)
            victims.append(victim)
            live[q : victim.end + 1] -= 1
            for use in victim.uses:
                if use >= q:
                    live[use] += 1
    return victims


def conflict_victim(
    order: ProgramOrder, ranges: list[LiveRange], segments: list[tuple[int, int]], registers: int
) -> LiveRange:
    """The cheapest spillable value whose spilling frees a register somewhere in `segments`
    (the positions of a group that found no register)."""
    choices = [
        r
        for r in ranges
        if r.spill_cost is not None and any(r.frees(first, last) for first, last in segments)
    ]
    if not choices:
        raise out_of_registers(order, ranges, segments[0][0], registers)
    return min(choices, key=lambda r: r.spill_cost)  # type: ignore[arg-type, return-value]


def out_of_registers(
    order: ProgramOrder, ranges: list[LiveRange], position: int, registers: int
) -> DiagnosticException:
    """The diagnostic for a position where more values that cannot be spilled are live than
    there are registers."""
    stuck = [
        r
        for r in ranges
        if r.start <= position <= r.end
        and (r.spill_cost is None or not r.frees(position, position))
    ]
    counters = sum(isinstance(r.value, BlockArgument) and r.value.index == 0 for r in stuck)
    carried = sum(isinstance(r.value, BlockArgument) and r.value.index > 0 for r in stuck)
    register_type = ranges[0].register_type
    reason = (
        "address registers cannot be spilled"
        if register_type is AddrRegisterType
        else f"{counters} loop counters, {carried} loop-carried values, and "
        f"{len(stuck) - counters - carried} operands, results and copies of instructions there"
    )
    names = ", ".join(describe_value(r.value) for r in stuck[:8])
    more = f" and {len(stuck) - 8} more" if len(stuck) > 8 else ""
    return DiagnosticException(
        f"plena-allocate-registers: out of {register_type.name} registers at "
        f"{order.op_at(position).name}: {len(stuck)} values that cannot be spilled must be in "
        f"registers there ({reason}), but only {registers} are allocatable: {names}{more}"
    )


def assign_spill_slots(
    order: ProgramOrder, spills: list[Spill], windows: dict[type[PlenaRegisterType], SpillWindow]
) -> None:
    """Give every spill a slot of its window (reusing slots whose values are dead) and set the
    immediates of its store and reloads; DiagnosticException when the window is too small."""
    for register_type, window in windows.items():
        intervals = sorted(
            (
                (_slot_interval(order, s), s)
                for s in spills
                if isinstance(s.value.type, register_type)
            ),
            key=lambda item: item[0],
        )
        free: list[int] = []
        busy: list[tuple[int, int]] = []
        used = 0
        for (start, end), spill in intervals:
            while busy and busy[0][0] < start:
                heapq.heappush(free, heapq.heappop(busy)[1])
            slot = heapq.heappop(free) if free else used
            used = max(used, slot + 1)
            if slot >= window.slots:
                raise DiagnosticException(
                    f"plena-allocate-registers: out of {window.memory} spill slots: spilling "
                    f"{describe_value(spill.value)} needs {slot + 1} slots at once, but the "
                    f"window [{window.base}, {window.base + window.slots}) has {window.slots}; "
                    f"give a larger window ({window.option})"
                )
            heapq.heappush(busy, (end, slot))
            for op in (spill.store, *spill.reloads):
                op.properties["imm"] = IntegerAttr(window.base + slot, i64)


def _slot_interval(order: ProgramOrder, spill: Spill) -> tuple[int, int]:
    """From the store to the last reload, loops around a reload but not the store included."""
    block = spill.store.parent_block()
    assert block is not None
    store_loops = order.loops[block]
    end = max(order.extended_read(load, store_loops) for load in spill.reloads)
    return read_position(order.index[spill.store]), end
