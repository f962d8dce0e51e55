"""The `plena` dialect: the PLENA instruction set, one op per instruction.

Naming: the op of instruction `S_ADDI_INT` is `plena.s_addi_int`, class `S_AddiIntOp` (the
instruction-class prefix, then the rest in CamelCase).  The ops are generated from the
target's opcode table (`plena_mlir.isa.opcodes`), see `base.py` for how table operands map to
SSA operands, results and properties.  Files by instruction class: `matrix_ops.py` (M_*),
`vector_ops.py` (V_*), `scalar_fp_ops.py` and `scalar_int_ops.py` (S_*), `hbm_ops.py` (H_*),
`control_ops.py` (C_SET_*, C_BREAK); `loop_ops.py` holds the structured hardware loop
`plena.loop` (C_LOOP_START / C_LOOP_END), `pseudo_ops.py` the ops that never encode
(`plena.get_register`, `plena.comment`).

Types: `!plena.gp`, `!plena.fp`, `!plena.areg` (registers.py); attribute `#plena.target<...>`
(attrs.py), read through `target_of(op)`.
"""

from plena_mlir.dialects.plena.attrs import TARGET_ATTR_NAME, TargetAttr, target_attr, target_of
from plena_mlir.dialects.plena.base import PlenaInstruction, Role
from plena_mlir.dialects.plena.control_ops import CONTROL_OPS
from plena_mlir.dialects.plena.hbm_ops import HBM_OPS
from plena_mlir.dialects.plena.loop_ops import LOOP_OPS, LoopOp, YieldOp
from plena_mlir.dialects.plena.matrix_ops import MATRIX_OPS
from plena_mlir.dialects.plena.pseudo_ops import PSEUDO_OPS, CommentOp, GetRegisterOp
from plena_mlir.dialects.plena.registers import (
    REGISTER_TYPE_OF_KIND,
    REGISTER_TYPES,
    AddrRegisterType,
    FpRegisterType,
    GpRegisterType,
    PlenaRegisterType,
    Registers,
)
from plena_mlir.dialects.plena.scalar_fp_ops import SCALAR_FP_OPS
from plena_mlir.dialects.plena.scalar_int_ops import SCALAR_INT_OPS
from plena_mlir.dialects.plena.vector_ops import VECTOR_OPS
from xdsl.ir import Dialect

#: One op class per instruction of the plena-tvm opcode table, except the loop pair.
INSTRUCTION_OPS: tuple[type[PlenaInstruction], ...] = (
    *MATRIX_OPS,
    *VECTOR_OPS,
    *SCALAR_FP_OPS,
    *SCALAR_INT_OPS,
    *HBM_OPS,
    *CONTROL_OPS,
)

#: mnemonic -> op class of that instruction.
OP_OF_MNEMONIC: dict[str, type[PlenaInstruction]] = {op.INFO.mnemonic: op for op in INSTRUCTION_OPS}

Plena = Dialect(
    "plena",
    [*INSTRUCTION_OPS, *LOOP_OPS, *PSEUDO_OPS],
    [GpRegisterType, FpRegisterType, AddrRegisterType, TargetAttr],
)

__all__ = [
    "INSTRUCTION_OPS",
    "OP_OF_MNEMONIC",
    "REGISTER_TYPE_OF_KIND",
    "REGISTER_TYPES",
    "TARGET_ATTR_NAME",
    "AddrRegisterType",
    "CommentOp",
    "FpRegisterType",
    "GetRegisterOp",
    "GpRegisterType",
    "LoopOp",
    "Plena",
    "PlenaInstruction",
    "PlenaRegisterType",
    "Registers",
    "Role",
    "TargetAttr",
    "target_attr",
    "YieldOp",
    "target_of",
]
