"""`plena-infer-memory`: check every access is in bounds, then give every buffer whose memory
space is `?` its space.

    plena-opt kernel.mlir -p plena-infer-memory

As the pipeline's first pass, it runs two checks of the kernel as written (the second after
the spaces are resolved):
`check_access_bounds` (plena_mlir/analysis/access_bounds.py): every tile.copy region and FPRAM
element index, over all grid points and loop trips, must lie inside its tensor or buffer,
since the machine checks no address; and `check_buffers_written`
(plena_mlir/analysis/unwritten_reads.py): every buffer some op reads is written by some op,
since on-chip memory holds what an earlier kernel left there.

Each `tile.alloc : !tile.buffer<..., ?>` gets the space `resolved_space` gives (a rank-1
buffer is FPRAM; a rank-2 buffer is MRAM when it is the B operand of a `tile.gemm`, VRAM
otherwise), and its uses see the new type.  Buffers with a declared space are left alone.

A rank-2 buffer that is a gemm B operand (MRAM) and is also used where only VRAM will do
(anything but the gemm B operand and a copy from HBM into it) would need two spaces: MRAM is
written only from HBM.  That is an error naming the buffer and both uses; the author
allocates two buffers and loads the data twice.
"""

from dataclasses import dataclass

from plena_mlir.dialects.tile import (
    AllocOp,
    CopyOp,
    GemmOp,
    MemorySpace,
    resolved_space,
)
from plena_mlir.dialects.tile.types import BufferType, TensorType
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, Use
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.access_bounds import check_access_bounds
from plena_mlir.analysis.unwritten_reads import check_buffers_written
from plena_mlir.ir.naming import buffer_name

#: Operand index of B in `tile.gemm` (c, a, b).
_GEMM_B = 2


def _is_mram_use(use: Use) -> bool:
    """Whether `use` is one an MRAM buffer may have: a gemm B operand, or the destination of
    a copy from HBM (H_PREFETCH_M)."""
    op = use.operation
    if isinstance(op, GemmOp):
        return use.index == _GEMM_B
    buffer = op.operands[use.index]
    return isinstance(op, CopyOp) and op.dst is buffer and isinstance(op.src.type, TensorType)


def _describe_use(use: Use) -> str:
    op = use.operation
    if isinstance(op, GemmOp):
        role = ("c", "a", "b")[use.index]
        return f"operand {role} of {op.name}"
    if isinstance(op, CopyOp):
        return f"{'dst' if use.index > 0 else 'src'} of {op.name}"
    return f"an operand of {op.name}"


def _check_single_space(alloc: AllocOp) -> None:
    buffer = alloc.result
    uses = sorted(buffer.uses, key=lambda u: (_position(u.operation), u.index))
    gemm_b = next(u for u in uses if isinstance(u.operation, GemmOp) and u.index == _GEMM_B)
    other = next((u for u in uses if not _is_mram_use(u)), None)
    if other is not None:
        raise DiagnosticException(
            f"tile.alloc {buffer_name(alloc)}: the buffer is {_describe_use(gemm_b)} (needs "
            f"mram) and {_describe_use(other)} (needs vram); MRAM is written only from HBM, "
            "so allocate two buffers and copy the data from HBM into each"
        )


def _position(op: Operation) -> tuple[int, ...]:
    """The op's path from the module (indices in each block), for a stable use order."""
    path: list[int] = []
    current: Operation | None = op
    while current is not None and (block := current.parent_block()) is not None:
        path.append(block.get_operation_index(current))
        current = current.parent_op()
    return tuple(reversed(path))


@dataclass(frozen=True)
class InferMemoryPass(ModulePass):
    """Check access bounds, then resolve every `?` memory space of a `tile.alloc` (module
    docstring)."""

    name = "plena-infer-memory"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        check_access_bounds(op)
        allocs = [a for a in op.walk() if isinstance(a, AllocOp)]
        for alloc in allocs:
            typ = alloc.result.type
            assert isinstance(typ, BufferType)
            if typ.space is not MemorySpace.INFERRED:
                continue
            space = resolved_space(alloc.result)
            if space is MemorySpace.MRAM:
                _check_single_space(alloc)
            name = alloc.result.name_hint
            new_value = Rewriter.replace_value_with_new_type(alloc.result, typ.with_space(space))
            new_value.name_hint = name
        check_buffers_written(op)
