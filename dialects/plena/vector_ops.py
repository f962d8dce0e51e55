"""Vector instructions: V_*.

Each reads and writes whole VRAM rows; the GP register operands hold VRAM element addresses
(multiples of VLEN), so `dst` is read, not written.  Arithmetic is f32 on bf16 inputs, the
result row is rounded to bf16.  Masking (plena-isa-tvm.md A3.3): with rmask = 0 the whole row
is processed; with rmask = 1 head h (lanes h*H .. h*H+H-1) gets the result when bit h of
V_MASK is set and a copy of the `lhs`/`src` lanes otherwise.  f = f[scalar] is an FP register.
"""

from plena_mlir.dialects.plena.base import instruction
from xdsl.irdl import irdl_op_definition


@irdl_op_definition
class V_AddVvOp(instruction("V_ADD_VV")):
    """VROW(gp[dst]) = VROW(gp[lhs]) + VROW(gp[rhs])"""


@irdl_op_definition
class V_AddVfOp(instruction("V_ADD_VF")):
    """VROW(gp[dst]) = VROW(gp[src]) + f[scalar]"""


@irdl_op_definition
class V_SubVvOp(instruction("V_SUB_VV")):
    """VROW(gp[dst]) = VROW(gp[lhs]) - VROW(gp[rhs])"""


@irdl_op_definition
class V_SubVfOp(instruction("V_SUB_VF")):
    """VROW(gp[dst]) = reverse ? f[scalar] - VROW(gp[src]) : VROW(gp[src]) - f[scalar]"""


@irdl_op_definition
class V_MulVvOp(instruction("V_MUL_VV")):
    """VROW(gp[dst]) = VROW(gp[lhs]) * VROW(gp[rhs])"""


@irdl_op_definition
class V_MulVfOp(instruction("V_MUL_VF")):
    """VROW(gp[dst]) = VROW(gp[src]) * f[scalar]"""


@irdl_op_definition
class V_ExpVOp(instruction("V_EXP_V")):
    """VROW(gp[dst]) = exp(VROW(gp[src]))          # no clamp: overflow gives +inf"""


@irdl_op_definition
class V_ReciVOp(instruction("V_RECI_V")):
    """VROW(gp[dst]) = 1 / VROW(gp[src])           # 1/0 = inf"""


@irdl_op_definition
class V_RedSumOp(instruction("V_RED_SUM")):
    """Sum-reduce a row into an FP register, accumulating.

        acc_out = fp(acc + sum(VROW(gp[src])))     # masked: only the heads set in V_MASK
        (with acc = f0 the instruction does nothing)
    """


@irdl_op_definition
class V_RedMaxOp(instruction("V_RED_MAX")):
    """Max-reduce a row into an FP register, accumulating.

        acc_out = fp(max(acc, max(VROW(gp[src]))))  # masked: only the heads set in V_MASK
        (with acc = f0 the instruction does nothing)
    """


VECTOR_OPS = (
    V_AddVvOp,
    V_AddVfOp,
    V_SubVvOp,
    V_SubVfOp,
    V_MulVvOp,
    V_MulVfOp,
    V_ExpVOp,
    V_ReciVOp,
    V_RedSumOp,
    V_RedMaxOp,
)
