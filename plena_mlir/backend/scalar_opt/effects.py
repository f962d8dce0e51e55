"""The memory effects of the `plena` ops as the CSE and dead-code checks use them, cheaply.

xDSL's CSE and trivial-dead-code checks only ask of `get_effects(op)` whether it is unknown
(None), empty, only READs, or holds some other effect.  `EffectClass` is that answer, and
`effect_class` gives it for every op of the `plena` dialect with the same result as
`get_effects`, without building effect sets or looking traits up per query:

    instruction (InstructionEffects)  WRITES if its MACHINE_EFFECTS write or a result is an
                                      allocated register; else READS if they read or an
                                      operand is allocated; else NONE
    plena.li                          WRITES if its result is allocated, else NONE
    plena.get_register                READS
    plena.yield                       NONE
    plena.comment                     UNKNOWN (no effect trait)
    plena.loop                        the largest class in its body (nested loops included),
                                      at least WRITES when its counter is allocated

Ops of other dialects get the class of their xDSL `get_effects`, an ALLOC or FREE counting
as a write (conservative: the plena dialect has neither).

A loop's class walks its whole body.  `LoopClasses` remembers it per loop, for one run of a
transform that cannot change the effects of any loop (CSE: it only redirects uses to an
identical value and erases ops at the end).  `is_trivially_dead` (the dead-code check of the
folding walker, which does change loop bodies) stops at the first op with an observable effect
instead.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from xdsl.backend.register_type import RegisterAllocatedMemoryEffect, RegisterType
from xdsl.ir import Operation
from xdsl.traits import (
    IsTerminator,
    MemoryEffect,
    MemoryEffectKind,
    NoMemoryEffect,
    SymbolOpInterface,
    get_effects,
)
from xdsl.transforms.dead_code_elimination import is_trivially_dead as xdsl_is_trivially_dead

from plena_mlir.dialects.plena import LoopOp, Plena, PlenaInstruction
from plena_mlir.dialects.plena.base import InstructionEffects
from plena_mlir.dialects.plena.loop_ops import allocated_counter
from plena_mlir.dialects.plena.pseudo_ops import ReadsResultRegister


class EffectClass(IntEnum):
    """What `get_effects(op)` is, ordered so that the class of a union of effects is the
    largest class of its parts."""

    NONE = 0
    """No effect: the op is pure."""
    READS = 1
    """Only READ effects."""
    WRITES = 2
    """Some effect other than a READ (a WRITE for every plena op)."""
    UNKNOWN = 3
    """Unknown effects (get_effects is None)."""


#: Memo of loop classes for one transform run (`effect_class`).
LoopClasses = dict[LoopOp, EffectClass]


def effect_class(op: Operation, loops: LoopClasses) -> EffectClass:
    """The class of `get_effects(op)`; a loop's class is taken from, or stored in, `loops`."""
    if isinstance(op, LoopOp):
        known = loops.get(op)
        if known is None:
            known = loops[op] = _loop_class(op, loops)
        return known
    classify = _CLASSIFIER_OF.get(type(op))
    return _class_of_effects(op) if classify is None else classify(op)


def is_trivially_dead(op: Operation) -> bool:
    """xDSL's `is_trivially_dead` (no result used, no observable effect), for plena ops
    without computing their effect sets."""
    if any(result.first_use is not None for result in op.results):
        return False
    if type(op) not in _CLASSIFIER_OF and not isinstance(op, LoopOp):
        return xdsl_is_trivially_dead(op)
    return (
        not op.has_trait(IsTerminator, value_if_unregistered=False)
        and not op.has_trait(SymbolOpInterface, value_if_unregistered=False)
        and not _observable(op)
    )


def _observable(op: Operation) -> bool:
    """True if `op` (a plena op) has effects beyond reads, or unknown ones."""
    if isinstance(op, LoopOp):
        return allocated_counter(op) is not None or any(
            _observable(inner) for inner in op.body.block.ops
        )
    classify = _CLASSIFIER_OF.get(type(op))
    if classify is None:
        return _class_of_effects(op) >= EffectClass.WRITES
    return classify(op) >= EffectClass.WRITES


def _loop_class(loop: LoopOp, loops: LoopClasses) -> EffectClass:
    body = max(
        (effect_class(op, loops) for op in loop.body.block.ops), default=EffectClass.NONE
    )
    if body is not EffectClass.UNKNOWN and allocated_counter(loop) is not None:
        return max(body, EffectClass.WRITES)
    return body


def _allocated(values) -> bool:
    return any(isinstance(t := v.type, RegisterType) and t.is_allocated for v in values)


def _instruction_class(op: Operation) -> EffectClass:
    assert isinstance(op, PlenaInstruction)
    machine = op.MACHINE_EFFECTS
    if MemoryEffectKind.WRITE in machine or _allocated(op.results):
        return EffectClass.WRITES
    if MemoryEffectKind.READ in machine or _allocated(op.operands):
        return EffectClass.READS
    return EffectClass.NONE


def _register_class(op: Operation) -> EffectClass:
    if _allocated(op.results):
        return EffectClass.WRITES
    return EffectClass.READS if _allocated(op.operands) else EffectClass.NONE


def _class_of_effects(op: Operation) -> EffectClass:
    effects = get_effects(op)
    if effects is None:
        return EffectClass.UNKNOWN
    if not effects:
        return EffectClass.NONE
    if all(e.kind is MemoryEffectKind.READ for e in effects):
        return EffectClass.READS
    return EffectClass.WRITES


def _constant(effect: EffectClass) -> Callable[[Operation], EffectClass]:
    return lambda op: effect


#: The classifier of an op by the type of its one memory-effect trait.
_CLASSIFIER_OF_TRAIT: dict[type[MemoryEffect], Callable[[Operation], EffectClass]] = {
    InstructionEffects: _instruction_class,
    RegisterAllocatedMemoryEffect: _register_class,
    ReadsResultRegister: _constant(EffectClass.READS),
}


def _classifier(op_type: type[Operation]) -> Callable[[Operation], EffectClass] | None:
    """The classifier of the ops of `op_type` (not a loop), from its memory-effect traits;
    None when they are not ones `_CLASSIFIER_OF_TRAIT` knows."""
    traits = op_type.get_traits_of_type(MemoryEffect)  # type: ignore[attr-defined]
    if not traits:
        return _constant(EffectClass.UNKNOWN)
    if len(traits) != 1:
        return None
    if isinstance(traits[0], NoMemoryEffect):
        return _constant(EffectClass.NONE)
    return _CLASSIFIER_OF_TRAIT.get(type(traits[0]))


#: The classifier of every plena op type but plena.loop whose effect traits are known.
_CLASSIFIER_OF: dict[type[Operation], Callable[[Operation], EffectClass]] = {
    op_type: classify
    for op_type in Plena.operations
    if op_type is not LoopOp and (classify := _classifier(op_type)) is not None
}
