"""FPRAM scalar ops and fills.

    tile.fp_<op> dst, sources     for each entry i of dst (a hardware loop; one iteration for
                                  a one-element dst):
                                      S_LD_FP each whole-buffer source [i]
                                      S_<OP>_FP
                                      S_ST_FP dst[i]
                                  sources that are one element or an f32 value are loaded
                                  once, before the loop (so they are read before any write)
    tile.fill dst (fpram), v      S_LD_FP v, then S_ST_FP per entry
    tile.fill dst (vram), v       `onchip_copy.lower_vram_fill`

Entry loops run up to MAX_UNROLL entries per hardware iteration, each copy addressing its
entry with the S_LD_FP / S_ST_FP immediate.
"""

from __future__ import annotations

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
from plena_mlir.lowering.kernel import KernelLowering, buffer_type
from plena_mlir.lowering.onchip_copy import lower_vram_fill
from plena_mlir.lowering.vector import fp_source

_FP_OPS = {
    FpAddOp: S_AddFpOp,
    FpSubOp: S_SubFpOp,
    FpMulOp: S_MulFpOp,
    FpMaxOp: S_MaxFpOp,
    FpExpOp: S_ExpFpOp,
    FpReciOp: S_ReciFpOp,
    FpSqrtOp: S_SqrtFpOp,
}

SCALAR_OPS = (*_FP_OPS, FillOp)


def lower_scalar(lowering: KernelLowering, op) -> None:
    if isinstance(op, FillOp):
        _fill(lowering, op)
        return
    emitter = lowering.emitter
    make = _FP_OPS[type(op)]
    entries = 1 if op.dst_index is not None else buffer_type(op.dst).get_shape()[0]
    dst, dst_step = fp_source(lowering, op.dst, op.dst_index, True)
    sources = [
        fp_source(lowering, getattr(op, role), getattr(op, f"{role}_index"), True)
        for role in op.READ
    ]
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
        [dst, *(sources[k][0] for k in moving)],
        [dst_step, *(1 for _ in moving)],
        entry,
        lowering.unroll(entries, 1 + len(moving)),
    )


def _fill(lowering: KernelLowering, op: FillOp) -> None:
    typ = buffer_type(op.dst)
    if typ.space is MemorySpace.VRAM:
        lower_vram_fill(lowering, op)
        return
    emitter = lowering.emitter
    value = emitter.load_fp(emitter.const(lowering.fp_entry(op.value)))
    entries = typ.get_shape()[0]
    emitter.offset_loop(
        entries,
        [emitter.const(lowering.buffer_address(op.dst))],
        [1],
        lambda a, offset: emitter.store_fp(value, a[0], offset),
        lowering.unroll(entries, 1),
    )
