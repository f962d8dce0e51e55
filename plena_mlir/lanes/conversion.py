"""Rewrite each `tile` op of a lane kernel into its `lane` op.

Runs after the layouts are decided (`packing`) and the per-lane ops are grouped into
lane loops (`grouping`): a per-lane op takes the index of its enclosing `lane.for_lanes`
as its lane.  The mapping (`op_classes` says which are per-lane):

    tile.alloc                      lane.alloc of the decided type
    tile.copy                       lane.copy: HBM with the head index -> `lanes` dimension;
                                    a lane-laid buffer from a head-independent region: a
                                    broadcast (no `lanes`); between buffers: whole buffers
    tile.fill                       lane.fill
    tile.add/sub/mul/exp/reci       lane.add/sub/mul/exp/reci
    tile.*_scalar                   lane.*_scalar (f32, flat scalar) | lane.row_* (fp_lane)
    tile.reduce_max/sum             lane.row_max/sum
    tile.fp_*                       lane.fp_*
    tile.gemm                       lane.btmm / lane.btmv | lane.gemm

What the lane dialect cannot say is an error naming the op and the buffers with their
layouts and the reason for each: operands of an element-wise op in different layouts (a
producer and a consumer that disagree), one element `%buf[%i]`, a sliced on-chip side of a
copy, a lane-laid buffer stored to a head-independent HBM region (every lane would write it).
"""

from __future__ import annotations

from xdsl.ir import Operation, SSAValue
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException, VerifyException

from plena_mlir.dialects import lane, tile
from plena_mlir.dialects.lane import LaneBufferType, LaneLayout
from plena_mlir.dialects.tile.memory_ops import SIDES, default_sizes
from plena_mlir.dialects.tile.types import format_shape
from plena_mlir.ir.naming import describe_op
from plena_mlir.lanes.heads import HeadCopy
from plena_mlir.lanes.op_classes import is_batched_gemm
from plena_mlir.lanes.packing import LaneLayouts
from plena_mlir.target import Target

_BY_TILE_OP = {
    **{cls.TILE_OP: cls for cls in lane.VECTOR_OPS},
    **{cls.TILE_OP: cls for cls in lane.SCALAR_OPS},
}
_ROW_OPS = {cls.TILE_OP: cls for cls in lane.ROW_OPS}


