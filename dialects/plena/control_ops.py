"""Control instructions: machine-state register writes and C_BREAK.

The hardware loop (C_LOOP_START / C_LOOP_END) is the structured `plena.loop` (loop_ops.py).
"""

from plena_mlir.dialects.plena.base import REGISTERS_ONLY, WRITES_MACHINE_STATE, instruction
from xdsl.irdl import irdl_op_definition


@irdl_op_definition
class C_SetAddrRegOp(instruction("C_SET_ADDR_REG", REGISTERS_ONLY)):
    """dst = gp[high] << 32 | gp[low]               # a 64-bit HBM base address"""


@irdl_op_definition
class C_SetScaleRegOp(instruction("C_SET_SCALE_REG", WRITES_MACHINE_STATE)):
    """SCALE = gp[src]                              # HBM offset of the MX scale bytes"""


@irdl_op_definition
class C_SetStrideRegOp(instruction("C_SET_STRIDE_REG", WRITES_MACHINE_STATE)):
    """STRIDE = gp[src]                             # HBM row stride when rstride = 1"""


@irdl_op_definition
class C_SetVMaskRegOp(instruction("C_SET_V_MASK_REG", WRITES_MACHINE_STATE)):
    """V_MASK = gp[src]                             # head mask of masked vector ops"""


@irdl_op_definition
class C_BreakOp(instruction("C_BREAK")):
    """Pop the innermost hardware-loop frame and continue at the next instruction.

        frame = loops.pop(); gp[frame.counter] = 0  # aborts when no loop is open
    """


CONTROL_OPS = (C_SetAddrRegOp, C_SetScaleRegOp, C_SetStrideRegOp, C_SetVMaskRegOp, C_BreakOp)
