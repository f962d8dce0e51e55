"""`plena-expand-lanes`: pack the instances of a kernel's lane (head) axis into the lanes.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-expand-lanes'

What it does today:

- a `tile.kernel` without a lane axis is left unchanged;
- a kernel whose lane axis cannot be packed because every VRAM and MRAM buffer is at least
  MLEN columns wide (one head already fills whole rows; the reference compiler's
  `cluster_guard` rule) keeps the axis as an ordinary grid axis: the `lane` marker is
  dropped and every head runs as its own program instance, which is what the grid means;
- a kernel with a narrower buffer (e.g. rmsnorm with head_dim = 16: L = MLEN / HLEN heads
  must share each MLEN-wide row) is an error naming the kernel, the axis and the buffer:
  packing heads into lanes (col_pack / row_stack / fp_lane buffers, multi-lane and per-lane
  ops) is not implemented yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import AllocOp, KernelOp
from plena_mlir.passes.infer_memory import buffer_name
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.target import Target


def _narrow_buffer(kernel: KernelOp, target: Target) -> AllocOp | None:
    """The first VRAM/MRAM (rank-2) buffer of `kernel` narrower than MLEN columns."""
    for alloc in kernel.walk():
        if isinstance(alloc, AllocOp):
            shape = alloc.result.type.get_shape()
            if len(shape) == 2 and shape[1] < target.mlen:
                return alloc
    return None


@dataclass(frozen=True)
class ExpandLanesPass(ModulePass):
    """Identity without a lane axis; a lane axis of MLEN-wide heads becomes an ordinary grid
    axis; narrower heads are a diagnostic (module docstring)."""

    name = "plena-expand-lanes"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        for kernel in op.walk():
            if not isinstance(kernel, KernelOp) or kernel.lane is None:
                continue
            narrow = _narrow_buffer(kernel, target)
            if narrow is not None:
                raise DiagnosticException(
                    f"plena-expand-lanes: tile.kernel @{kernel.sym_name.data} has the lane axis "
                    f"%{kernel.lane} and the buffer {buffer_name(narrow)} is narrower than "
                    f"MLEN = {target.mlen} columns: packing {target.lanes} heads into the "
                    "lanes of a row (lane expansion) is not implemented yet"
                )
            del kernel.properties["lane_axis"]
