"""Multi-lane whole-tile vector ops: one V_* instruction per row covers every lane.

    lane.add %d, %a, %b : !lane.buffer<4x64x16xbf16, vram, col_pack>
    lane.mul_scalar %s, %s, %scale : !lane.buffer<4x64x64xbf16, vram, row_stack>, ..., f32

Each mirrors a `tile` op (`TILE_OP`: its arithmetic and instruction) applied to every lane:

    for l < L:  dst[l] = tile_op(operands[l])        (flat operands: the same for every lane)

All buffer operands agree in layout and shape, since an unmasked instruction reads and writes
the same positions of every lane.
"""

from __future__ import annotations

from abc import ABC
from typing import ClassVar

from plena_mlir.dialects import tile
from plena_mlir.dialects.lane.base import LaneEffects, OperandListSyntax
from plena_mlir.dialects.lane.traits import MultiLane
from plena_mlir.dialects.lane.types import LaneBufferType
from plena_mlir.dialects.tile.types import MemorySpace
from xdsl.dialects.builtin import Float32Type
from xdsl.irdl import irdl_op_definition, operand_def, traits_def

_VRAM, _FPRAM = (MemorySpace.VRAM,), (MemorySpace.FPRAM,)


class WholeTileOp(OperandListSyntax, ABC):
    """A multi-lane op that applies `TILE_OP` to every lane."""

    TILE_OP: ClassVar[type[tile.TileOp]]
    #: The VRAM operands besides dst.
    TILES: ClassVar[tuple[str, ...]]

    traits = traits_def(MultiLane(), LaneEffects())

    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)

    def verify_(self) -> None:
        self.check_buffer("dst", self.dst, _VRAM)
        for role in self.TILES:
            self.check_buffer(role, getattr(self, role), _VRAM)
            self.check_same_layout(role, getattr(self, role), "dst", self.dst)


class BinaryOp(WholeTileOp, ABC):
    """dst[l, r, c] = lhs[l, r, c] (op) rhs[l, r', c] with r' = r, or r' = 0 when a lane of
    rhs is one row (a 1 x columns row per lane broadcast to every row, e.g. a weight), as
    tile.add/sub/mul do."""

    dst = operand_def(LaneBufferType)
    lhs = operand_def(LaneBufferType)
    rhs = operand_def(LaneBufferType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "lhs", "rhs")
    READ: ClassVar[tuple[str, ...]] = ("lhs", "rhs")
    TILES: ClassVar[tuple[str, ...]] = ("lhs", "rhs")

    def verify_(self) -> None:
        self.check_buffer("dst", self.dst, _VRAM)
        self.check_buffer("lhs", self.lhs, _VRAM)
        self.check_same_layout("lhs", self.lhs, "dst", self.dst)
        rhs = self.check_buffer("rhs", self.rhs, _VRAM)
        dst = self.dst.type
        assert isinstance(dst, LaneBufferType)
        row = (rhs.layout, rhs.lanes, rhs.lane_shape) == (
            dst.layout,
            dst.lanes,
            (1, dst.lane_shape[-1]),
        )
        if not row:
            self.check_same_layout("rhs", self.rhs, "dst", self.dst)


@irdl_op_definition
class AddOp(BinaryOp):
    """dst = lhs + rhs, every lane   (V_ADD_VV)"""

    name = "lane.add"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.AddOp


@irdl_op_definition
class SubOp(BinaryOp):
    """dst = lhs - rhs, every lane   (V_SUB_VV)"""

    name = "lane.sub"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.SubOp


@irdl_op_definition
class MulOp(BinaryOp):
    """dst = lhs * rhs, every lane   (V_MUL_VV)"""

    name = "lane.mul"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.MulOp


class UnaryOp(WholeTileOp, ABC):
    """dst[l, r, c] = f(src[l, r, c])"""

    dst = operand_def(LaneBufferType)
    src = operand_def(LaneBufferType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src")
    READ: ClassVar[tuple[str, ...]] = ("src",)
    TILES: ClassVar[tuple[str, ...]] = ("src",)


@irdl_op_definition
class ExpOp(UnaryOp):
    """dst = exp(src), every lane   (V_EXP_V)"""

    name = "lane.exp"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.ExpOp


@irdl_op_definition
class ReciOp(UnaryOp):
    """dst = 1 / src, every lane   (V_RECI_V)"""

    name = "lane.reci"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.ReciOp


class ScalarOp(WholeTileOp, ABC):
    """dst[l, r, c] = src[l, r, c] (op) s[r]: the same scalars for every lane, unmasked.

    The scalar is an f32 value (one for all rows) or a flat FPRAM buffer with one entry per
    row of a lane (or one entry).  Per-lane scalars (fp_lane) need the per-lane row ops.
    """

    dst = operand_def(LaneBufferType)
    src = operand_def(LaneBufferType)
    scalar = operand_def(LaneBufferType | Float32Type)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src", "scalar")
    READ: ClassVar[tuple[str, ...]] = ("src", "scalar")
    TILES: ClassVar[tuple[str, ...]] = ("src",)

    def verify_(self) -> None:
        super().verify_()
        if isinstance(self.scalar.type, Float32Type):
            return
        scalar = self.check_buffer("scalar", self.scalar, _FPRAM)
        rows = self.dst.type.lane_shape[0]
        if scalar.layout.has_lanes:
            raise self.fail(
                f"the scalar operand is {scalar.layout}: scalars that differ per lane need the "
                f"per-lane lane.row_{self.name.removeprefix('lane.').removesuffix('_scalar')} "
                "inside lane.for_lanes"
            )
        (entries,) = scalar.get_shape()
        if entries not in (1, rows):
            raise self.fail(
                f"the scalar operand has {entries} entries but a lane of dst has {rows} rows: "
                "give one scalar per row or one for all rows"
            )


@irdl_op_definition
class AddScalarOp(ScalarOp):
    """dst[l, r, :] = src[l, r, :] + s[r]   (V_ADD_VF)"""

    name = "lane.add_scalar"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.AddScalarOp


@irdl_op_definition
class SubScalarOp(ScalarOp):
    """dst[l, r, :] = src[l, r, :] - s[r]   (V_SUB_VF)"""

    name = "lane.sub_scalar"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.SubScalarOp


@irdl_op_definition
class RsubScalarOp(ScalarOp):
    """dst[l, r, :] = s[r] - src[l, r, :]   (V_SUB_VF, reversed)"""

    name = "lane.rsub_scalar"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.RsubScalarOp


@irdl_op_definition
class MulScalarOp(ScalarOp):
    """dst[l, r, :] = src[l, r, :] * s[r]   (V_MUL_VF)"""

    name = "lane.mul_scalar"
    TILE_OP: ClassVar[type[tile.TileOp]] = tile.MulScalarOp


VECTOR_OPS = (
    AddOp,
    SubOp,
    MulOp,
    ExpOp,
    ReciOp,
    AddScalarOp,
    SubScalarOp,
    RsubScalarOp,
    MulScalarOp,
)
