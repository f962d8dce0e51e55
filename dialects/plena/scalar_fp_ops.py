"""Scalar floating-point instructions: S_*_FP, and the FPRAM <-> VRAM maps.

FP registers and FPRAM hold the target's FP format (fp16 on plena-tvm); `fp(x)` rounds an f32
result to it (nearest even).  The ALU ops with dst = f0 do nothing.
"""

from plena_mlir.dialects.plena.base import READS_MACHINE_STATE, REGISTERS_ONLY, instruction
from xdsl.irdl import irdl_op_definition


@irdl_op_definition
class S_AddFpOp(instruction("S_ADD_FP", REGISTERS_ONLY)):
    """dst = fp(f[lhs] + f[rhs])"""


@irdl_op_definition
class S_SubFpOp(instruction("S_SUB_FP", REGISTERS_ONLY)):
    """dst = fp(f[lhs] - f[rhs])"""


@irdl_op_definition
class S_MaxFpOp(instruction("S_MAX_FP", REGISTERS_ONLY)):
    """dst = max(f[lhs], f[rhs])                   # NaN-ignoring"""


@irdl_op_definition
class S_MulFpOp(instruction("S_MUL_FP", REGISTERS_ONLY)):
    """dst = fp(f[lhs] * f[rhs])"""


@irdl_op_definition
class S_ExpFpOp(instruction("S_EXP_FP", REGISTERS_ONLY)):
    """dst = fp(exp(f[src]))                       # no clamp"""


@irdl_op_definition
class S_ReciFpOp(instruction("S_RECI_FP", REGISTERS_ONLY)):
    """dst = fp(1 / f[src])"""


@irdl_op_definition
class S_SqrtFpOp(instruction("S_SQRT_FP", REGISTERS_ONLY)):
    """dst = fp(sqrt(f[src]))                      # negative gives NaN"""


@irdl_op_definition
class S_LdFpOp(instruction("S_LD_FP", READS_MACHINE_STATE)):
    """dst = FPRAM[gp[base] + imm]"""


@irdl_op_definition
class S_StFpOp(instruction("S_ST_FP")):
    """FPRAM[gp[base] + imm] = f[src]"""


@irdl_op_definition
class S_MapVFpOp(instruction("S_MAP_V_FP")):
    """Copy V FPRAM entries into one VRAM row.

        for j < V: VROW(gp[vram])[j] = bf16(FPRAM[gp[fpram] + imm + j])
    """


@irdl_op_definition
class S_MapFpVOp(instruction("S_MAP_FP_V")):
    """Copy one VRAM row into V FPRAM entries.

        for j < V: FPRAM[gp[fpram] + imm + j] = fp(VROW(gp[vram])[j])
    """


SCALAR_FP_OPS = (
    S_AddFpOp,
    S_SubFpOp,
    S_MaxFpOp,
    S_MulFpOp,
    S_ExpFpOp,
    S_ReciFpOp,
    S_SqrtFpOp,
    S_LdFpOp,
    S_StFpOp,
    S_MapVFpOp,
    S_MapFpVOp,
)
