"""`plena-expand-lanes`: pack the instances of a kernel's lane (head) axis into the lanes.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-expand-lanes'

What it does:

- a `tile.kernel` without a lane axis is left unchanged;
- a kernel whose lane axis cannot be packed because every VRAM and MRAM buffer is at least
  MLEN columns wide (one head already fills whole rows; the reference compiler's
  `cluster_guard` rule) keeps the axis as an ordinary grid axis: the `lane` marker is
  dropped and every head runs as its own program instance, which is what the grid means;
- a kernel with a narrower buffer (heads of HLEN = 16 columns: L = MLEN / HLEN heads share
  each MLEN-wide row) is rewritten into lane IR by `plena_mlir.lanes.expansion.expand_kernel`:
  the axis counts groups of L heads, every buffer gets its lane layout, every tile op its
  lane op, consecutive per-lane ops one `lane.for_lanes` loop; what cannot be packed is an
  error naming the kernel, the op and the buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from plena_mlir.lanes.expansion import expand_kernel, narrow_buffer


@dataclass(frozen=True)
class ExpandLanesPass(ModulePass):
    """Identity without a lane axis; a lane axis of MLEN-wide heads becomes an ordinary grid
    axis; narrower heads are packed into lanes (module docstring)."""

    name = "plena-expand-lanes"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        for kernel in list(op.walk()):
            if not isinstance(kernel, KernelOp) or kernel.lane is None:
                continue
            if narrow_buffer(kernel, target) is not None:
                expand_kernel(kernel, target)
            else:
                del kernel.properties["lane_axis"]
