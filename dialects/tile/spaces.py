"""What a `?` memory space stands for: the rule `plena-infer-memory` applies.

A rank-1 buffer is FPRAM (row state); a rank-2 buffer is MRAM when it is the B operand of a
`tile.gemm` and VRAM otherwise.  (A buffer needed both as a gemm B operand and elsewhere needs
two copies, since MRAM is only written from HBM; the pass reports that conflict.)
"""

from plena_mlir.dialects.tile.matrix_ops import GemmOp
from plena_mlir.dialects.tile.types import BufferType, MemorySpace
from xdsl.ir import SSAValue


def resolved_space(buffer: SSAValue) -> MemorySpace:
    """The memory space of `buffer`: its declared space, or the one `?` resolves to."""
    typ = buffer.type
    assert isinstance(typ, BufferType)
    if typ.space is not MemorySpace.INFERRED:
        return typ.space
    if typ.rank == 1:
        return MemorySpace.FPRAM
    if any(isinstance(use.operation, GemmOp) and use.operation.b is buffer for use in buffer.uses):
        return MemorySpace.MRAM
    return MemorySpace.VRAM
