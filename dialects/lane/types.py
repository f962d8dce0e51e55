"""`!lane.buffer`: an on-chip buffer of L lanes with its layout.

    !lane.buffer<4x64x16xbf16, vram, col_pack>     4 heads of 64 x 16, side by side in 64 rows
    !lane.buffer<4x64x16xbf16, mram, col_pack>     ... in MRAM (a BTMM or gemm B operand)
    !lane.buffer<4x64x64xbf16, vram, row_stack>    4 slabs of 64 x 64, head-major (BTMM result)
    !lane.buffer<4x64xf32, fpram, fp_lane>         64 FPRAM entries per head
    !lane.buffer<64x64xbf16, mram, flat>           one buffer shared by all lanes

The shape is the logical one: the lane dimension first (its size is the lane count L), then the
per-lane shape, which is the shape the kernel author wrote for one head.  `flat` has no lane
dimension.  The physical buffer (`physical`) is a `!tile.buffer` whose shape follows from the
layout (layouts.py); `plena_mlir/ir/addresses.py` places that in memory, so every address is a pure
function of this type.  Element types and memory spaces mean what they mean in `tile`; the
space is always resolved (no `?`: lane expansion runs after plena-infer-memory).
"""

from __future__ import annotations

from collections.abc import Sequence

from plena_mlir.dialects.lane.layouts import (
    SPACES_OF_LAYOUT,
    LaneLayout,
    physical_shape,
)
from plena_mlir.dialects.tile.types import (
    BufferType,
    MemorySpace,
    ShapedTileType,
    format_shape,
    verify_shape,
)
from xdsl.dialects.builtin import ArrayAttr, IntAttr, StringAttr
from xdsl.ir import Attribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from plena_mlir.target import Target

_LAYOUT_NAMES = ", ".join(layout.value for layout in LaneLayout)


@irdl_attr_definition
class LaneBufferType(ShapedTileType):
    """An on-chip buffer with a lane layout (module docstring)."""

    name = "lane.buffer"

    shape: ArrayAttr[IntAttr]
    element_type: Attribute
    memory_space: StringAttr
    layout_name: StringAttr

    def __init__(
        self,
        shape: Sequence[int],
        element_type: Attribute,
        space: MemorySpace | str,
        layout: LaneLayout | str,
    ):
        super().__init__(
            ArrayAttr(IntAttr(d) for d in shape),
            element_type,
            StringAttr(str(space)),
            StringAttr(str(layout)),
        )

    # accessors ------------------------------------------------------------------------------
    @property
    def space(self) -> MemorySpace:
        return MemorySpace(self.memory_space.data)

    @property
    def layout(self) -> LaneLayout:
        return LaneLayout(self.layout_name.data)

    @property
    def lanes(self) -> int:
        """L, the size of the lane dimension; 1 for a flat buffer (no lane dimension)."""
        return self.get_shape()[0] if self.layout.has_lanes else 1

    @property
    def lane_shape(self) -> tuple[int, ...]:
        """The shape of one lane: the logical shape without the lane dimension."""
        shape = self.get_shape()
        return shape[1:] if self.layout.has_lanes else shape

    @property
    def physical(self) -> BufferType:
        """The physical buffer, laid out in memory by `plena_mlir.ir.addresses`."""
        shape = physical_shape(self.layout, self.get_shape())
        return BufferType(shape, self.element_type, self.space)

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            dims, element_type = parser.parse_ranked_shape()
            parser.parse_punctuation(",")
            pos = parser.pos
            if parser.parse_optional_punctuation("?") is not None:
                parser.raise_error(
                    "a lane buffer has a resolved memory space (vram, mram or fpram), not ?: "
                    "run plena-infer-memory before lane expansion",
                    pos,
                    parser.pos,
                )
            space = _parse_name(parser, "memory space", (s.value for s in SPACES))
            parser.parse_punctuation(",")
            layout = _parse_name(parser, "layout", (lay.value for lay in LaneLayout))
        return (
            ArrayAttr(IntAttr(d) for d in dims),
            element_type,
            StringAttr(space),
            StringAttr(layout),
        )

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            self._print_shape(printer)
            printer.print_string(f", {self.memory_space.data}, {self.layout_name.data}")

    # verification ---------------------------------------------------------------------------
    def verify(self) -> None:
        verify_shape("!lane.buffer", self.get_shape(), self.element_type)
        space, layout = self.memory_space.data, self.layout_name.data
        if space not in {s.value for s in SPACES}:
            raise VerifyException(f"unknown memory space '{space}': expected vram, mram or fpram")
        if layout not in {lay.value for lay in LaneLayout}:
            raise VerifyException(f"unknown lane layout '{layout}': expected {_LAYOUT_NAMES}")
        ranks = SPACES_OF_LAYOUT[self.layout]
        if self.space not in ranks:
            allowed = " or ".join(str(s) for s in ranks)
            raise VerifyException(f"a {layout} buffer lives in {allowed}, not in {space}")
        rank = ranks[self.space]
        if self.rank != rank:
            raise VerifyException(
                f"a {layout} buffer in {space} has rank {rank} ({_RANK_MEANING[self.layout]}), "
                f"got {format_shape(self.get_shape())}"
            )

    def target_error(self, target: Target) -> str | None:
        """Why this buffer cannot exist on `target`, or None: a lane buffer holds exactly the
        target's L = MLEN/HLEN heads, a col_pack lane is HLEN columns wide (L of them fill an
        MLEN-wide row) and a row_stack slab MLEN columns (what M_BMM_WO writes)."""
        layout = self.layout
        if layout.has_lanes and self.lanes != target.lanes:
            return (
                f"head count/lanes mismatch: {self} has {self.lanes} lanes but target "
                f"'{target.name}' packs MLEN/HLEN = {target.mlen}/{target.hlen} = "
                f"{target.lanes} heads in a row"
            )
        width = {
            LaneLayout.COL_PACK: ("HLEN", target.hlen),
            LaneLayout.ROW_STACK: ("MLEN", target.mlen),
        }
        if layout in width:
            name, columns = width[layout]
            if self.get_shape()[-1] != columns:
                return (
                    f"a {layout} lane is {name} = {columns} columns wide on target "
                    f"'{target.name}', got {self.get_shape()[-1]} ({self})"
                )
        return None


#: The memory spaces a lane buffer can be in (`?` is resolved before lane expansion).
SPACES = (MemorySpace.VRAM, MemorySpace.MRAM, MemorySpace.FPRAM)

_RANK_MEANING = {
    LaneLayout.COL_PACK: "lanes x rows x columns",
    LaneLayout.ROW_STACK: "lanes x rows x columns",
    LaneLayout.FP_LANE: "lanes x entries",
    LaneLayout.FLAT: "no lane dimension: rows x columns in vram and mram, entries in fpram",
}


def _parse_name(parser: AttrParser, what: str, names) -> str:
    names = list(names)
    pos = parser.pos
    name = parser.parse_identifier(f" ({what}: {', '.join(names)})")
    if name not in names:
        parser.raise_error(f"unknown {what} '{name}': expected {', '.join(names)}", pos, parser.pos)
    return name
