"""Register copies around the register constraints of `plena` programs.

Two constraints tie values to one register: a loop-carried value (initial value, block
argument, yielded value and loop result are one register, since no instruction moves them),
and an in-place update (V_RED_* reads and writes its accumulator register).  Before
allocation, `insert_constraint_copies` gives every constraint fresh values of its own:

    %init' = copy %init                    # LOOP_INIT, before the loop
    %r:2 = plena.loop ... iter_args(%a = %init', %b = ...) {
      ...
      %t = copy %a                         # YIELD_TEMP: the yield passes the carried %a
      %n' = copy %n                        # LOOP_NEXT, just before the yield
      %t' = copy %t                        #   on in another slot (a permutation)
      plena.yield %n', %t'
    }
    %r' = copy %r#0                        # LOOP_RESULT, every later use reads %r'
    %acc' = copy %acc                      # IN_PLACE, before the in-place instruction
    %out = plena.v_red_sum %acc', %row ...

so each tied group {%init', %a, %n', %r#0} and {%acc', %out} can always share one register
(YIELD_TEMP copies are all read before the first LOOP_NEXT copy writes a carried register).
Copies are `S_ADDI_INT dst, src, 0` and `S_ADD_FP dst, src, f0`.  After allocation,
`remove_redundant_copies` deletes every copy whose source ended up in its register, which is
all of them unless keeping a value in one register was impossible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.register_live_ranges import describe_value, is_unallocated
from plena_mlir.dialects.plena import (
    CommentOp,
    FpRegisterType,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    PlenaInstruction,
    PlenaRegisterType,
    Registers,
    YieldOp,
)
from plena_mlir.dialects.plena.scalar_fp_ops import S_AddFpOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddiIntOp


class CopyRole(Enum):
    """Why the allocator inserted a copy."""

    LOOP_INIT = "loop-init"
    YIELD_TEMP = "yield-temp"
    LOOP_NEXT = "loop-next"
    LOOP_RESULT = "loop-result"
    IN_PLACE = "in-place"


@dataclass
class ZeroRegisters:
    """The zero registers gp0 and f0 as values defined at the top of the program: an existing
    plena.get_register of the module body (moved up if an instruction precedes it), or one
    created on first use."""

    block: Block
    _values: dict[PlenaRegisterType, SSAValue] = field(default_factory=dict)
    _created: list[GetRegisterOp] = field(default_factory=list)

    def gp(self) -> SSAValue:
        return self._get(Registers.ZERO)

    def fp(self) -> SSAValue:
        return self._get(Registers.FZERO)

    def erase_unused(self) -> None:
        """Erase the plena.get_register ops this created that nothing reads."""
        for op in self._created:
            if not op.res.uses:
                self.block.erase_op(op)

    def _get(self, register: PlenaRegisterType) -> SSAValue:
        if register in self._values:
            return self._values[register]
        prologue = True
        found: GetRegisterOp | None = None
        for op in self.block.ops:
            if isinstance(op, GetRegisterOp) and op.res.type == register:
                found = op
                break
            prologue = prologue and isinstance(op, GetRegisterOp | CommentOp)
        if found is None or not prologue:
            if found is not None:
                self.block.detach_op(found)
            else:
                found = GetRegisterOp(register)
                self._created.append(found)
            if self.block.first_op is None:
                self.block.add_op(found)
            else:
                self.block.insert_op_before(found, self.block.first_op)
        self._values[register] = found.res
        return found.res


def copy_of(value: SSAValue, zeros: ZeroRegisters) -> PlenaInstruction:
    """An instruction writing the value of `value` to a new unallocated register."""
    if isinstance(value.type, GpRegisterType):
        return S_AddiIntOp(value, imm=0)
    if isinstance(value.type, FpRegisterType):
        return S_AddFpOp(value, zeros.fp())
    raise DiagnosticException(
        f"plena-allocate-registers: cannot copy {describe_value(value)}: no instruction copies "
        f"a {value.type.name} register"
    )


def insert_constraint_copies(module: ModuleOp, zeros: ZeroRegisters) -> dict[Operation, CopyRole]:
    """Insert the copies that give every register constraint fresh values (module doc);
    returns the copies with their roles."""
    inserter = _CopyInserter(zeros)
    for op in list(module.walk()):
        if isinstance(op, LoopOp):
            inserter.copy_loop(op)
        elif isinstance(op, PlenaInstruction) and op.IN_PLACE:
            for operand, result in op.inouts():
                if is_unallocated(result):
                    index = next(u.index for u in operand.uses if u.operation is op)
                    op.operands[index] = inserter.insert(operand, CopyRole.IN_PLACE, op)
    return inserter.copies


@dataclass
class _CopyInserter:
    zeros: ZeroRegisters
    copies: dict[Operation, CopyRole] = field(default_factory=dict)

    def insert(
        self,
        value: SSAValue,
        role: CopyRole,
        before: Operation | None = None,
        after: Operation | None = None,
    ) -> SSAValue:
        """A copy of `value` placed before `before` or after `after`; its result."""
        op = copy_of(value, self.zeros)
        anchor = before or after
        assert anchor is not None and (block := anchor.parent_block()) is not None
        if before is not None:
            block.insert_op_before(op, before)
        else:
            block.insert_op_after(op, anchor)
        self.copies[op] = role
        return op.results[0]

    def copy_loop(self, loop: LoopOp) -> None:
        """LOOP_INIT, YIELD_TEMP, LOOP_NEXT and LOOP_RESULT copies of the unallocated
        carried values of `loop`."""
        carried = loop.body.block.args[1:]
        slots = [i for i, arg in enumerate(carried) if is_unallocated(arg)]
        yield_op = loop.body.block.last_op
        assert isinstance(yield_op, YieldOp)
        for i in slots:
            loop.operands[i] = self.insert(loop.operands[i], CopyRole.LOOP_INIT, before=loop)
        next_values = {i: yield_op.operands[i] for i in slots}
        for i, value in next_values.items():
            if value in carried and value is not carried[i]:
                next_values[i] = self.insert(value, CopyRole.YIELD_TEMP, before=yield_op)
        for i, value in next_values.items():
            yield_op.operands[i] = self.insert(value, CopyRole.LOOP_NEXT, before=yield_op)
        anchor: Operation = loop
        for i in slots:
            result = loop.results[i]
            users = list(result.uses)
            if users:
                copy = self.insert(result, CopyRole.LOOP_RESULT, after=anchor)
                for use in users:
                    use.operation.operands[use.index] = copy
                anchor = copy.owner  # type: ignore[assignment]


def remove_redundant_copies(copies: dict[Operation, CopyRole]) -> int:
    """Erase the copies whose source and destination are the same register; their number."""
    removed = 0
    for op in copies:
        source, result = op.operands[0], op.results[0]
        if source.type == result.type:
            result.replace_all_uses_with(source)
            op.parent_block().erase_op(op)  # type: ignore[union-attr]
            removed += 1
    return removed
