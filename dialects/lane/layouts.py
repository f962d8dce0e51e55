"""The four lane layouts and where each puts an element: the one place that says it.

A lane buffer (`!lane.buffer`, types.py) holds L program instances (heads), side by side.  Its
logical shape starts with the lane dimension, `L x <per-lane shape>`, except `flat`, which has
no lane dimension (one copy shared by all lanes).  The layout says how that logical shape sits
in the 2-D (VRAM, MRAM) or 1-D (FPRAM) *physical* buffer, whose own placement in memory is
`plena_mlir/ir/addresses.py`'s (VRAM column-block major, MRAM whole tiles, FPRAM consecutive):

    col_pack   L x R x D   -> R x (L*D)    [l, r, d] at (r, l*D + d)     one head per D columns;
                                           L*D = MLEN; a head is selected by V_MASK = 1 << l
    row_stack  L x R x C   -> (L*R) x C    [l, r, c] at (l*R + r, c)     head-major slabs, what
                                           M_BMM_WO / M_BMV_WO write; C = MLEN; a head is
                                           selected by address (lane stride R*C elements)
    fp_lane    L x N       -> (L*N)        [l, i] at (l*N + i)           FPRAM, N entries a lane
    flat       S           -> S            unchanged                     shared by every lane

The lane stride of row_stack is the product of the per-lane dimensions (R*C), never a tile
stride: that is what the write-out instructions use (reference pitfall 3, decode with R = 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from plena_mlir.dialects.tile.types import MemorySpace
from xdsl.utils.str_enum import StrEnum


class LaneLayout(StrEnum):
    """How the lanes of a buffer sit in its physical buffer (module docstring)."""

    COL_PACK = "col_pack"
    ROW_STACK = "row_stack"
    FP_LANE = "fp_lane"
    FLAT = "flat"

    @property
    def has_lanes(self) -> bool:
        """Whether the logical shape starts with a lane dimension (all but flat)."""
        return self is not LaneLayout.FLAT

    @property
    def masked(self) -> bool:
        """Whether one lane is selected by V_MASK (col_pack) rather than by address."""
        return self is LaneLayout.COL_PACK


#: The memory spaces and logical rank (lane dimension included) each layout allows.
SPACES_OF_LAYOUT: dict[LaneLayout, dict[MemorySpace, int]] = {
    LaneLayout.COL_PACK: {MemorySpace.VRAM: 3, MemorySpace.MRAM: 3},
    LaneLayout.ROW_STACK: {MemorySpace.VRAM: 3},
    LaneLayout.FP_LANE: {MemorySpace.FPRAM: 2},
    LaneLayout.FLAT: {MemorySpace.VRAM: 2, MemorySpace.MRAM: 2, MemorySpace.FPRAM: 1},
}


def physical_shape(layout: LaneLayout, shape: Sequence[int]) -> tuple[int, ...]:
    """The shape of the physical buffer that holds a buffer of logical `shape`."""
    if layout is LaneLayout.COL_PACK:
        lanes, rows, cols = shape
        return (rows, lanes * cols)
    if layout is LaneLayout.ROW_STACK:
        lanes, rows, cols = shape
        return (lanes * rows, cols)
    if layout is LaneLayout.FP_LANE:
        lanes, entries = shape
        return (lanes * entries,)
    return tuple(shape)


def physical_index(
    layout: LaneLayout, shape: Sequence[int], index: Sequence[int]
) -> tuple[int, ...]:
    """Where logical element `index` of a buffer of logical `shape` is in its physical buffer."""
    if len(index) != len(shape) or not all(0 <= i < d for i, d in zip(index, shape, strict=True)):
        raise IndexError(f"index {list(index)} is out of bounds for shape {list(shape)}")
    if layout is LaneLayout.COL_PACK:
        lane, row, col = index
        return (row, lane * shape[2] + col)
    if layout is LaneLayout.ROW_STACK:
        lane, row, col = index
        return (lane * shape[1] + row, col)
    if layout is LaneLayout.FP_LANE:
        lane, entry = index
        return (lane * shape[1] + entry,)
    return tuple(index)
