"""Constant folding and algebraic simplification of the scalar integer instructions.

Only ops whose results are unallocated change: an op that already writes a physical register
may be read through that register, not only through its SSA result.

    op on constants only              -> plena.li (u32 wrap, DIV/REM-by-zero rules)
    x + 0, x - 0, x * 1, x / 1, x << 0, x >> 0, x % 0   -> x
    x * 0, x / 0, x % 1, x - x, 0 << x, 0 >> x, 0 / x, 0 % x  -> plena.li 0
    x + c (c fits imm2)               -> S_ADDI_INT x, c
    (x + a) + b                       -> S_ADDI_INT x, a + b  (when a + b fits imm2)
    x * 2^k                           -> S_SLLI_INT x, k
    x / 2^k                           -> S_SRLI_INT x, k      (unsigned division)
    x << c, x >> c                    -> S_SLLI_INT / S_SRLI_INT x, c & 31
    S_ADDI_INT x, imm (imm too large) -> S_ADD_INT x, (plena.li imm mod 2^32)

and an FPRAM/INTRAM access at a constant register address (S_LD/ST_INT, S_LD/ST_FP,
S_MAP_V_FP, S_MAP_FP_V: address = gp[reg] + imm) takes the constant into its immediate when
the sum fits: `S_LD_FP (plena.li c), imm` -> `S_LD_FP gp0, c + imm`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.scalar_opt.effects import is_trivially_dead
from plena_mlir.backend.scalar_opt.values import (
    ARITHMETIC_OPS,
    U32_MASK,
    ScalarFacts,
    evaluate,
    has_unallocated_results,
    immediate,
)
from plena_mlir.dialects.plena import PlenaInstruction, Role
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_fp_ops import S_LdFpOp, S_MapFpVOp, S_MapVFpOp, S_StFpOp
from plena_mlir.dialects.plena.scalar_int_ops import (
    S_AddiIntOp,
    S_AddIntOp,
    S_DivIntOp,
    S_LdIntOp,
    S_MulIntOp,
    S_RemIntOp,
    S_SlliIntOp,
    S_SllIntOp,
    S_SrliIntOp,
    S_SrlIntOp,
    S_StIntOp,
    S_SubIntOp,
)

#: What an op simplifies to: an existing value, or new ops the last of which gives the result.
Replacement = SSAValue | list[Operation]


def fold_scalar_arithmetic(facts: ScalarFacts) -> bool:
    """Fold and simplify to a fixpoint (dead pure ops are erased on the way); True if the
    module changed."""
    walker = PatternRewriteWalker(ScalarFolding(facts), apply_recursively=True)
    return walker.rewrite_module(facts.module)


@dataclass
class ScalarFolding(RewritePattern):
    """What GreedyRewritePatternApplier([FoldScalarArithmetic, FoldConstantAddress]) does,
    without trying every pattern on every op: a trivially dead op is erased (the applier's
    DCE, asked through `effects.is_trivially_dead`, which builds no effect sets), else the op
    goes to the one pattern that applies to its type."""

    facts: ScalarFacts

    def __post_init__(self) -> None:
        self._arithmetic = FoldScalarArithmetic(self.facts)
        self._address = FoldConstantAddress(self.facts)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if is_trivially_dead(op):
            rewriter.erase(op)
        elif type(op) in ARITHMETIC_OPS:
            self._arithmetic.match_and_rewrite(op, rewriter)
        elif type(op) in _ADDRESS_OPERAND_INDEX:
            self._address.match_and_rewrite(op, rewriter)


@dataclass
class FoldScalarArithmetic(RewritePattern):
    facts: ScalarFacts

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if type(op) not in ARITHMETIC_OPS:
            return
        if not has_unallocated_results(op):
            self._check_immediate(op)
            return
        constants = [self.facts.constant(v) for v in op.operands]
        if None not in constants:
            rewriter.replace(op, LoadImmediateOp(evaluate(op, constants)))  # type: ignore[arg-type]
            return
        replacement = self._simplified(op, constants)
        if isinstance(replacement, SSAValue):
            if replacement.type == op.results[0].type:
                rewriter.replace(op, [], [replacement])
        elif replacement is not None:
            _keep_comment(op, replacement[-1])
            rewriter.replace(op, replacement)

    def _check_immediate(self, op: Operation) -> None:
        if isinstance(op, S_AddiIntOp) and not self._fits(immediate(op)):
            raise DiagnosticException(
                f"plena-optimize-scalar: S_ADDI_INT immediate {immediate(op)} does not fit in [0, "
                f"{self.facts.max_immediate}] and its result is already allocated to "
                f"{op.results[0].type}: there is no free register to build the constant in"
            )

    def _fits(self, value: int) -> bool:
        return 0 <= value <= self.facts.max_immediate

    def _simplified(self, op: Operation, constants: Sequence[int | None]) -> Replacement | None:
        match op, constants:
            case S_AddiIntOp(), _:
                return self._add_immediate(op, op.operands[0], immediate(op))
            case S_AddIntOp() | S_MulIntOp(), (None, int() as c) | (int() as c, None):
                x = op.operands[0] if constants[0] is None else op.operands[1]
                if isinstance(op, S_AddIntOp):
                    return self._add_immediate(op, x, c)
                return _multiply(x, c)
            case S_SubIntOp(), (None, 0):
                return op.operands[0]
            case S_SubIntOp(), (None, None) if op.operands[0] == op.operands[1]:
                return [LoadImmediateOp(0)]
            case S_SllIntOp() | S_SrlIntOp() | S_DivIntOp() | S_RemIntOp(), (0, None):
                return [LoadImmediateOp(0)]
            case S_SllIntOp(), (None, int() as c):
                return _shift(S_SlliIntOp, op.operands[0], c)
            case S_SrlIntOp(), (None, int() as c):
                return _shift(S_SrliIntOp, op.operands[0], c)
            case S_SlliIntOp() | S_SrliIntOp(), _ if immediate(op) & 31 == 0:
                return op.operands[0]
            case S_DivIntOp(), (None, int() as c):
                return _divide(op.operands[0], c)
            case S_RemIntOp(), (None, 0):
                return op.operands[0]
            case S_RemIntOp(), (None, 1):
                return [LoadImmediateOp(0)]
        return None

    def _add_immediate(self, op: Operation, x: SSAValue, addend: int) -> Replacement | None:
        """x + addend (mod 2^32) as S_ADDI_INT, merged with an S_ADDI_INT that computes x,
        or through a constant when the addend does not fit the immediate."""
        addend_u32 = addend & U32_MASK
        if addend_u32 == 0:
            return x
        inner = x.owner
        if isinstance(inner, S_AddiIntOp) and has_unallocated_results(inner):
            total = immediate(inner) + addend
            if self._fits(total):
                return [S_AddiIntOp(inner.operands[0], imm=total)]
        if self._fits(addend):
            return None if isinstance(op, S_AddiIntOp) else [S_AddiIntOp(x, imm=addend)]
        if self._fits(addend_u32):
            return [S_AddiIntOp(x, imm=addend_u32)]
        if isinstance(op, S_AddIntOp):
            return None
        constant = LoadImmediateOp(addend_u32)
        return [constant, S_AddIntOp(x, constant.res)]


#: The instructions that access `gp[<operand>] + imm`, and that operand's name.
ADDRESS_OPERAND_OF: dict[type[PlenaInstruction], str] = {
    S_LdIntOp: "base",
    S_StIntOp: "base",
    S_LdFpOp: "base",
    S_StFpOp: "base",
    S_MapVFpOp: "fpram",
    S_MapFpVOp: "fpram",
}


@dataclass
class FoldConstantAddress(RewritePattern):
    facts: ScalarFacts

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        index = _ADDRESS_OPERAND_INDEX.get(type(op))  # type: ignore[arg-type]
        if index is None or not self.facts.zero_is_reliable:
            return
        base = self.facts.constant(op.operands[index])
        if not base:  # unknown, or gp0 already
            return
        address = base + immediate(op)
        if address <= self.facts.max_immediate:
            op.operands[index] = self.facts.zero_register(rewriter)
            op.properties["imm"] = IntegerAttr(address, i64)
            rewriter.notify_op_modified(op)


def _operand_index(op_class: type[PlenaInstruction], name: str) -> int:
    """The position among the op's SSA operands of the table operand `name`."""
    reads = [
        op.name
        for op, role in zip(op_class.INFO.operands, op_class.ROLES, strict=True)
        if role in (Role.READ, Role.UPDATE)
    ]
    return reads.index(name)


#: ADDRESS_OPERAND_OF as SSA operand positions.
_ADDRESS_OPERAND_INDEX: dict[type[PlenaInstruction], int] = {
    op_class: _operand_index(op_class, name) for op_class, name in ADDRESS_OPERAND_OF.items()
}


def _multiply(x: SSAValue, c: int) -> Replacement | None:
    if c == 0:
        return [LoadImmediateOp(0)]
    if c == 1:
        return x
    if c & (c - 1) == 0:
        return [S_SlliIntOp(x, imm=c.bit_length() - 1)]
    return None


def _shift(shift_op: type[PlenaInstruction], x: SSAValue, amount: int) -> Replacement:
    return x if amount & 31 == 0 else [shift_op(x, imm=amount & 31)]


def _divide(x: SSAValue, c: int) -> Replacement | None:
    if c == 0:
        return [LoadImmediateOp(0)]
    if c == 1:
        return x
    if c & (c - 1) == 0:
        return [S_SrliIntOp(x, imm=c.bit_length() - 1)]
    return None


def _keep_comment(old: Operation, new: Operation) -> None:
    if isinstance(old, PlenaInstruction) and isinstance(new, PlenaInstruction):
        if old.comment is not None:
            new.comment = old.comment
