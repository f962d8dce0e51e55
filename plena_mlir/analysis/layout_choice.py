"""Which layout each HBM tensor and on-chip buffer of a `tile.kernel` has, and reading it back.

The decision (`plena-assign-layout` records it; the attributes are dialects/tile/layout_attrs.py):

- an on-chip buffer (a `tile.alloc`, or a `lane.alloc`'s physical buffer: its lanes are laid
  out by the lane layout of its type, docs/dialects/lane.md) gets the one layout its memory
  space has on the target, with the sizes `plena_mlir.ir.addresses.buffer_layout` computes: VRAM
  `#tile.tiled` (column blocks of VLEN columns, rows rounded up to BLEN; a buffer wider than
  VLEN has several blocks), MRAM `#tile.mram_tiles` (whole MLEN x MLEN tiles), FPRAM
  `#tile.fpram_entries`;
- an HBM tensor is `#tile.bshd` when it has a head axis: a rank-4 tensor is [B, S, H, D]; a
  tensor of another rank whose last dimension a `tile.copy` slices per head (the column
  offset is `lane index * c`, the kernel's lane axis, and the region is c columns wide,
  c < the columns) holds its heads merged, H = columns / c heads of D = c; a tensor a
  `lane.copy` moves by heads (its `lanes` dimension d) has H = its size in d heads of D = the
  elements after d.  Every other tensor is `#tile.row_major`.

A buffer or tensor that needs two layouts is an error naming both needs: two copies slicing
a tensor's heads at different widths, a per-head slice of a rank-4 BSHD tensor's last
dimension, and a layout already recorded in the IR (pinned by the author or by an earlier
run) that differs from the one the buffer or tensor needs.

`assigned_buffer_layout(buffer, target)` is how later passes read a buffer's layout: the
`plena_mlir.ir.addresses` object the recorded attribute stands for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr
from xdsl.ir import Attribute, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects import lane
from plena_mlir.dialects.tile import AllocOp, BufferType, CopyOp, KernelOp, TensorType
from plena_mlir.dialects.tile.layout_attrs import (
    BshdLayoutAttr,
    BufferLayoutAttr,
    FpramEntriesLayoutAttr,
    HbmLayoutAttr,
    MramTilesLayoutAttr,
    RowMajorLayoutAttr,
    TiledLayoutAttr,
)
from plena_mlir.ir.addresses import (
    BufferLayout,
    LayoutError,
    MramLayout,
    VramLayout,
    buffer_layout,
)
from plena_mlir.ir.naming import describe_alloc, describe_op
from plena_mlir.target import Target

#: The `tile.alloc` attribute holding the buffer's layout.
BUFFER_LAYOUT_ATTR = "layout"
#: The `tile.kernel` attribute holding the layout of each HBM tensor argument, by name.
HBM_LAYOUTS_ATTR = "hbm_layouts"


# ---------------------------------------------------------------------------------------------
# on-chip buffers
# ---------------------------------------------------------------------------------------------


def layout_attr(layout: BufferLayout) -> BufferLayoutAttr:
    """The attribute that records `layout`."""
    if isinstance(layout, VramLayout):
        return TiledLayoutAttr(layout.column_blocks, layout.padded_rows, layout.vlen)
    if isinstance(layout, MramLayout):
        return MramTilesLayoutAttr(layout.row_tiles, layout.col_tiles, layout.mlen)
    return FpramEntriesLayoutAttr(layout.entries)


def physical_buffer(alloc: AllocOp | lane.AllocOp) -> BufferType:
    """The buffer `alloc` places in memory: its type, or a lane buffer's physical buffer."""
    typ = alloc.result.type
    return typ.physical if isinstance(typ, lane.LaneBufferType) else typ


def buffer_layout_attr(alloc: AllocOp | lane.AllocOp, target: Target) -> BufferLayoutAttr:
    """The layout the buffer `alloc` makes needs (DiagnosticException when it has none)."""
    try:
        return layout_attr(buffer_layout(physical_buffer(alloc), target))
    except LayoutError as e:
        raise DiagnosticException(f"{describe_alloc(alloc)}: {e}") from None


def assigned_buffer_layout(buffer: SSAValue, target: Target) -> BufferLayout:
    """The layout plena-assign-layout recorded for `buffer` (a `tile.alloc` or `lane.alloc`
    result; of a lane buffer, the layout of its physical buffer), as the `plena_mlir.ir.addresses`
    object that does its address math.  DiagnosticException when there is none or it is not
    a layout a buffer of this type can have on `target`."""
    alloc = buffer.owner
    if not isinstance(alloc, AllocOp | lane.AllocOp):
        raise DiagnosticException(
            f"{buffer} is not a tile.alloc or lane.alloc result: it has no layout"
        )
    attr = alloc.attributes.get(BUFFER_LAYOUT_ATTR)
    if attr is None:
        raise DiagnosticException(
            f"{describe_alloc(alloc)} has no layout: run plena-assign-layout first"
        )
    needed = buffer_layout_attr(alloc, target)
    if attr != needed:
        raise DiagnosticException(
            f"{describe_alloc(alloc)}: its layout {attr} is not one it can have on "
            f"{target.name} ({needed})"
        )
    return buffer_layout(physical_buffer(alloc), target)


