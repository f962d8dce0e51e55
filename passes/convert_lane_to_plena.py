"""`convert-lane-to-plena`: a memory-allocated `tile.kernel` -> the `plena` program.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-allocate-memory,convert-lane-to-plena'

Input: a module with one `tile.kernel` without a lane axis (its body tile IR, or lane IR
after plena-expand-lanes), after plena-allocate-memory (addresses on every `tile.alloc` and
`lane.alloc`, `hbm_addresses` and `fpram_arguments` on the kernel, the constant pool on the
module).  Output: the module's body is the program: `plena` ops on
unallocated registers (`!plena.gp`, `!plena.fp`, `!plena.areg`), gp0 and f0 read through
`plena.get_register`, every integer constant a `plena.li`, loops as `plena.loop`.  The
kernel's interface stays on the module for the host:

    plena.kernel = {name = "softmax", hbm_addresses = {x = 0, y = 4608},
                    fpram_arguments = {eps = 32}}

and the constant pool (`plena.fpram_pool`) gains the seeds the reductions need (-inf, 0.0).
How each op lowers: `plena_mlir/lowering/` (kernel.py; tile ops: tile/dma.py,
tile/onchip_copy.py, tile/vector.py, tile/scalar.py, tile/gemm.py; lane ops: lane/copy.py,
lane/vector.py, lane/scalar.py, lane/matrix.py, which run the tile lowerings on physical
buffers).  `lane.for_lanes` is
unrolled: a per-lane op is lowered once per lane with the lane a static int, so its
V_MASK (1 << l, C_SET_V_MASK_REG before the masked instructions) and its lane address
offsets are constants; an FPRAM op or a row op whose buffers are all fp_lane or row_stack
(each lane one contiguous run, the L runs back to back) is lowered once for every lane
instead (`lane/operands.py`, `every_lane_at_once`).  A kernel
that still has a lane axis is an error ("run plena-expand-lanes first").
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects import lane
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import CopyOp, GemmOp, KernelOp
from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp, StringAttr
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.lowering.emitter import Emitter
from plena_mlir.lowering.kernel import KernelLowering
from plena_mlir.lowering.lane.copy import lower_lane_copy
from plena_mlir.lowering.lane.matrix import lower_lane_matrix
from plena_mlir.lowering.lane.operands import every_lane_at_once
from plena_mlir.lowering.lane.scalar import LANE_SCALAR_OPS, lower_lane_scalar
from plena_mlir.lowering.lane.vector import LANE_VECTOR_OPS, lower_lane_vector
from plena_mlir.lowering.tile.dma import lower_copy
from plena_mlir.lowering.tile.gemm import lower_gemm
from plena_mlir.lowering.tile.scalar import SCALAR_OPS, lower_scalar
from plena_mlir.lowering.tile.vector import VECTOR_OPS, lower_vector
from plena_mlir.memory.fpram_pool import FpramPool

#: Module attribute holding the compiled kernel's interface (module docstring).
KERNEL_ATTR_NAME = "plena.kernel"


def lower_kernel_op(lowering: KernelLowering, op: Operation) -> None:
    """Lower one op of the kernel body that is not index arithmetic or a loop; a per-lane op
    for the lane of the enclosing (unrolled) lane.for_lanes, `lowering.lane`."""
    if isinstance(op, CopyOp):
        lower_copy(lowering, op)
    elif isinstance(op, VECTOR_OPS):
        lower_vector(lowering, op)
    elif isinstance(op, SCALAR_OPS):
        lower_scalar(lowering, op)
    elif isinstance(op, GemmOp):
        lower_gemm(lowering, op)
    elif isinstance(op, lane.CopyOp):
        lower_lane_copy(lowering, op)
    elif isinstance(op, LANE_VECTOR_OPS):
        lower_lane_vector(lowering, op, lowering.lane)
    elif isinstance(op, LANE_SCALAR_OPS):
        lower_lane_scalar(lowering, op, lowering.lane)
    elif isinstance(op, lane.BtmmOp | lane.BtmvOp | lane.GemmOp):
        lower_lane_matrix(lowering, op, lowering.lane)
    else:
        raise DiagnosticException(
            f"convert-lane-to-plena: {op.name} is not supported in a tile.kernel body"
        )


@dataclass(frozen=True)
class ConvertLaneToPlenaPass(ModulePass):
    """Lower the module's tile.kernel to a plena program (module docstring)."""

    name = "convert-lane-to-plena"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        kernels = [k for k in op.body.block.ops if isinstance(k, KernelOp)]
        if len(kernels) != 1 or len(op.body.block.ops) != 1:
            raise DiagnosticException(
                "convert-lane-to-plena: the module must hold exactly one tile.kernel (the "
                f"program), got {len(kernels)} kernels among {len(op.body.block.ops)} ops"
            )
        kernel = kernels[0]
        if kernel.lane is not None:
            raise DiagnosticException(
                f"convert-lane-to-plena: tile.kernel @{kernel.sym_name.data} has the lane axis "
                f"%{kernel.lane}: run plena-expand-lanes first"
            )
        pool = FpramPool.of(op)
        if pool is None:
            raise DiagnosticException(
                "convert-lane-to-plena: the module has no FPRAM constant pool: run "
                "plena-allocate-memory first"
            )
        program = Block()
        lowering = KernelLowering(kernel, target_of(op), pool, Emitter(program))
        lowering.lower(lower_kernel_op, every_lane_at_once)
        op.attributes[KERNEL_ATTR_NAME] = DictionaryAttr(
            {
                "name": StringAttr(kernel.sym_name.data),
                "hbm_addresses": kernel.attributes["hbm_addresses"],
                "fpram_arguments": kernel.attributes["fpram_arguments"],
            }
        )
        pool.attach(op)
        kernel.detach()
        kernel.erase()
        for program_op in list(program.ops):
            program_op.detach()
            op.body.block.add_op(program_op)
