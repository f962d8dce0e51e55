"""Lane expansion of one `tile.kernel` whose lane (head) axis has heads narrower than MLEN.

The author writes one head per program instance (`grid(..., %h = H lane)`); the machine packs
L = MLEN/HLEN heads side by side.  `expand_kernel` fuses every L consecutive heads into one
program instance of lane IR (docs/dialects/lane.md):

1. the grid axis `%h = H lane` becomes `%h = H/L`, the lane group g (an error when H is not a
   multiple of L), and the head index in the body becomes the group's first head g*L, so
   every head offset of an HBM copy (`%h`, `%h + c`, `%h % c`; `heads`) becomes the
   first head of a `lanes` copy;
2. every buffer gets its lane layout (`packing`, one analysis);
3. out-of-place masked per-lane vector-scalar ops are made in place (`in_place`);
4. consecutive per-lane ops are grouped into one `lane.for_lanes` each (`grouping`);
5. every tile op becomes its lane op (`conversion`): no tile op remains in the body.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import DenseArrayBase, IndexType, i64
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.tile import AllocOp, KernelOp
from plena_mlir.lanes.conversion import LaneConversion
from plena_mlir.lanes.grouping import group_lane_loops
from plena_mlir.lanes.heads import head_copies
from plena_mlir.lanes.in_place import make_masked_ops_in_place
from plena_mlir.lanes.packing import assign_lane_layouts
from plena_mlir.target import Target


def narrow_buffer(kernel: KernelOp, target: Target) -> AllocOp | None:
    """The first VRAM/MRAM (rank-2) buffer of `kernel` narrower than MLEN columns."""
    for alloc in kernel.walk():
        if isinstance(alloc, AllocOp):
            shape = alloc.result.type.get_shape()
            if len(shape) == 2 and shape[1] < target.mlen:
                return alloc
    return None


def expand_kernel(kernel: KernelOp, target: Target) -> None:
    """Rewrite `kernel` (its lane axis with narrow heads) into lane IR (module docstring)."""
    assert kernel.lane_axis is not None
    axis = kernel.lane_axis.value.data
    lanes = target.lanes
    heads = list(kernel.grid.values())[axis]
    if heads % lanes:
        raise DiagnosticException(
            f"plena-expand-lanes: tile.kernel @{kernel.sym_name.data}: the lane axis "
            f"%{kernel.lane} has {heads} heads, not a multiple of the {lanes} lanes "
            f"(MLEN/HLEN = {target.mlen}/{target.hlen} on target '{target.name}') that share "
            "a row"
        )
    head = kernel.grid_indices[axis]
    copies = head_copies(kernel, head, lanes)
    layouts = assign_lane_layouts(kernel, copies, target)
    in_place_copies = make_masked_ops_in_place(kernel, layouts)
    group_lane_loops(kernel.body.block, layouts, target, in_place_copies)
    LaneConversion(layouts, copies, target).convert(kernel)
    _index_groups(kernel, axis, lanes)


def _index_groups(kernel: KernelOp, axis: int, lanes: int) -> None:
    """The lane axis counts groups of `lanes` heads; the head index in the body is the
    group's first head, group * lanes."""
    group = kernel.grid_indices[axis]
    uses = list(group.uses)
    count = arith.ConstantOp.from_int_and_width(lanes, IndexType())
    first = arith.MuliOp(group, count)
    count.result.name_hint = "lanes"
    first.result.name_hint = f"{kernel.lane}0"
    block = kernel.body.block
    Rewriter.insert_op([count, first], InsertPoint.at_start(block))
    for use in uses:
        use.operation.operands[use.index] = first.result
    sizes = list(kernel.grid_sizes.get_values())
    sizes[axis] //= lanes
    kernel.grid_sizes = DenseArrayBase.from_list(i64, sizes)
    del kernel.properties["lane_axis"]
