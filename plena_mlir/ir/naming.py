"""How diagnostics name ops, buffers and gemms: the one place for every pass.

- `describe_op`: `tile.copy #2 of @attention`, the second `tile.copy` of the kernel in
  program order (the numbering `plena-assign-layout` uses);
- `buffer_name` / `describe_alloc`: `tile.alloc %t (64x16xbf16, vram)`, or without a name
  hint its place, `#3 of @softmax`; `lane.alloc %q (!lane.buffer<...>)`;
- `describe_gemm` / `describe_lane_gemm`: the product and the operand types.
"""

from __future__ import annotations

from xdsl.ir import Operation

from plena_mlir.dialects import lane
from plena_mlir.dialects.tile import AllocOp, BufferType, GemmOp, KernelOp
from plena_mlir.dialects.tile.types import format_shape


def enclosing_kernel(op: Operation) -> KernelOp | None:
    current = op.parent_op()
    while current is not None and not isinstance(current, KernelOp):
        current = current.parent_op()
    return current


def describe_op(op: Operation) -> str:
    """`<op name> #<n> of @<kernel>`: the n-th op of that name in the kernel."""
    kernel = enclosing_kernel(op)
    if kernel is None:
        return op.name
    same = [other for other in kernel.walk() if other.name == op.name]
    return f"{op.name} #{same.index(op) + 1} of @{kernel.sym_name.data}"


def buffer_name(alloc: AllocOp) -> str:
    """How diagnostics name the buffer an alloc makes: `%name` (its SSA name hint) or, without
    one, its place (`#3 of @softmax`, the third tile.alloc of the kernel), with its type."""
    typ = alloc.result.type
    assert isinstance(typ, BufferType)
    name = f"%{alloc.result.name_hint}" if alloc.result.name_hint else _place(alloc)
    return f"{name} ({format_shape(typ.get_shape())}x{typ.element_type}, {typ.space})"


def _place(alloc: AllocOp) -> str:
    kernel = enclosing_kernel(alloc)
    if kernel is None:
        return "(unnamed)"
    allocs = [op for op in kernel.walk() if isinstance(op, AllocOp)]
    return f"#{allocs.index(alloc) + 1} of @{kernel.sym_name.data}"


def describe_alloc(alloc: AllocOp | lane.AllocOp) -> str:
    """`tile.alloc %t (64x16xbf16, vram)` or `lane.alloc %q (!lane.buffer<...>)`."""
    if isinstance(alloc, AllocOp):
        return f"tile.alloc {buffer_name(alloc)}"
    name = f"%{alloc.result.name_hint}" if alloc.result.name_hint else "(unnamed)"
    return f"lane.alloc {name} ({alloc.result.type})"


def describe_gemm(op: GemmOp) -> str:
    """How diagnostics name a gemm: its product and operand types."""
    types = ", ".join(
        f"{format_shape(v.type.get_shape())}x{v.type.element_type} {v.type.space}"
        for v in (op.c, op.a, op.b)
    )
    return f"tile.gemm ({op.einsum}; c, a, b: {types})"


def describe_lane_gemm(op: lane.GemmOp) -> str:
    """How diagnostics name a lane.gemm: its product and operand types."""
    return f"lane.gemm ({op.einsum}; c, a, b: {op.c.type}, {op.a.type}, {op.b.type})"
