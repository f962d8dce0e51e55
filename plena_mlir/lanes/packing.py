"""The lane layout of every on-chip buffer of a lane kernel: one analysis, with its reasons.

A buffer is *lane-dependent* (it holds one value per head, so L lanes after expansion) when

1. a copy moves it from or to HBM through the head index (`heads.head_copies`);
2. an FPRAM scalar op or a row reduction writes it: those are per-lane ops, and a per-lane
   op writes one lane of a lane-laid buffer (there is no multi-lane FPRAM op);
3. an op writes it reading a lane-dependent buffer (data flow, to a fixpoint);
4. it is a VRAM buffer of HLEN columns that an element-wise op (vector op, on-chip copy) uses
   together with a lane-dependent HLEN-wide buffer, e.g. rmsnorm's weight row in
   `t *= weight`: every lane then holds the same data (a *broadcast*: its HBM load has no
   `lanes` marker), since one unmasked instruction reads the same columns of every lane.

Its layout follows from where it lives and its width (what the instructions need):

    lane-dependent vram/mram, HLEN columns    col_pack     L x R x HLEN
    lane-dependent vram, MLEN columns         row_stack    L x R x MLEN (a BTMM result)
    lane-dependent fpram                      fp_lane      L x N
    lane-independent                          flat         the shape the author wrote

A lane-dependent buffer of another width (or an MRAM one of MLEN columns) cannot be packed:
an error naming the buffer, why it is lane-dependent and the widths a lane can have.  Whether
the ops agree with the layouts is checked where each op is converted
(`conversion`), with both buffers and their reasons in the message; nothing later
re-decides a layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.ir import Operation, SSAValue
from xdsl.traits import MemoryEffectKind, get_effects
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.lane import LaneBufferType, LaneLayout
from plena_mlir.dialects.tile import (
    AllocOp,
    BinaryOp,
    BufferType,
    CopyOp,
    FpOp,
    KernelOp,
    MemorySpace,
    ReduceOp,
    ScalarOp,
    TileOp,
    UnaryOp,
)
from plena_mlir.ir.naming import buffer_name, describe_op
from plena_mlir.lanes.heads import HeadCopy
from plena_mlir.target import Target

#: Ops that read and write the same element positions of every VRAM operand.
_ELEMENT_WISE = (BinaryOp, UnaryOp, ScalarOp, CopyOp)


@dataclass
class LaneLayouts:
    """The decision: the lane buffer type of every buffer, and why each is lane-dependent."""

    types: dict[SSAValue, LaneBufferType] = field(default_factory=dict)
    reasons: dict[SSAValue, str] = field(default_factory=dict)

    def layout(self, buffer: SSAValue) -> LaneLayout:
        return self.types[buffer].layout

    def describe(self, buffer: SSAValue) -> str:
        """`%q (64x16xbf16, vram) is col_pack (it is loaded ... )` for diagnostics."""
        alloc = buffer.owner
        assert isinstance(alloc, AllocOp)
        layout = self.layout(buffer)
        why = self.reasons.get(buffer, "it is lane-independent: the same for every head")
        return f"{buffer_name(alloc)} is {layout} ({why})"


def _buffers(op: Operation, kind: MemoryEffectKind) -> list[SSAValue]:
    """The buffers `op` reads (or writes), in operand order."""
    touched = {e.value for e in get_effects(op) or () if e.kind is kind}
    buffers = [v for v in op.operands if v in touched and isinstance(v.type, BufferType)]
    return list(dict.fromkeys(buffers))


def _width(buffer: SSAValue) -> int:
    return buffer.type.get_shape()[-1]


def _is_vram(buffer: SSAValue) -> bool:
    return buffer.type.space is MemorySpace.VRAM


def _lane_dependent(
    kernel: KernelOp, heads: list[HeadCopy], target: Target
) -> dict[SSAValue, str]:
    """Buffer -> why it is lane-dependent (rules 1-4 of the module docstring)."""
    reasons: dict[SSAValue, str] = {}
    for head in heads:
        buffer = head.copy.dst if head.side == "src" else head.copy.src
        verb = "loaded from" if head.side == "src" else "stored to"
        reasons.setdefault(
            buffer, f"{verb} HBM through the head index by {describe_op(head.copy)}"
        )
    ops = [op for op in kernel.body.walk() if isinstance(op, TileOp)]
    for op in ops:
        if isinstance(op, FpOp | ReduceOp):
            for buffer in _buffers(op, MemoryEffectKind.WRITE):
                reasons.setdefault(buffer, f"written by the per-lane {describe_op(op)}")
    changed = True
    while changed:
        changed = False
        for op in ops:
            read = [b for b in _buffers(op, MemoryEffectKind.READ) if b in reasons]
            for buffer in _buffers(op, MemoryEffectKind.WRITE):
                if read and buffer not in reasons:
                    reasons[buffer] = (
                        f"written by {describe_op(op)} from the lane-dependent "
                        f"{buffer_name(read[0].owner)}"
                    )
                    changed = True
            if isinstance(op, _ELEMENT_WISE):
                changed |= _broadcast(op, reasons, target)
    return reasons


def _broadcast(op: Operation, reasons: dict[SSAValue, str], target: Target) -> bool:
    """Rule 4: the HLEN-wide VRAM operands of an element-wise op with a lane-dependent one."""
    narrow = [
        v
        for v in op.operands
        if isinstance(v.type, BufferType) and _is_vram(v) and _width(v) == target.hlen
    ]
    packed = next((v for v in narrow if v in reasons), None)
    if packed is None:
        return False
    changed = False
    for buffer in narrow:
        if buffer not in reasons:
            reasons[buffer] = (
                f"used by {describe_op(op)} with the lane-dependent {buffer_name(packed.owner)}: "
                "every lane holds the same data (a broadcast)"
            )
            changed = True
    return changed


def _packed_layout(alloc: AllocOp, why: str, target: Target) -> LaneLayout:
    typ = alloc.result.type
    assert isinstance(typ, BufferType)
    if typ.space is MemorySpace.FPRAM:
        return LaneLayout.FP_LANE
    width = typ.get_shape()[-1]
    if width == target.hlen:
        return LaneLayout.COL_PACK
    if width == target.mlen and typ.space is MemorySpace.VRAM:
        return LaneLayout.ROW_STACK
    allowed = (
        f"HLEN = {target.hlen} columns (col_pack)"
        if typ.space is MemorySpace.MRAM
        else f"HLEN = {target.hlen} columns (col_pack) or MLEN = {target.mlen} (row_stack)"
    )
    raise DiagnosticException(
        f"plena-expand-lanes: the buffer {buffer_name(alloc)} cannot be lane-packed: it holds "
        f"one head per lane ({why}), and a lane of a {typ.space} buffer is {allowed} wide, "
        f"not {width}"
    )


def assign_lane_layouts(kernel: KernelOp, heads: list[HeadCopy], target: Target) -> LaneLayouts:
    """The lane buffer type of every `tile.alloc` of `kernel` (module docstring)."""
    reasons = _lane_dependent(kernel, heads, target)
    layouts = LaneLayouts(reasons=reasons)
    for alloc in kernel.body.walk():
        if not isinstance(alloc, AllocOp):
            continue
        typ = alloc.result.type
        assert isinstance(typ, BufferType)
        shape = typ.get_shape()
        if alloc.result in reasons:
            layout = _packed_layout(alloc, reasons[alloc.result], target)
            shape = (target.lanes, *shape)
        else:
            layout = LaneLayout.FLAT
        layouts.types[alloc.result] = LaneBufferType(shape, typ.element_type, typ.space, layout)
    return layouts
