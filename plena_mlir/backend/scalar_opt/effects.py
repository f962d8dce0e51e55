"""The memory effects and traits of the `plena` ops as CSE and dead-code checks ask them,
cheaply.

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

from collections.abc import Callable, Iterable
from enum import IntEnum

from xdsl.backend.register_type import RegisterAllocatedMemoryEffect, RegisterType
from xdsl.ir import Operation, SSAValue
from xdsl.traits import (
    IsTerminator,
    MemoryEffect,
    MemoryEffectKind,
    NoMemoryEffect,
    SymbolOpInterface,
    get_effects,
)
from xdsl.transforms.dead_code_elimination import is_trivially_dead as xdsl_is_trivially_dead

from plena_mlir.dialects.plena import REGISTER_TYPE_OF_KIND, LoopOp, Plena, PlenaInstruction
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

Classifier = Callable[[Operation], EffectClass]


def effect_class(op: Operation, loops: LoopClasses) -> EffectClass:
    """The class of `get_effects(op)`; a loop's class is taken from, or stored in, `loops`."""
    classify = _CLASSIFIER_OF.get(type(op))
    if classify is not None:
        return classify(op)
    if type(op) is LoopOp:
        known = loops.get(op)  # type: ignore[arg-type]
        if known is None:
            known = loops[op] = _loop_class(op, loops)  # type: ignore[index, arg-type]
        return known
    return _class_of_effects(op)


def is_terminator(op: Operation) -> bool:
    """`op.has_trait(IsTerminator)`."""
    known = _TERMINATOR.get(type(op))
    return op.has_trait(IsTerminator) if known is None else known


def is_trivially_dead(op: Operation) -> bool:
    """xDSL's `is_trivially_dead` (no result used, no observable effect), for plena ops
    without computing their effect sets."""
    for result in op.results:
        if result.first_use is not None:
            return False
    if type(op) not in _KEPT:
        return xdsl_is_trivially_dead(op)
    return not _KEPT[type(op)] and not _observable(op)


def _observable(op: Operation) -> bool:
    """True if `op` (a plena op) has effects beyond reads, or unknown ones."""
    classify = _CLASSIFIER_OF.get(type(op))
    if classify is not None:
        return classify(op) >= EffectClass.WRITES
    if type(op) is LoopOp:
        return allocated_counter(op) is not None or any(
            _observable(inner) for inner in op.regions[0].block.ops
        )
    return _class_of_effects(op) >= EffectClass.WRITES


def _loop_class(loop: LoopOp, loops: LoopClasses) -> EffectClass:
    body = max(
        (effect_class(op, loops) for op in loop.body.block.ops), default=EffectClass.NONE
    )
    if body is not EffectClass.UNKNOWN and allocated_counter(loop) is not None:
        return max(body, EffectClass.WRITES)
    return body


_PLENA_REGISTERS = frozenset(REGISTER_TYPE_OF_KIND.values())


def _allocated(values: Iterable[SSAValue]) -> bool:
    """True if a value is of an allocated register type."""
    for value in values:
        register = value.type
        if type(register) in _PLENA_REGISTERS:
            if register.register_name.data:  # type: ignore[attr-defined]
                return True
        elif isinstance(register, RegisterType) and register.is_allocated:
            return True
    return False


def _registers_class(op: Operation) -> EffectClass:
    """RegisterAllocatedMemoryEffect: writes of allocated results, reads of allocated
    operands."""
    if _allocated(op.results):
        return EffectClass.WRITES
    return EffectClass.READS if _allocated(op.operands) else EffectClass.NONE


def _reading_registers_class(op: Operation) -> EffectClass:
    """RegisterAllocatedMemoryEffect plus a machine-state read."""
    return EffectClass.WRITES if _allocated(op.results) else EffectClass.READS


def _instruction_classifier(op_type: type[PlenaInstruction]) -> Classifier:
    machine = op_type.MACHINE_EFFECTS
    if machine - {MemoryEffectKind.READ}:
        return _constant(EffectClass.WRITES)
    if machine:
        return _reading_registers_class
    return _registers_class


def _class_of_effects(op: Operation) -> EffectClass:
    effects = get_effects(op)
    if effects is None:
        return EffectClass.UNKNOWN
    if not effects:
        return EffectClass.NONE
    if all(e.kind is MemoryEffectKind.READ for e in effects):
        return EffectClass.READS
    return EffectClass.WRITES


def _constant(effect: EffectClass) -> Classifier:
    return lambda op: effect


def _classifier(op_type: type[Operation]) -> Classifier | None:
    """The classifier of the ops of `op_type` (not a loop), from its memory-effect traits;
    None when they are not ones this module knows."""
    traits = op_type.get_traits_of_type(MemoryEffect)
    if not traits:
        return _constant(EffectClass.UNKNOWN)
    if len(traits) != 1:
        return None
    trait = type(traits[0])
    if issubclass(trait, NoMemoryEffect):
        return _constant(EffectClass.NONE)
    if trait is InstructionEffects:
        return _instruction_classifier(op_type)  # type: ignore[arg-type]
    if trait is RegisterAllocatedMemoryEffect:
        return _registers_class
    if trait is ReadsResultRegister:
        return _constant(EffectClass.READS)
    return None


#: The classifier of every plena op type but plena.loop whose effect traits are known.
_CLASSIFIER_OF: dict[type[Operation], Classifier] = {
    op_type: classify
    for op_type in Plena.operations
    if op_type is not LoopOp and (classify := _classifier(op_type)) is not None
}

#: Whether each plena op type is a terminator.
_TERMINATOR: dict[type[Operation], bool] = {
    op_type: op_type.has_trait(IsTerminator) for op_type in Plena.operations
}

#: For the plena op types `is_trivially_dead` classifies itself (plena.loop and those of
#: `_CLASSIFIER_OF`): whether a trait keeps every op of the type (terminator, symbol).
_KEPT: dict[type[Operation], bool] = {
    op_type: op_type.has_trait(IsTerminator) or op_type.has_trait(SymbolOpInterface)
    for op_type in (LoopOp, *_CLASSIFIER_OF)
}
