"""`plena-assign-layout`: record the layout of every HBM tensor and on-chip buffer.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-assign-layout'

For every `tile.kernel` of the module, every `tile.alloc` and `lane.alloc` (its physical
buffer, the lane layout being part of its type) gets `{layout = ...}` and the kernel
gets `hbm_layouts = {x = ..., y = ...}` (one entry per HBM tensor argument); the attributes
are dialects/tile/layout_attrs.py's, the decision `plena_mlir.analysis.layout_choice`'s:

    %s = tile.alloc {layout = #tile.tiled<blocks = 3, rows = 64, width = 64>}
           : !tile.buffer<64x192xbf16, vram>
    tile.kernel @rmsnorm ... attributes {hbm_layouts = {
        x = #tile.bshd<heads = 4, head_dim = 64>, w = #tile.row_major, ...}}

Later passes read the layouts through `assigned_buffer_layout`.  A layout already in the IR
(pinned by the author, or from an earlier run) is kept when it is the one needed, and is an
error naming both layouts otherwise; so are the other conflicts the decision finds (a tensor
sliced per head at two widths, ...), a buffer whose memory space is still `?` (run
plena-infer-memory first) and an MRAM buffer that is not whole tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects import lane
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import AllocOp, KernelOp, MemorySpace
from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.layout_choice import (
    BUFFER_LAYOUT_ATTR,
    HBM_LAYOUTS_ATTR,
    buffer_layout_attr,
    tensor_layouts,
)
from plena_mlir.ir.naming import describe_alloc
from plena_mlir.target import Target


def _assign_buffers(kernel: KernelOp, target: Target) -> None:
    for alloc in kernel.walk():
        if not isinstance(alloc, AllocOp | lane.AllocOp):
            continue
        if alloc.result.type.space is MemorySpace.INFERRED:
            raise DiagnosticException(
                f"{describe_alloc(alloc)}: the memory space is not known: run "
                "plena-infer-memory first"
            )
        needed = buffer_layout_attr(alloc, target)
        pinned = alloc.attributes.get(BUFFER_LAYOUT_ATTR)
        if pinned is not None and pinned != needed:
            raise DiagnosticException(
                f"{describe_alloc(alloc)} needs two layouts: {pinned} (recorded in the "
                f"IR) and {needed} (the layout of its memory space on {target.name})"
            )
        alloc.attributes[BUFFER_LAYOUT_ATTR] = needed


def _assign_tensors(kernel: KernelOp) -> None:
    layouts = tensor_layouts(kernel)
    pinned = kernel.attributes.get(HBM_LAYOUTS_ATTR)
    if pinned is not None:
        if not isinstance(pinned, DictionaryAttr):
            raise DiagnosticException(
                f"tile.kernel @{kernel.sym_name.data}: {HBM_LAYOUTS_ATTR} must be a dictionary "
                f"from tensor argument names to layouts, got {pinned}"
            )
        for name, layout in pinned.data.items():
            if name not in layouts:
                raise DiagnosticException(
                    f"tile.kernel @{kernel.sym_name.data}: {HBM_LAYOUTS_ATTR} names '{name}', "
                    "which is not a tensor argument"
                )
            if layout != layouts[name]:
                raise DiagnosticException(
                    f"tensor %{name} of @{kernel.sym_name.data} needs two layouts: {layout} "
                    f"(recorded in the IR) and {layouts[name]} (what its uses need)"
                )
    kernel.attributes[HBM_LAYOUTS_ATTR] = DictionaryAttr(dict(layouts))


@dataclass(frozen=True)
class AssignLayoutPass(ModulePass):
    """Record the layout of every buffer and HBM tensor of each kernel (module docstring)."""

    name = "plena-assign-layout"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        for kernel in op.walk():
            if isinstance(kernel, KernelOp):
                _assign_buffers(kernel, target)
                _assign_tensors(kernel)
