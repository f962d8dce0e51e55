"""The `tile` dialect: what a kernel author writes.

A kernel (`tile.kernel`, kernel_ops.py) with a launch grid takes HBM tensors
(`!tile.tensor`) and f32 scalars; its body allocates on-chip buffers (`!tile.buffer` with a
memory space, types.py) and works on them with destination-passing ops: data movement
(memory_ops.py), the matrix product (matrix_ops.py), whole-tile vector ops and row reductions
(vector_ops.py) and scalar FP ops on FPRAM (scalar_ops.py); loops are upstream `scf.for` with
`arith` index math.  A chain (`tile.chain`, chain_ops.py) calls several kernels of a module in
order on shared HBM tensors.  docs/dialects/tile.md describes every op; the NumPy interpreter is
`plena_mlir.interp`.
"""

from plena_mlir.dialects.tile.base import BufferEffects, OperandListSyntax, TileOp
from plena_mlir.dialects.tile.chain_ops import CHAIN_OPS, CallOp, ChainOp, HbmTensorOp, ViewOp
from plena_mlir.dialects.tile.kernel_ops import KernelOp
from plena_mlir.dialects.tile.layout_attrs import LAYOUT_ATTRS
from plena_mlir.dialects.tile.matrix_ops import GemmOp
from plena_mlir.dialects.tile.memory_ops import AllocOp, CopyOp, FillOp
from plena_mlir.dialects.tile.scalar_ops import (
    SCALAR_OPS,
    FpAddOp,
    FpBinaryOp,
    FpExpOp,
    FpMaxOp,
    FpMulOp,
    FpOp,
    FpReciOp,
    FpSqrtOp,
    FpSubOp,
    FpUnaryOp,
)
from plena_mlir.dialects.tile.spaces import resolved_space
from plena_mlir.dialects.tile.types import BufferType, MemorySpace, TensorType
from plena_mlir.dialects.tile.vector_ops import (
    VECTOR_OPS,
    AddOp,
    AddScalarOp,
    BinaryOp,
    ExpOp,
    MulOp,
    MulScalarOp,
    ReciOp,
    ReduceMaxOp,
    ReduceOp,
    ReduceSumOp,
    RsubScalarOp,
    ScalarOp,
    SubOp,
    SubScalarOp,
    UnaryOp,
)
from xdsl.ir import Dialect

TILE_OPS = (KernelOp, AllocOp, CopyOp, FillOp, GemmOp, *VECTOR_OPS, *SCALAR_OPS)

Tile = Dialect("tile", [*TILE_OPS, *CHAIN_OPS], [TensorType, BufferType, *LAYOUT_ATTRS])

__all__ = [
    "CHAIN_OPS",
    "TILE_OPS",
    "AddOp",
    "AddScalarOp",
    "AllocOp",
    "BinaryOp",
    "BufferEffects",
    "BufferType",
    "CallOp",
    "ChainOp",
    "CopyOp",
    "ExpOp",
    "FillOp",
    "FpAddOp",
    "FpBinaryOp",
    "FpExpOp",
    "FpMaxOp",
    "FpMulOp",
    "FpOp",
    "FpReciOp",
    "FpSqrtOp",
    "FpSubOp",
    "FpUnaryOp",
    "GemmOp",
    "HbmTensorOp",
    "KernelOp",
    "MemorySpace",
    "MulOp",
    "MulScalarOp",
    "OperandListSyntax",
    "ReciOp",
    "ReduceMaxOp",
    "ReduceOp",
    "ReduceSumOp",
    "RsubScalarOp",
    "ScalarOp",
    "SubOp",
    "SubScalarOp",
    "Tile",
    "TensorType",
    "TileOp",
    "UnaryOp",
    "ViewOp",
    "resolved_space",
]