class LaneConversion:
    """Converts the ops of one kernel (module docstring)."""

    def __init__(self, layouts: LaneLayouts, heads: list[HeadCopy], target: Target):
        self.layouts = layouts
        self.heads = {head.copy: head for head in heads}
        self.target = target
        self.names: dict[Operation, str] = {}

    def fail(self, op: Operation, message: str) -> DiagnosticException:
        """An error naming `op` as the kernel numbered it before the rewrite began."""
        return DiagnosticException(f"plena-expand-lanes: {self.names[op]}: {message}")

    def convert(self, kernel: tile.KernelOp) -> None:
        """Every tile op of `kernel` -> lane ops; the allocations last, so the decisions,
        keyed by the tile buffers, stay valid while the other ops are rewritten.  Then each
        lane op is verified, an error naming the tile op it came from."""
        ops = [op for op in kernel.body.walk() if isinstance(op, tile.TileOp)]
        self.names = {op: describe_op(op) for op in ops}
        origins: list[tuple[Operation, str]] = []
        for op in ops:
            if not isinstance(op, tile.AllocOp):
                new = self._lane_op(op)
                origins.append((new, self.names[op]))
                Rewriter.replace_op(op, new)
        for op in ops:
            if isinstance(op, tile.AllocOp):
                new = lane.AllocOp(self.layouts.types[op.result])
                new.result.name_hint = op.result.name_hint
                Rewriter.replace_op(op, new)
        for new, origin in origins:
            try:
                new.verify()
            except VerifyException as e:
                raise DiagnosticException(f"plena-expand-lanes: {origin}: {e}") from None

    # -----------------------------------------------------------------------------------------
    def _lane_op(self, op: tile.TileOp) -> Operation:
        if isinstance(op, tile.CopyOp):
            return self._copy(op)
        if isinstance(op, tile.FillOp):
            return lane.FillOp.create_from({"dst": op.dst, "value": op.value})
        if isinstance(op, tile.BinaryOp | tile.UnaryOp):
            self._same_layout(op, [getattr(op, name) for name in op.OPERANDS])
            operands = {name: getattr(op, name) for name in op.OPERANDS}
            return _BY_TILE_OP[type(op)].create_from(operands)
        if isinstance(op, tile.ScalarOp):
            return self._scalar(op)
        if isinstance(op, tile.ReduceOp):
            return self._reduce(op)
        if isinstance(op, tile.FpOp):
            return self._fp(op)
        assert isinstance(op, tile.GemmOp)
        return self._gemm(op)

    def _type(self, value: SSAValue) -> LaneBufferType:
        return self.layouts.types[value]

    def _same_layout(self, op: Operation, buffers: list[SSAValue]) -> None:
        first = buffers[0]
        for other in buffers[1:]:
            if self._type(other).layout is not self._type(first).layout:
                raise self.fail(
                    op,
                    "layout conflict: an element-wise op reads and writes the same positions "
                    f"of every operand, but {self.layouts.describe(first)} and "
                    f"{self.layouts.describe(other)}",
                )

    def _no_index(self, op: Operation, roles: tuple[str, ...]) -> None:
        for role in roles:
            if getattr(op, f"{role}_index", None) is not None:
                raise self.fail(
                    op,
                    f"one element {role}[i] of an FPRAM buffer has no lane form: use the "
                    "whole buffer (one entry per row)",
                )

    def _lane_index(self, op: Operation) -> SSAValue:
        loop = op.parent_op()
        while not isinstance(loop, lane.ForLanesOp):
            assert loop is not None, "a per-lane op is inside a lane loop after grouping"
            loop = loop.parent_op()
        return loop.lane

    # copies ----------------------------------------------------------------------------------
    def _copy(self, op: tile.CopyOp) -> Operation:
        side = next((s for s in SIDES if _is_tensor(getattr(op, s))), None)
        on_chip = [s for s in SIDES if s != side]
        for s in on_chip:
            if op.is_sliced(s):
                raise self.fail(
                    op,
                    f"the on-chip {s} is sliced; a lane copy moves whole on-chip buffers "
                    "(copy the whole buffer, or slice the HBM side)",
                )
        if side is None:
            return lane.CopyOp(op.src, op.dst)
        buffer = op.dst if side == "src" else op.src
        typ = self._type(buffer)
        head = self.heads.get(op)
        if head is None and typ.layout.has_lanes and side == "dst":
            raise self.fail(
                op,
                f"{self.layouts.describe(buffer)} is stored to an HBM region that does not "
                "depend on the head index, so every lane would write the same region: "
                "select the head of the HBM tensor with the head index",
            )
        offsets = op.offsets(side)
        lane_dim = None if head is None else head.dim
        if offsets:
            self._check_region(op, side, typ, lane_dim)
        return lane.CopyOp(op.src, op.dst, offsets, lane_dim)

    def _check_region(
        self, op: tile.CopyOp, side: str, typ: LaneBufferType, lane_dim: int | None
    ) -> None:
        """The HBM region of `op` is what the lane copy moves: one lane's shape fitted to the
        tensor's other dimensions, one head in the `lanes` dimension."""
        rank = len(getattr(op, side).type.get_shape())
        if lane_dim is None:
            expected = default_sizes(typ.lane_shape, rank)
        else:
            others = default_sizes(typ.lane_shape, rank - 1)
            expected = None if others is None else (*others[:lane_dim], 1, *others[lane_dim:])
        extent = op.extent(side)
        if expected is None or tuple(extent or ()) != tuple(expected):
            wanted = "?" if expected is None else format_shape(expected)
            raise self.fail(
                op,
                f"the HBM region of {side} is {format_shape(extent or ())}, but a lane copy of "
                f"{format_shape(typ.lane_shape)} per lane moves a {wanted} region (one head "
                "in the head dimension, the lane's shape in the others)",
            )

    # vector-scalar, reductions, FPRAM --------------------------------------------------------
    def _scalar(self, op: tile.ScalarOp) -> Operation:
        self._no_index(op, ("scalar",))
        self._same_layout(op, [op.dst, op.src])
        operands = {"dst": op.dst, "src": op.src, "scalar": op.scalar}
        scalar = self.layouts.types.get(op.scalar)
        if scalar is not None and scalar.layout is LaneLayout.FP_LANE:
            return _ROW_OPS[type(op)].create_from({**operands, "lane": self._lane_index(op)})
        return _BY_TILE_OP[type(op)].create_from(operands)

    def _reduce(self, op: tile.ReduceOp) -> Operation:
        self._no_index(op, ("acc",))
        if not self._type(op.src).layout.has_lanes:
            raise self.fail(
                op,
                f"a row reduction is per-lane, but {self.layouts.describe(op.src)}: reduce a "
                "lane-dependent buffer",
            )
        flags = ("accumulate",) if op.accumulate is not None else ()
        operands = {"acc": op.acc, "src": op.src, "lane": self._lane_index(op)}
        return _ROW_OPS[type(op)].create_from(operands, flags)

    def _fp(self, op: tile.FpOp) -> Operation:
        self._no_index(op, op.OPERANDS)
        operands = {name: getattr(op, name) for name in op.OPERANDS}
        return _BY_TILE_OP[type(op)].create_from({**operands, "lane": self._lane_index(op)})

    # matrix ----------------------------------------------------------------------------------
    def _gemm(self, op: tile.GemmOp) -> Operation:
        if is_batched_gemm(op, self.layouts, self.target):
            rows = self._type(op.a).lane_shape[0]
            batched = lane.BtmmOp if rows == self.target.mlen else lane.BtmvOp
            return batched(op.c, op.a, op.b)
        if not self._type(op.c).layout.has_lanes:
            raise self.fail(
                op,
                f"a gemm of lane-independent operands has no lane form "
                f"({self.layouts.describe(op.c)})",
            )
        return lane.GemmOp(
            op.c, op.a, op.b, self._lane_index(op), op.einsum, op.accumulate is not None
        )


def _is_tensor(value: SSAValue) -> bool:
    return isinstance(value.type, tile.TensorType)
