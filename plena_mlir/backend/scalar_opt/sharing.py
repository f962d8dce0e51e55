"""Common subexpression elimination: xDSL's CSE algorithm with cheap effect queries.

The rules are those of xDSL's `CSEDriver`, so the result is the same op for op: ops are
visited in order, nested regions first; a terminator is kept; a trivially dead op is erased;
an op that is pure is replaced by an identical op in scope (its block or an enclosing one,
an op that may be isolated from above starting an empty scope); an op that only reads is
replaced by an identical op earlier in its own block when no op in between may write.  A
replaced op's uses are redirected only when none of its users is identical to a known op, and
the op is erased (at the end of the run) once nothing uses it.  Two ops are identical when
their names, attributes, properties, operands and result types are equal and their regions
are structurally equivalent.

What differs is the cost: effects come from `effect_class`, each loop's class computed once
per run (CSE changes no op's effects), and the known ops are one dictionary whose keys keep
their hash, with an undo log for the scopes instead of a copy per region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects.builtin import IntegerAttr, UnregisteredOp
from xdsl.ir import Block, Operation, Region
from xdsl.rewriter import Rewriter
from xdsl.traits import IsolatedFromAbove

from plena_mlir.backend.scalar_opt.effects import (
    EffectClass,
    LoopClasses,
    effect_class,
    is_terminator,
    is_trivially_dead,
)


def share_common_subexpressions(root: Operation) -> None:
    """CSE of every region of `root`."""
    sharing = _Sharing()
    for region in root.regions:
        sharing.region(region)
    sharing.erase_dead()


class _Key:
    """An op as a key of the known ops: equal to the key of an identical op, its hash kept
    (an op is never changed while it is a key: uses are redirected only away from ops that
    are not known)."""

    __slots__ = ("op", "name", "hash")

    def __init__(self, op: Operation):
        self.op = op
        self.name = op.op_name.data if isinstance(op, UnregisteredOp) else op.name
        properties = 0
        for name, value in op.properties.items():
            value_hash = value.value.data if type(value) is IntegerAttr else hash(value)
            properties += hash((name, value_hash))
        self.hash = hash((self.name, properties, op.operands, len(op.results)))

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Key) or self.hash != other.hash or self.name != other.name:
            return False
        a, b = self.op, other.op
        return (
            a.attributes == b.attributes
            and a.properties == b.properties
            and a.operands == b.operands
            and a.result_types == b.result_types
            and all(
                s.is_structurally_equivalent(o) for s, o in zip(a.regions, b.regions, strict=True)
            )
        )


#: An entry of the undo log: a key and the op it mapped to before (None: it was absent).
_Undo = tuple[_Key, Operation | None]


@dataclass
class _Sharing:
    """The state of one CSE run."""

    known: dict[_Key, Operation] = field(default_factory=dict)
    """The known ops in the current scope."""
    undo: list[_Undo] = field(default_factory=list)
    """How to restore the enclosing scopes' known ops: entries in order of change."""
    dead: set[Operation] = field(default_factory=set)
    loops: LoopClasses = field(default_factory=LoopClasses)

    def region(self, region: Region) -> None:
        """CSE of a single-block region, in a scope of its own (xDSL skips other regions)."""
        if len(region.blocks) != 1:
            return
        mark = len(self.undo)
        self.block(region.block)
        self._restore(mark)

    def block(self, block: Block) -> None:
        for op in block.ops:
            if op.regions:
                if op.has_trait(IsolatedFromAbove, value_if_unregistered=True):
                    known, undo = self.known, self.undo
                    self.known, self.undo = {}, []
                    for region in op.regions:
                        self.region(region)
                    self.known, self.undo = known, undo
                else:
                    for region in op.regions:
                        self.region(region)
            self.operation(op)

    def operation(self, op: Operation) -> None:
        """Share or erase `op`, or make it known."""
        if is_terminator(op):
            return
        if is_trivially_dead(op):
            self.dead.add(op)
            return
        if any(len(region.blocks) > 1 for region in op.regions):
            return
        effects = effect_class(op, self.loops)
        if effects > EffectClass.READS:
            return
        key = _Key(op)
        existing = self.known.get(key)
        if existing is not None and (
            effects is EffectClass.NONE
            or (op.parent is existing.parent and not self._write_between(existing, op))
        ):
            self._replace(op, existing)
            return
        self.undo.append((key, existing))
        self.known[key] = op

    def erase_dead(self) -> None:
        for op in self.dead:
            if op.parent is not None:
                Rewriter.erase_op(op)

    def _replace(self, op: Operation, existing: Operation) -> None:
        for old, new in zip(op.results, existing.results, strict=True):
            if all(_Key(use.operation) not in self.known for use in old.uses):
                old.replace_all_uses_with(new)
        if all(not result.uses for result in op.results):
            self.dead.add(op)

    def _write_between(self, first: Operation, last: Operation) -> bool:
        """True if an op from `first` up to `last` (excluded) may write."""
        op: Operation | None = first
        while op is not last:
            assert op is not None, "incorrect order of ops in side-effect search"
            if effect_class(op, self.loops) >= EffectClass.WRITES:
                return True
            op = op.next_op
        return False

    def _restore(self, mark: int) -> None:
        """Undo the changes to the known ops made since the undo log had `mark` entries."""
        while len(self.undo) > mark:
            key, previous = self.undo.pop()
            if previous is None:
                del self.known[key]
            else:
                self.known[key] = previous
