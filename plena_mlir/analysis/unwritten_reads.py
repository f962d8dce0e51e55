"""No read of a buffer nothing writes: every on-chip buffer a kernel reads is written by some
op of the kernel.

    check_buffers_written(module)   # DiagnosticException at the first such buffer

On-chip memory is not cleared between kernels, so a buffer read but never written holds
whatever an earlier kernel (or an earlier instance) left there; its golden is undefined (NaN
in the interpreter).  The check is by op, not by path: each `tile.alloc` that some tile op
reads (`READ`) must be written (`WRITTEN`) by at least one op, in any order, since a read at
the top of a loop body legitimately sees the previous trip's write (an accumulator):

    tile.alloc %acc (64x64xbf16, vram) of @k is read by tile.add #1 of @k, but no op writes it
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.tile import AllocOp, KernelOp, TileOp
from plena_mlir.ir.naming import buffer_name, describe_op


def check_buffers_written(module: ModuleOp) -> None:
    """Raise a DiagnosticException naming the first buffer of a kernel of `module` that is read
    but never written (module docstring)."""
    for kernel in module.walk():
        if isinstance(kernel, KernelOp):
            _check_kernel(kernel)


def _check_kernel(kernel: KernelOp) -> None:
    written: set[SSAValue] = set()
    first_reader: dict[SSAValue, Operation] = {}
    for op in kernel.walk():
        if not isinstance(op, TileOp):
            continue
        written.update(getattr(op, name) for name in op.WRITTEN)
        for name in op.READ:
            value = getattr(op, name)
            if isinstance(value, SSAValue) and isinstance(value.owner, AllocOp):
                first_reader.setdefault(value, op)
    for buffer, reader in first_reader.items():
        if buffer not in written:
            assert isinstance(buffer.owner, AllocOp)
            raise DiagnosticException(
                f"tile.alloc {buffer_name(buffer.owner)} is read by {describe_op(reader)}, but "
                "no op writes it: on-chip memory holds what an earlier kernel left there"
            )
