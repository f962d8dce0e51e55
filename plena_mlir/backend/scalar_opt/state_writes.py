"""Removal of machine-state writes that write the value the register already holds.

Tracked registers: SCALE, STRIDE and V_MASK (written only by their C_SET_* instruction on
plena-tvm; plena-isa-tvm.md A3.7), and every allocated address register (written only by a
C_SET_ADDR_REG whose result is that register).  An unallocated C_SET_ADDR_REG writes no
register yet: its result is an SSA value, and CSE merges identical ones.

A forward analysis over the structured program keeps, per register, what it provably holds:
a constant or an SSA value (`ScalarFacts.key`; an address register holds the keys of its
high and low words).  Nothing is known at the start of the program.  A write of what the
register already holds is redundant.  A loop body starts from the state before the loop for
a register only when every write to it anywhere inside the loop (nested loops included)
writes what it held before the loop; otherwise the register is unknown in the body.  After a
loop (which runs at least once) the state is the one at the end of its body, minus address
registers whose holder is defined inside the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import Rewriter

from plena_mlir.backend.scalar_opt.values import ScalarFacts
from plena_mlir.dialects.plena import LoopOp
from plena_mlir.dialects.plena.control_ops import (
    C_SetAddrRegOp,
    C_SetScaleRegOp,
    C_SetStrideRegOp,
    C_SetVMaskRegOp,
)

#: The special register each C_SET_* instruction writes.
SPECIAL_REGISTER_OF: dict[type[Operation], str] = {
    C_SetScaleRegOp: "SCALE",
    C_SetStrideRegOp: "STRIDE",
    C_SetVMaskRegOp: "V_MASK",
}


@dataclass(frozen=True)
class Held:
    """What a register holds: `content` (the keys written), and for an address register the
    SSA value (`holder`) that names it, which a redundant write's result is replaced by."""

    content: tuple[object, ...]
    holder: SSAValue | None = None


State = dict[str | Attribute, Held]

#: Per register, every content a block's state writes write there.
Written = dict[str | Attribute, set[tuple[object, ...]]]


def remove_redundant_state_writes(facts: ScalarFacts) -> bool:
    """Erase every redundant state write of the module; True if any was erased."""
    redundant: list[tuple[Operation, Held]] = []
    written: dict[LoopOp, Written] = {}
    _writes(facts.module.body.block, facts, written)
    _run(facts.module.body.block, {}, facts, written, redundant)
    for op, held in redundant:
        if held.holder is not None:
            op.results[0].replace_all_uses_with(held.holder)
        Rewriter.erase_op(op)
    return bool(redundant)


def _write(op: Operation, facts: ScalarFacts) -> tuple[str | Attribute, Held] | None:
    """The register `op` writes and what it writes there, for a tracked state write."""
    if type(op) in SPECIAL_REGISTER_OF:
        return SPECIAL_REGISTER_OF[type(op)], Held((facts.key(op.operands[0]),))
    if isinstance(op, C_SetAddrRegOp) and op.results[0].type.is_allocated:
        content = tuple(facts.key(v) for v in op.operands)
        return op.results[0].type, Held(content, op.results[0])
    return None


def _writes(block: Block, facts: ScalarFacts, written: dict[LoopOp, Written]) -> Written:
    """What the tracked state writes of `block` (nested loops included) write, per register;
    stores it in `written` for every loop of the block."""
    writes: Written = {}
    for op in block.ops:
        if (write := _write(op, facts)) is not None:
            writes.setdefault(write[0], set()).add(write[1].content)
        elif isinstance(op, LoopOp):
            inner = written[op] = _writes(op.body.block, facts, written)
            for register, contents in inner.items():
                writes.setdefault(register, set()).update(contents)
    return writes


def _run(
    block: Block,
    state: State,
    facts: ScalarFacts,
    written: dict[LoopOp, Written],
    redundant: list,
) -> State:
    """The state after `block`, entered in `state`; records the redundant writes."""
    state = dict(state)
    for op in block.ops:
        if (write := _write(op, facts)) is not None:
            register, held = write
            if register in state and state[register].content == held.content:
                redundant.append((op, state[register]))
            else:
                state[register] = held
        elif isinstance(op, LoopOp):
            entry = _loop_entry(written[op], state)
            state = _run(op.body.block, entry, facts, written, redundant)
            state = {r: h for r, h in state.items() if not _defined_in(h.holder, op)}
    return state


def _loop_entry(written: Written, before: State) -> State:
    """The state every iteration of a loop whose body writes `written` starts in, given the
    state before the loop."""
    return {
        register: held
        for register, held in before.items()
        if written.get(register, {held.content}) == {held.content}
    }


def _defined_in(value: SSAValue | None, loop: LoopOp) -> bool:
    return (
        value is not None and isinstance(value.owner, Operation) and loop.is_ancestor(value.owner)
    )
