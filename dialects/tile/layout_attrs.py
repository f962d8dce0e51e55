"""Layout attributes: how a tensor sits in HBM and how a buffer sits in its on-chip memory.

`plena-assign-layout` (passes/assign_layout.py) decides them and records them in the IR; the
address math of each is `plena_mlir/ir/addresses.py`'s, reached through
`plena_mlir.analysis.layout_choice.assigned_buffer_layout`.

HBM tensors (`hbm_layouts = {x = ..., y = ...}` on the `tile.kernel`):

    #tile.row_major                        the elements in row-major order (any rank)
    #tile.bshd<heads = 8, head_dim = 16>   row-major too, with a head axis: a rank-4 tensor is
                                           [B, S, H, D] (H = heads, D = head_dim); a tensor of
                                           another rank has its heads merged into the last
                                           dimension ([.., S, H*D], the same bytes as
                                           [B, S, H, D]); one head is `head_dim` consecutive
                                           elements of a row

On-chip buffers (`layout = ...` on each `tile.alloc`):

    #tile.tiled<blocks = 3, rows = 64, width = 64>
        VRAM, the MLEN-tile layout: `blocks` column blocks of `rows` rows (the buffer's rows
        rounded up to BLEN) of `width` = VLEN elements; element (i, j) at
        (j div width) * rows * width + i * width + (j mod width).  This is the 7-D layout
        [D_tiles][S_tiles][H_groups][B][S_inner][LANE][D_inner] of the reference compiler
        for a rank-2 buffer without lanes (B = H_groups = LANE = 1, D_tiles = blocks,
        S_tiles * S_inner = rows, D_inner = width); a buffer wider than VLEN has blocks > 1.
    #tile.mram_tiles<row_tiles = 2, col_tiles = 1, tile = 64>
        MRAM, whole tile x tile tiles (tile = MLEN), column tile major, each tile row-major.
    #tile.fpram_entries<entries = 64>
        FPRAM, one entry per element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import IntAttr
from xdsl.ir import Attribute, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException


class _NamedIntsLayout(ParametrizedAttribute):
    """A layout whose parameters are positive integers written `<name = value, ...>`."""

    FIELDS: ClassVar[tuple[str, ...]]

    def value(self, field: str) -> int:
        attr = getattr(self, field)
        assert isinstance(attr, IntAttr)
        return attr.data

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        values: list[Attribute] = []
        with parser.in_angle_brackets():
            for i, field in enumerate(cls.FIELDS):
                if i:
                    parser.parse_punctuation(",")
                parser.parse_keyword(field)
                parser.parse_punctuation("=")
                values.append(IntAttr(parser.parse_integer(allow_boolean=False)))
        return values

    def print_parameters(self, printer: Printer) -> None:
        fields = ", ".join(f"{field} = {self.value(field)}" for field in self.FIELDS)
        printer.print_string(f"<{fields}>")

    def verify(self) -> None:
        for field in self.FIELDS:
            if self.value(field) < 1:
                raise VerifyException(
                    f"#{self.name}: {field} must be positive, got {self.value(field)}"
                )


# ---------------------------------------------------------------------------------------------
# HBM tensors
# ---------------------------------------------------------------------------------------------


@irdl_attr_definition
class RowMajorLayoutAttr(ParametrizedAttribute):
    """An HBM tensor in row-major order, without a head axis."""

    name = "tile.row_major"


@irdl_attr_definition
class BshdLayoutAttr(_NamedIntsLayout):
    """An HBM tensor with a head axis: [B, S, H, D], or heads merged into the last dimension."""

    name = "tile.bshd"
    FIELDS = ("heads", "head_dim")

    heads: IntAttr
    head_dim: IntAttr

    def __init__(self, heads: int, head_dim: int):
        super().__init__(IntAttr(heads), IntAttr(head_dim))


HbmLayoutAttr = RowMajorLayoutAttr | BshdLayoutAttr

# ---------------------------------------------------------------------------------------------
# On-chip buffers
# ---------------------------------------------------------------------------------------------


@irdl_attr_definition
class TiledLayoutAttr(_NamedIntsLayout):
    """A VRAM buffer in the MLEN-tile (column-block major) layout."""

    name = "tile.tiled"
    FIELDS = ("blocks", "rows", "width")

    blocks: IntAttr
    rows: IntAttr
    width: IntAttr

    def __init__(self, blocks: int, rows: int, width: int):
        super().__init__(IntAttr(blocks), IntAttr(rows), IntAttr(width))


@irdl_attr_definition
class MramTilesLayoutAttr(_NamedIntsLayout):
    """An MRAM buffer of whole tile x tile tiles, column tile major."""

    name = "tile.mram_tiles"
    FIELDS = ("row_tiles", "col_tiles", "tile")

    row_tiles: IntAttr
    col_tiles: IntAttr
    tile: IntAttr

    def __init__(self, row_tiles: int, col_tiles: int, tile: int):
        super().__init__(IntAttr(row_tiles), IntAttr(col_tiles), IntAttr(tile))


@irdl_attr_definition
class FpramEntriesLayoutAttr(_NamedIntsLayout):
    """An FPRAM buffer: one entry per element."""

    name = "tile.fpram_entries"
    FIELDS = ("entries",)

    entries: IntAttr

    def __init__(self, entries: int):
        super().__init__(IntAttr(entries))


BufferLayoutAttr = TiledLayoutAttr | MramTilesLayoutAttr | FpramEntriesLayoutAttr

LAYOUT_ATTRS = (
    RowMajorLayoutAttr,
    BshdLayoutAttr,
    TiledLayoutAttr,
    MramTilesLayoutAttr,
    FpramEntriesLayoutAttr,
)
