"""The `lane` dialect: lanes made explicit.

PLENA packs L = MLEN/HLEN heads side by side in one MLEN-wide row; after lane expansion every
on-chip buffer is a `!lane.buffer` holding L program instances in one of four layouts
(col_pack, row_stack, fp_lane, flat; layouts.py, types.py), and every op is either multi-lane
(one instruction for all lanes) or per-lane (inside `lane.for_lanes`, naming its lane), a
trait of the op (traits.py).  HBM tensors are `!tile.tensor`.  docs/dialects/lane.md
describes every op.
"""

from plena_mlir.dialects.lane.base import LaneEffects, LaneOp, OperandListSyntax, PerLaneOp
from plena_mlir.dialects.lane.layouts import LaneLayout, physical_index, physical_shape
from plena_mlir.dialects.lane.loop_ops import ForLanesOp
from plena_mlir.dialects.lane.matrix_ops import GEMM_INSTRUCTIONS, BtmmOp, BtmvOp, GemmOp
from plena_mlir.dialects.lane.memory_ops import AllocOp, CopyOp, FillOp
from plena_mlir.dialects.lane.row_ops import (
    ROW_OPS,
    RowAddOp,
    RowMaxOp,
    RowMulOp,
    RowRsubOp,
    RowSubOp,
    RowSumOp,
)
from plena_mlir.dialects.lane.scalar_ops import (
    SCALAR_OPS,
    FpAddOp,
    FpExpOp,
    FpMaxOp,
    FpMulOp,
    FpReciOp,
    FpSqrtOp,
    FpSubOp,
)
from plena_mlir.dialects.lane.traits import LaneLoop, MultiLane, PerLane, enclosing_lane_loop
from plena_mlir.dialects.lane.types import LaneBufferType
from plena_mlir.dialects.lane.vector_ops import (
    VECTOR_OPS,
    AddOp,
    AddScalarOp,
    ExpOp,
    MulOp,
    MulScalarOp,
    ReciOp,
    RsubScalarOp,
    SubOp,
    SubScalarOp,
)
from xdsl.ir import Dialect

LANE_OPS = (
    AllocOp,
    CopyOp,
    FillOp,
    BtmmOp,
    BtmvOp,
    GemmOp,
    *VECTOR_OPS,
    ForLanesOp,
    *ROW_OPS,
    *SCALAR_OPS,
)

Lane = Dialect("lane", list(LANE_OPS), [LaneBufferType])

__all__ = [
    "GEMM_INSTRUCTIONS",
    "LANE_OPS",
    "AddOp",
    "AddScalarOp",
    "AllocOp",
    "BtmmOp",
    "BtmvOp",
    "CopyOp",
    "ExpOp",
    "FillOp",
    "ForLanesOp",
    "FpAddOp",
    "FpExpOp",
    "FpMaxOp",
    "FpMulOp",
    "FpReciOp",
    "FpSqrtOp",
    "FpSubOp",
    "GemmOp",
    "Lane",
    "LaneBufferType",
    "LaneEffects",
    "LaneLayout",
    "LaneLoop",
    "LaneOp",
    "MulOp",
    "MulScalarOp",
    "MultiLane",
    "OperandListSyntax",
    "PerLane",
    "PerLaneOp",
    "ReciOp",
    "RowAddOp",
    "RowMaxOp",
    "RowMulOp",
    "RowRsubOp",
    "RowSubOp",
    "RowSumOp",
    "RsubScalarOp",
    "SubOp",
    "SubScalarOp",
    "enclosing_lane_loop",
    "physical_index",
    "physical_shape",
]
