"""Common subexpression elimination: xDSL's CSE with the effect queries of `effects.py`.

The algorithm is xDSL's `CSEDriver` (within a block and from enclosing blocks, dead ops
erased on the way): an op that is pure is replaced by an identical op in scope; one that only
reads is replaced by an identical op earlier in its block when no op in between may write.
Only the effect queries differ: `effect_class` instead of `get_effects`, with each loop's
class computed once per run (CSE changes no op's effects).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.ir import Operation
from xdsl.traits import IsTerminator
from xdsl.transforms.common_subexpression_elimination import CSEDriver

from plena_mlir.backend.scalar_opt.effects import (
    EffectClass,
    LoopClasses,
    effect_class,
    is_trivially_dead,
)


def share_common_subexpressions(root: Operation) -> None:
    """CSE of every region of `root`."""
    _Driver().simplify(root)


@dataclass
class _Driver(CSEDriver):
    """xDSL's CSEDriver, asking `effect_class` instead of `get_effects`."""

    _loops: LoopClasses = field(default_factory=LoopClasses)

    def _simplify_operation(self, op: Operation) -> None:
        if op.has_trait(IsTerminator):
            return
        if is_trivially_dead(op):
            self._mark_erasure(op)
            return
        if any(len(region.blocks) > 1 for region in op.regions):
            return
        effects = effect_class(op, self._loops)
        if effects is EffectClass.READS:
            existing = self._known_ops.get(op)
            if (
                existing is not None
                and op.parent_block() is existing.parent_block()
                and not self._write_between(existing, op)
            ):
                self._replace_and_delete(op, existing)
                return
        elif effects is EffectClass.NONE:
            if existing := self._known_ops.get(op):
                self._replace_and_delete(op, existing)
                return
        else:
            return
        self._known_ops[op] = op

    def _write_between(self, first: Operation, last: Operation) -> bool:
        """True if an op from `first` up to `last` (excluded) may write."""
        op: Operation | None = first
        while op is not last:
            assert op is not None, "incorrect order of ops in side-effect search"
            if effect_class(op, self._loops) >= EffectClass.WRITES:
                return True
            op = op.next_op
        return False
