"""Which tensor arguments a kernel reads and which it writes.

    reads, writes = tensor_access(kernel)        # argument names

A tensor argument is read when it is the source of a `tile.copy` (or `lane.copy`) and
written when it is the destination of one: the only ops that touch HBM.  An argument can be
both (a kernel updating a tensor in place) or neither (an unused argument).
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects import lane
from plena_mlir.dialects.tile import CopyOp, KernelOp, TensorType


@dataclass(frozen=True)
class TensorAccess:
    """The names of the tensor arguments a kernel reads and writes."""

    reads: frozenset[str]
    writes: frozenset[str]


def tensor_access(kernel: KernelOp) -> TensorAccess:
    """What `kernel` reads and writes of its tensor arguments (module docstring)."""
    names = {
        arg: name.data
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    }
    reads: set[str] = set()
    writes: set[str] = set()
    for op in kernel.walk():
        if isinstance(op, CopyOp | lane.CopyOp):
            if op.src in names:
                reads.add(names[op.src])
            if op.dst in names:
                writes.add(names[op.dst])
    return TensorAccess(frozenset(reads), frozenset(writes))
