"""Immediate legalisation: every `plena.li v` becomes instructions the machine has.

    v = 0, read by instructions       -> gp0 itself (no instruction)
    v <= 2^imm2_bits - 1              -> S_ADDI_INT gp0, v
    otherwise                         -> S_LUI_INT v >> 12 (= v with the low 12 bits cleared)
                                         S_ADDI_INT that, v & 0xFFF   (only if those bits != 0)

On a target whose imm2 field is narrower than 12 bits the low bits are added by as many
S_ADDI_INTs of at most 2^imm2_bits - 1 as they need (starting from gp0 instead of an
S_LUI_INT 0 when v < 2^12).  A target whose S_LUI_INT immediate cannot hold v >> 12 gets a
DiagnosticException naming the constant.

A zero that is a loop's initial or yielded value must stay in the loop's own register, so
it is built with S_ADDI_INT gp0, 0.  In a module that writes gp0 (so gp0 is not known to be
zero) every constant is built from S_LUI_INT, which needs no source register.
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.scalar_opt.values import ScalarFacts
from plena_mlir.dialects.plena import PlenaInstruction
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddiIntOp, S_LuiIntOp
from plena_mlir.target import Target

#: S_LUI_INT shifts its immediate left by this much.
LUI_SHIFT = 12
LOW_BITS_MASK = (1 << LUI_SHIFT) - 1


def legalise_constants(facts: ScalarFacts) -> None:
    """Replace every `plena.li` of the module by the instructions that build it."""
    for constant in [op for op in facts.module.walk() if isinstance(op, LoadImmediateOp)]:
        value = constant.value.value.data
        if value == 0 and facts.zero_is_reliable:
            constant.res.replace_uses_with_if(
                facts.zero_register(), lambda use: isinstance(use.operation, PlenaInstruction)
            )
            if constant.res.first_use is None:
                Rewriter.erase_op(constant)
                continue
        Rewriter.replace_op(constant, materialise(value, constant, facts))


def materialise(value: int, constant: LoadImmediateOp, facts: ScalarFacts) -> list[Operation]:
    """The instructions that put the u32 `value` in the result register of `constant`."""
    result_type = constant.res.type
    if facts.zero_is_reliable and value <= facts.max_immediate:
        return [S_AddiIntOp(facts.zero_register(), imm=value, result_types=[result_type])]
    high, low = value >> LUI_SHIFT, value & LOW_BITS_MASK
    if high > facts.target.imm_max:
        raise DiagnosticException(
            f"plena-optimize-scalar: the constant {value} needs S_LUI_INT {high}, but the "
            f"S_LUI_INT immediate of target '{facts.target.name}' holds at most "
            f"{facts.target.imm_max}"
        )
    ops: list[Operation] = []
    source: SSAValue
    if high == 0 and facts.zero_is_reliable:
        source = facts.zero_register()
    else:
        ops.append(S_LuiIntOp(imm=high, result_types=[result_type]))
        source = ops[-1].results[0]
    while low > 0:
        step = min(low, facts.max_immediate)
        ops.append(S_AddiIntOp(source, imm=step, result_types=[result_type]))
        source, low = ops[-1].results[0], low - step
    return ops


def most_constant_instructions(target: Target) -> int:
    """The most instructions `materialise` builds one constant with on `target`."""
    max_immediate = (1 << target.imm2_bits) - 1
    return 1 + -(-LOW_BITS_MASK // max_immediate)
