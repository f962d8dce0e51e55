"""FPRAM scalar ops and fills.

    tile.fp_<op> dst, sources     for each entry i of dst (a hardware loop; one iteration for
                                  a one-element dst):
                                      S_LD_FP each whole-buffer source [i]
                                      S_<OP>_FP
                                      S_ST_FP dst[i]
                                  sources that are one element or an f32 value are loaded
                                  once, before the loop (so they are read before any write)
    tile.fill dst (fpram), v      S_LD_FP v, then S_ST_FP per entry
    tile.fill dst (vram), v       `onchip_copy.fill_vram`

`fp_entries`, `fill_fpram` work on FPRAM operands and `Buffer`s, shared with the lane ops.

Entry loops run up to MAX_UNROLL entries per hardware iteration, each copy addressing its
entry with the S_LD_FP / S_ST_FP immediate.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import Operation

from plena_mlir.dialects.plena.scalar_fp_ops import (
    S_AddFpOp,
    S_ExpFpOp,
    S_MaxFpOp,
    S_MulFpOp,
    S_ReciFpOp,
    S_SqrtFpOp,
    S_SubFpOp,
)
from plena_mlir.dialects.tile import (
    FillOp,
    FpAddOp,
    FpExpOp,
    FpMaxOp,
    FpMulOp,
    FpReciOp,
    FpSqrtOp,
    FpSubOp,
    MemorySpace,
)
from plena_mlir.lowering.kernel import Buffer, KernelLowering, buffer_type
from plena_mlir.lowering.tile.onchip_copy import fill_vram
from plena_mlir.lowering.tile.vector import FpOperand, fp_source

#: The instruction of each tile FPRAM op (a lane op names its tile op: `TILE_OP`).
FP_INSTRUCTIONS = {
    FpAddOp: S_AddFpOp,
    FpSubOp: S_SubFpOp,
    FpMulOp: S_MulFpOp,
    FpMaxOp: S_MaxFpOp,
    FpExpOp: S_ExpFpOp,
    FpReciOp: S_ReciFpOp,
    FpSqrtOp: S_SqrtFpOp,
}

SCALAR_OPS = (*FP_INSTRUCTIONS, FillOp)


def lower_scalar(lowering: KernelLowering, op) -> None:
    if isinstance(op, FillOp):
        value = lowering.fp_entry(op.value)
        if buffer_type(op.dst).space is MemorySpace.VRAM:
            fill_vram(lowering, lowering.buffer(op.dst), value)
        else:
            fill_fpram(lowering, lowering.buffer(op.dst), value)
        return
    entries = 1 if op.dst_index is not None else buffer_type(op.dst).get_shape()[0]
    fp_entries(
        lowering,
        FP_INSTRUCTIONS[type(op)],
        entries,
        fp_source(lowering, op.dst, op.dst_index, True),
        [
            fp_source(lowering, getattr(op, role), getattr(op, f"{role}_index"), True)
            for role in op.READ
        ],
    )


def fp_entries(
    lowering: KernelLowering,
    make: Callable[..., Operation],
    entries: int,
    dst: FpOperand,
    sources: list[FpOperand],
) -> None:
    """FPRAM[dst + i*step] = make(FPRAM[source + i*step] ...) for i < entries (module
    docstring): sources of step 0 loaded once, before the loop."""
    emitter = lowering.emitter
    dst_address, dst_step = dst
    fixed = {k: emitter.load_fp(address) for k, (address, step) in enumerate(sources) if not step}
    moving = [k for k, (_, step) in enumerate(sources) if step]

    def entry(addresses: list, offset: int) -> None:
        values = dict(fixed)
        for k, address in zip(moving, addresses[1:], strict=True):
            values[k] = emitter.load_fp(address, offset)
        result = emitter.value(make(*(values[k] for k in range(len(sources)))))
        emitter.store_fp(result, addresses[0], offset * dst_step)

    emitter.offset_loop(
        entries,
        [dst_address, *(sources[k][0] for k in moving)],
        [dst_step, *(1 for _ in moving)],
        entry,
        lowering.unroll(entries, 1 + len(moving)),
    )


def fill_fpram(lowering: KernelLowering, buffer: Buffer, value_entry: int) -> None:
    """FPRAM[buffer + i] = FPRAM[value_entry] for every entry of the buffer."""
    emitter = lowering.emitter
    value = emitter.load_fp(emitter.const(value_entry))
    (entries,) = buffer.typ.get_shape()
    emitter.offset_loop(
        entries,
        [emitter.const(buffer.address)],
        [1],
        lambda a, offset: emitter.store_fp(value, a[0], offset),
        lowering.unroll(entries, 1),
    )
