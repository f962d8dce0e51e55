"""Scalar integer instructions: S_*_INT.

GP registers are u32; all arithmetic wraps mod 2^32 and shifts are logical.  INTRAM holds u32
words.
"""

from plena_mlir.dialects.plena.base import READS_MACHINE_STATE, REGISTERS_ONLY, instruction
from xdsl.irdl import irdl_op_definition


@irdl_op_definition
class S_AddIntOp(instruction("S_ADD_INT", REGISTERS_ONLY)):
    """dst = gp[lhs] + gp[rhs]"""


@irdl_op_definition
class S_AddiIntOp(instruction("S_ADDI_INT", REGISTERS_ONLY)):
    """dst = gp[src] + imm                         # imm: 16-bit unsigned"""


@irdl_op_definition
class S_SubIntOp(instruction("S_SUB_INT", REGISTERS_ONLY)):
    """dst = gp[lhs] - gp[rhs]"""


@irdl_op_definition
class S_MulIntOp(instruction("S_MUL_INT", REGISTERS_ONLY)):
    """dst = gp[lhs] * gp[rhs]                     # low 32 bits"""


@irdl_op_definition
class S_LuiIntOp(instruction("S_LUI_INT", REGISTERS_ONLY)):
    """dst = imm << 12                             # overwrites; imm < 2^20"""


@irdl_op_definition
class S_LdIntOp(instruction("S_LD_INT", READS_MACHINE_STATE)):
    """dst = INTRAM[gp[base] + imm]"""


@irdl_op_definition
class S_StIntOp(instruction("S_ST_INT")):
    """INTRAM[gp[base] + imm] = gp[src]"""


@irdl_op_definition
class S_SllIntOp(instruction("S_SLL_INT", REGISTERS_ONLY)):
    """dst = gp[lhs] << (gp[rhs] & 31)"""


@irdl_op_definition
class S_SlliIntOp(instruction("S_SLLI_INT", REGISTERS_ONLY)):
    """dst = gp[src] << (imm & 31)"""


@irdl_op_definition
class S_SrlIntOp(instruction("S_SRL_INT", REGISTERS_ONLY)):
    """dst = gp[lhs] >> (gp[rhs] & 31)             # logical"""


@irdl_op_definition
class S_SrliIntOp(instruction("S_SRLI_INT", REGISTERS_ONLY)):
    """dst = gp[src] >> (imm & 31)                 # logical"""


@irdl_op_definition
class S_DivIntOp(instruction("S_DIV_INT", REGISTERS_ONLY)):
    """dst = gp[rhs] == 0 ? 0 : gp[lhs] / gp[rhs]  # unsigned, rounds down"""


@irdl_op_definition
class S_RemIntOp(instruction("S_REM_INT", REGISTERS_ONLY)):
    """dst = gp[rhs] == 0 ? gp[lhs] : gp[lhs] % gp[rhs]"""


SCALAR_INT_OPS = (
    S_AddIntOp,
    S_AddiIntOp,
    S_SubIntOp,
    S_MulIntOp,
    S_LuiIntOp,
    S_LdIntOp,
    S_StIntOp,
    S_SllIntOp,
    S_SlliIntOp,
    S_SrlIntOp,
    S_SrliIntOp,
    S_DivIntOp,
    S_RemIntOp,
)
