"""Whole-tile vector ops on VRAM buffers: element-wise, scalar broadcast, row reductions.

Only what the vector engine has, or a documented sequence of it: add, sub and mul of two tiles
(V_*_VV), exp and reciprocal (V_EXP_V, V_RECI_V), add, sub, reversed sub and mul by a scalar
per row (V_*_VF), and max or sum of each row into FPRAM (V_RED_*).  The machine has no vector
max/min of two tiles and no vector sqrt, so neither does this dialect; a negation is
`tile.mul_scalar` by -1.

Every op is destination-passing: it writes `dst` (or `acc`) and reads its other operands; a
destination may be one of the sources (`tile.exp %x, %x`).
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from plena_mlir.dialects.tile.base import BufferEffects, OperandListSyntax
from plena_mlir.dialects.tile.types import BufferType
from xdsl.dialects.builtin import Float32Type, IndexType, UnitAttr
from xdsl.irdl import (
    AttrSizedOperandSegments,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    traits_def,
)

# ---------------------------------------------------------------------------------------------
# element-wise: two tiles
# ---------------------------------------------------------------------------------------------


class BinaryOp(OperandListSyntax, ABC):
    """dst[r, c] = lhs[r, c] (op) rhs[r', c] with r' = r, or r' = 0 when rhs is one row
    (a 1 x columns row vector broadcast to every row, e.g. a bias)."""

    ARITHMETIC: ClassVar[Callable[[np.ndarray, np.ndarray], np.ndarray]]

    dst = operand_def(BufferType)
    lhs = operand_def(BufferType)
    rhs = operand_def(BufferType)

    traits = traits_def(BufferEffects())

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "lhs", "rhs")
    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("lhs", "rhs")

    def verify_(self) -> None:
        _, cols = self.check_tile("dst", self.dst)
        self.check_tile("lhs", self.lhs)
        self.check_same_shape("lhs", self.lhs, "dst", self.dst)
        if self.check_tile("rhs", self.rhs) != (1, cols):
            self.check_same_shape("rhs", self.rhs, "dst", self.dst)


@irdl_op_definition
class AddOp(BinaryOp):
    """dst = lhs + rhs   (V_ADD_VV)"""

    name = "tile.add"
    ARITHMETIC = staticmethod(np.add)


@irdl_op_definition
class SubOp(BinaryOp):
    """dst = lhs - rhs   (V_SUB_VV)"""

    name = "tile.sub"
    ARITHMETIC = staticmethod(np.subtract)


@irdl_op_definition
class MulOp(BinaryOp):
    """dst = lhs * rhs   (V_MUL_VV)"""

    name = "tile.mul"
    ARITHMETIC = staticmethod(np.multiply)


# ---------------------------------------------------------------------------------------------
# element-wise: one tile
# ---------------------------------------------------------------------------------------------


class UnaryOp(OperandListSyntax, ABC):
    """dst[r, c] = f(src[r, c])"""

    ARITHMETIC: ClassVar[Callable[[np.ndarray], np.ndarray]]

    dst = operand_def(BufferType)
    src = operand_def(BufferType)

    traits = traits_def(BufferEffects())

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src")
    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("src",)

    def verify_(self) -> None:
        self.check_tile("dst", self.dst)
        self.check_tile("src", self.src)
        self.check_same_shape("src", self.src, "dst", self.dst)


@irdl_op_definition
class ExpOp(UnaryOp):
    """dst = exp(src)   (V_EXP_V; no clamp: overflow gives inf)"""

    name = "tile.exp"
    ARITHMETIC = staticmethod(np.exp)


@irdl_op_definition
class ReciOp(UnaryOp):
    """dst = 1 / src   (V_RECI_V; 1/0 = inf)"""

    name = "tile.reci"
    ARITHMETIC = staticmethod(np.reciprocal)


# ---------------------------------------------------------------------------------------------
# tile (op) scalar, the scalar per row
# ---------------------------------------------------------------------------------------------


class ScalarOp(OperandListSyntax, ABC):
    """dst[r, c] = src[r, c] (op) s[r], the row-broadcast form.

    The scalar operand is an FPRAM buffer with one entry per row (s[r] = scalar[r]), or one
    scalar for every row: an FPRAM buffer of one entry, one element `%buf[%i]`, or an f32
    value (a constant or a scalar kernel argument).
    """

    ARITHMETIC: ClassVar[Callable[[np.ndarray, np.ndarray], np.ndarray]]

    dst = operand_def(BufferType)
    src = operand_def(BufferType)
    scalar = operand_def(BufferType | Float32Type)
    scalar_index = opt_operand_def(IndexType)

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(BufferEffects())

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src", "scalar")
    INDEXED: ClassVar[frozenset[str]] = frozenset({"scalar"})
    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)
    READ: ClassVar[tuple[str, ...]] = ("src", "scalar")

    def verify_(self) -> None:
        rows, _ = self.check_tile("dst", self.dst)
        self.check_tile("src", self.src)
        self.check_same_shape("src", self.src, "dst", self.dst)
        count = self.scalar_count("scalar", self.scalar, self.scalar_index)
        if count not in (None, 1, rows):
            raise self.fail(
                f"the scalar operand has {count} entries but dst has {rows} rows: give one "
                "scalar per row or one for all rows"
            )


@irdl_op_definition
class AddScalarOp(ScalarOp):
    """dst[r, :] = src[r, :] + s[r]   (V_ADD_VF)"""

    name = "tile.add_scalar"
    ARITHMETIC = staticmethod(np.add)


@irdl_op_definition
class SubScalarOp(ScalarOp):
    """dst[r, :] = src[r, :] - s[r]   (V_SUB_VF)"""

    name = "tile.sub_scalar"
    ARITHMETIC = staticmethod(np.subtract)


@irdl_op_definition
class RsubScalarOp(ScalarOp):
    """dst[r, :] = s[r] - src[r, :]   (V_SUB_VF, reversed)"""

    name = "tile.rsub_scalar"

    @staticmethod
    def ARITHMETIC(src: np.ndarray, scalar: np.ndarray) -> np.ndarray:
        return scalar - src


@irdl_op_definition
class MulScalarOp(ScalarOp):
    """dst[r, :] = src[r, :] * s[r]   (V_MUL_VF)"""

    name = "tile.mul_scalar"
    ARITHMETIC = staticmethod(np.multiply)


# ---------------------------------------------------------------------------------------------
# row reductions into FPRAM
# ---------------------------------------------------------------------------------------------


class ReduceOp(OperandListSyntax, ABC):
    """acc[r] = reduce(src[r, :]), or with `accumulate` acc[r] = reduce(acc[r], src[r, :]).

    `acc` is an FPRAM buffer with one entry per row of src, or one element `%buf[%i]` when
    src has one row.  Without `accumulate` the old value of acc is not read.
    """

    ARITHMETIC: ClassVar[np.ufunc]

    acc = operand_def(BufferType)
    acc_index = opt_operand_def(IndexType)
    src = operand_def(BufferType)
    accumulate = opt_prop_def(UnitAttr)

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(BufferEffects())

    OPERANDS: ClassVar[tuple[str, ...]] = ("acc", "src")
    INDEXED: ClassVar[frozenset[str]] = frozenset({"acc"})
    FLAGS: ClassVar[tuple[str, ...]] = ("accumulate",)
    WRITTEN: ClassVar[tuple[str, ...]] = ("acc",)

    @property
    def READ(self) -> tuple[str, ...]:
        return ("acc", "src") if self.accumulate is not None else ("src",)

    def verify_(self) -> None:
        rows, _ = self.check_tile("src", self.src)
        count = self.scalar_count("acc", self.acc, self.acc_index)
        expected = 1 if count is None else count
        if expected != rows:
            entries = "one element" if count is None else f"{count} entries"
            raise self.fail(
                f"acc has {entries} but src has {rows} rows: acc needs one entry per row"
            )


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    """acc[r] = max(src[r, :])   or   max(acc[r], max(src[r, :]))   (V_RED_MAX)"""

    name = "tile.reduce_max"
    ARITHMETIC = staticmethod(np.maximum)


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    """acc[r] = sum(src[r, :])   or   acc[r] + sum(src[r, :])   (V_RED_SUM)"""

    name = "tile.reduce_sum"
    ARITHMETIC = staticmethod(np.add)


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
    ReduceMaxOp,
    ReduceSumOp,
)
