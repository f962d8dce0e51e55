"""How lane expansion's diagnostics name an op: `tile.copy #2 of @attention`, the second
`tile.copy` of the kernel in program order (the numbering `plena-assign-layout` uses)."""

from __future__ import annotations

from xdsl.ir import Operation

from plena_mlir.dialects.tile import KernelOp


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
