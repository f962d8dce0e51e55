"""Immediate legalisation: every `plena.li v` becomes instructions the machine has.

    v = 0, read by instructions       -> gp0 itself (no instruction)
    v <= 2^imm2_bits - 1              -> S_ADDI_INT gp0, v
    otherwise                         -> S_LUI_INT v >> 12 (= v with the low 12 bits cleared)
                                         S_ADDI_INT that, v & 0xFFF   (only if those bits != 0)

A zero that is a loop's initial or yielded value must stay in the loop's own register, so
it is built with S_ADDI_INT gp0, 0.  In a module that writes gp0 (so gp0 is not known to be
zero) every constant is built from S_LUI_INT, which needs no source register.
"""

from __future__ import annotations

from xdsl.ir import Operation
from xdsl.rewriter import Rewriter

from plena_mlir.backend.scalar_opt.values import ScalarFacts
from plena_mlir.dialects.plena import PlenaInstruction
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddiIntOp, S_LuiIntOp

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
    high = S_LuiIntOp(imm=value >> LUI_SHIFT, result_types=[result_type])
    if value & LOW_BITS_MASK == 0:
        return [high]
    return [high, S_AddiIntOp(high, imm=value & LOW_BITS_MASK, result_types=[result_type])]