# ---------------------------------------------------------------------------------------------
# HBM tensors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Need:
    """A layout a tensor needs, and why."""

    layout: HbmLayoutAttr
    why: str


def _head_width(kernel: KernelOp, copy: CopyOp, side: str) -> int | None:
    """c when the copy slices the last dimension of its `side` tensor per head: the column
    offset is `lane index * c` (either order) and the region is c columns wide."""
    if kernel.lane_axis is None or not copy.is_sliced(side):
        return None
    lane = kernel.grid_indices[kernel.lane_axis.value.data]
    offset = copy.offsets(side)[-1]
    extent = copy.extent(side)
    if extent is None or not isinstance(offset, SSAValue):
        return None
    if not isinstance(product := offset.owner, arith.MuliOp):
        return None
    factors = list(product.operands)
    for index, scale in (factors, factors[::-1]):
        if (
            index is lane
            and isinstance(scale.owner, arith.ConstantOp)
            and isinstance(scale.owner.value, IntegerAttr)
            and scale.owner.value.value.data == extent[-1]
        ):
            return extent[-1]
    return None


def _copies(kernel: KernelOp) -> list[CopyOp]:
    """The kernel's copies in program order."""
    return [op for op in kernel.walk() if isinstance(op, CopyOp)]


def _describe_copy(kernel: KernelOp, copy: CopyOp, width: int) -> str:
    number = _copies(kernel).index(copy) + 1
    return (
        f"tile.copy #{number} of @{kernel.sym_name.data} slices it per head: {width} columns "
        f"at %{kernel.lane} * {width}"
    )


def _tensor_needs(kernel: KernelOp, name: str, tensor: SSAValue) -> list[_Need]:
    typ = tensor.type
    assert isinstance(typ, TensorType)
    shape = typ.get_shape()
    needs: list[_Need] = []
    if len(shape) == 4:
        needs.append(_Need(BshdLayoutAttr(shape[2], shape[3]), "it is a rank-4 [B, S, H, D]"))
    for copy in kernel.walk():
        if isinstance(copy, lane.CopyOp) and tensor in (copy.src, copy.dst):
            dim = copy.lane_dimension
            if dim is not None:
                head_dim = math.prod(shape[dim + 1 :])
                why = f"{describe_op(copy)} moves its heads in dimension {dim}"
                needs.append(_Need(BshdLayoutAttr(shape[dim], head_dim), why))
    for copy in _copies(kernel):
        if tensor not in (copy.src, copy.dst):
            continue
        side = "src" if copy.src is tensor else "dst"
        width = _head_width(kernel, copy, side)
        if width is None or width >= shape[-1]:
            continue
        why = _describe_copy(kernel, copy, width)
        if len(shape) == 4:
            raise DiagnosticException(
                f"tensor %{name} of @{kernel.sym_name.data} needs two layouts: "
                f"{needs[0].layout} ({needs[0].why}) and heads of {width} columns inside its "
                f"head dimension D ({why})"
            )
        if shape[-1] % width:
            raise DiagnosticException(
                f"tensor %{name} of @{kernel.sym_name.data}: {why}, but its {shape[-1]} "
                f"columns are not a whole number of heads of {width}"
            )
        needs.append(_Need(BshdLayoutAttr(shape[-1] // width, width), why))
    return needs


def tensor_layout_attr(kernel: KernelOp, name: str, tensor: SSAValue) -> HbmLayoutAttr:
    """The layout the HBM tensor argument `name` needs (module docstring)."""
    needs = _tensor_needs(kernel, name, tensor)
    for need in needs[1:]:
        if need.layout != needs[0].layout:
            raise DiagnosticException(
                f"tensor %{name} of @{kernel.sym_name.data} needs two layouts: "
                f"{needs[0].layout} ({needs[0].why}) and {need.layout} ({need.why})"
            )
    return needs[0].layout if needs else RowMajorLayoutAttr()


def tensor_layouts(kernel: KernelOp) -> dict[str, HbmLayoutAttr]:
    """The layout of every HBM tensor argument of `kernel`, by name."""
    return {
        name.data: tensor_layout_attr(kernel, name.data, arg)
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    }


def assigned_tensor_layouts(kernel: KernelOp) -> dict[str, Attribute]:
    """The layouts plena-assign-layout recorded for the kernel's HBM tensors, by name."""
    attr = kernel.attributes.get(HBM_LAYOUTS_ATTR)
    if not isinstance(attr, DictionaryAttr):
        raise DiagnosticException(
            f"tile.kernel @{kernel.sym_name.data} has no {HBM_LAYOUTS_ATTR}: run "
            "plena-assign-layout first"
        )
    return dict(attr.data)
