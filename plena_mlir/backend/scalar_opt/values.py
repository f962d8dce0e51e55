"""What `plena-optimize-scalar` knows about scalar values: u32 semantics and constants.

The scalar integer instructions that only compute a register from registers and immediates
(`ARITHMETIC_OPS`) are evaluated here with the machine's rules (plena-isa-tvm.md A3.6): u32
wrapping, logical shifts by `amount & 31`, S_DIV_INT x / 0 = 0, S_REM_INT x % 0 = x,
S_LUI_INT imm = imm << 12.

An SSA value is a constant when it is a `plena.li`, or the zero register gp0 read through
`plena.get_register`.  gp0 is kept at zero by convention only (the machine lets a program
write it), so `ScalarFacts` trusts it only in a module where nothing writes gp0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint, Rewriter

from plena_mlir.dialects.plena import (
    REGISTER_TYPE_OF_KIND,
    GetRegisterOp,
    Registers,
    target_of,
)
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_int_ops import (
    S_AddiIntOp,
    S_AddIntOp,
    S_DivIntOp,
    S_LuiIntOp,
    S_MulIntOp,
    S_RemIntOp,
    S_SlliIntOp,
    S_SllIntOp,
    S_SrliIntOp,
    S_SrlIntOp,
    S_SubIntOp,
)
from plena_mlir.target import Target

U32_MASK = (1 << 32) - 1

#: `lhs op rhs` of the two-register instructions, before the u32 wrap.
_REGISTER_REGISTER: dict[type[Operation], Callable[[int, int], int]] = {
    S_AddIntOp: lambda a, b: a + b,
    S_SubIntOp: lambda a, b: a - b,
    S_MulIntOp: lambda a, b: a * b,
    S_SllIntOp: lambda a, b: a << (b & 31),
    S_SrlIntOp: lambda a, b: a >> (b & 31),
    S_DivIntOp: lambda a, b: a // b if b else 0,
    S_RemIntOp: lambda a, b: a % b if b else a,
}

#: `src op imm` of the register-immediate instructions, before the u32 wrap.
_REGISTER_IMMEDIATE: dict[type[Operation], Callable[[int, int], int]] = {
    S_AddiIntOp: lambda a, imm: a + imm,
    S_SlliIntOp: lambda a, imm: a << (imm & 31),
    S_SrliIntOp: lambda a, imm: a >> (imm & 31),
}

#: The scalar integer instructions that only compute their result from registers and
#: immediates (no INTRAM access): these fold, share and move freely.  (A set of op types:
#: `type(op) in ARITHMETIC_OPS` is much cheaper than isinstance on eleven op classes.)
ARITHMETIC_OPS: frozenset[type[Operation]] = frozenset(
    (*_REGISTER_REGISTER, *_REGISTER_IMMEDIATE, S_LuiIntOp)
)

_REGISTER_TYPES = frozenset(REGISTER_TYPE_OF_KIND.values())


def immediate(op: Operation) -> int:
    """The `imm` property of an instruction."""
    return op.properties["imm"].value.data  # type: ignore[attr-defined]


def evaluate(op: Operation, operands: Sequence[int]) -> int:
    """The u32 result of `op` (one of ARITHMETIC_OPS) on the u32 values of its operands."""
    kind = type(op)
    if kind in _REGISTER_REGISTER:
        return _REGISTER_REGISTER[kind](*operands) & U32_MASK
    if kind in _REGISTER_IMMEDIATE:
        return _REGISTER_IMMEDIATE[kind](operands[0], immediate(op)) & U32_MASK
    assert kind is S_LuiIntOp, f"{op.name} is not a scalar arithmetic instruction"
    return (immediate(op) << 12) & U32_MASK


def has_unallocated_results(op: Operation) -> bool:
    """True if every result of `op` is a register not yet allocated: such an op writes no
    physical register, so it can be moved, shared or replaced."""
    return all(
        type(r.type) in _REGISTER_TYPES and not r.type.is_allocated  # type: ignore[attr-defined]
        for r in op.results
    )


@dataclass
class ScalarFacts:
    """The module-wide facts the optimisation steps share."""

    module: ModuleOp
    target: Target
    zero_is_reliable: bool
    """True when nothing in the module writes gp0, so every read of gp0 gives 0."""

    @staticmethod
    def of(module: ModuleOp) -> ScalarFacts:
        """The facts of `module`.  When gp0 is reliable, its reads become one
        `plena.get_register` at the start of the module, so zero operands are one value."""
        facts = ScalarFacts(module, target_of(module), not _writes_zero_register(module))
        if facts.zero_is_reliable:
            reads = [op for op in module.walk() if type(op) is GetRegisterOp]
            reads = [op for op in reads if _reads_zero_register(op)]
            if reads:
                zero = facts.zero_register()
                for read in reads:
                    if read.res is not zero:
                        read.res.replace_all_uses_with(zero)
                        Rewriter.erase_op(read)
        return facts

    @property
    def max_immediate(self) -> int:
        """The largest S_ADDI_INT immediate (imm2) of the target."""
        return (1 << self.target.imm2_bits) - 1

    def zero_register(self, rewriter: PatternRewriter | None = None) -> SSAValue:
        """gp0, read by the first op of the module (inserted there, through `rewriter` when
        called from a pattern, if it is not)."""
        assert self.zero_is_reliable, "the module writes gp0"
        first = self.module.body.block.first_op
        if first is not None and _reads_zero_register(first):
            return first.results[0]
        zero = GetRegisterOp(Registers.ZERO)
        zero.res.name_hint = "zero"
        start = InsertPoint.at_start(self.module.body.block)
        if rewriter is None:
            Rewriter.insert_op(zero, start)
        else:
            rewriter.insert(zero, start)
        return zero.res

    def constant(self, value: SSAValue) -> int | None:
        """The u32 value of `value` if it is a known constant."""
        owner = value.owner
        if type(owner) is LoadImmediateOp:
            return owner.value.value.data
        if self.zero_is_reliable and _reads_zero_register(owner):
            return 0
        return None

    def key(self, value: SSAValue) -> int | SSAValue:
        """What `value` is known to hold: its constant, or else the SSA value itself."""
        constant = self.constant(value)
        return value if constant is None else constant


def _reads_zero_register(op: Operation | Block) -> bool:
    return type(op) is GetRegisterOp and op.res.type == Registers.ZERO  # type: ignore[union-attr]


def _writes_zero_register(module: ModuleOp) -> bool:
    for op in module.walk():
        if type(op) is not GetRegisterOp and any(_is_zero(r) for r in op.results):
            return True
        if op.regions and any(_is_zero(a) for r in op.regions for b in r.blocks for a in b.args):
            return True
    return False


def _is_zero(value: SSAValue) -> bool:
    """`value.type == Registers.ZERO`, comparing attributes only when the classes match."""
    register = value.type
    return type(register) is type(Registers.ZERO) and register == Registers.ZERO
