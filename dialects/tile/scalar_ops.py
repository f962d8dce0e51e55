"""Scalar FP ops on FPRAM: one element, or element by element over a rank-1 FPRAM buffer.

    tile.fp_mul %inv, %inv, %l : !tile.buffer<64xf32, fpram>           // inv[i] = inv[i] * l[i]
    tile.fp_add %s[%i], %s[%i], %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
    tile.fp_sqrt %s, %s : !tile.buffer<64xf32, fpram>

Each operand is a whole rank-1 FPRAM buffer, one element of one (`%buf[%i]`), or, for a
source, an f32 value (a constant or a scalar kernel argument).  A whole-buffer destination
makes the op element-wise over its entries; whole-buffer sources must have as many entries,
single-element and f32 sources are used for every entry.  A one-element destination takes
single-element or f32 sources.  The machine runs one S_*_FP per entry (FPRAM has no vector
form); S_MAX_FP ignores NaN, like `fp_max` here.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from plena_mlir.dialects.tile.base import BufferEffects, OperandListSyntax
from plena_mlir.dialects.tile.types import BufferType
from xdsl.dialects.builtin import Float32Type, IndexType
from xdsl.irdl import (
    AttrSizedOperandSegments,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    traits_def,
)


class FpOp(OperandListSyntax, ABC):
    """A scalar FP op: dst[i] = f(sources[i]) for each entry i of dst."""

    ARITHMETIC: ClassVar[Callable[..., np.ndarray]]

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(BufferEffects())

    WRITTEN: ClassVar[tuple[str, ...]] = ("dst",)

    def verify_(self) -> None:
        if isinstance(self.dst.type, Float32Type):
            raise self.fail("dst must be an fpram buffer, got f32 (an SSA value is read-only)")
        entries = self.scalar_count("dst", self.dst, self.dst_index)
        for role in self.READ:
            count = self.scalar_count(role, getattr(self, role), getattr(self, f"{role}_index"))
            if count is None:
                continue
            if entries is None:
                raise self.fail(
                    f"dst is one element but {role} has {count} entries: index {role} too"
                )
            if count != entries:
                raise self.fail(f"{role} has {count} entries but dst has {entries}")


class FpBinaryOp(FpOp, ABC):
    """dst[i] = lhs[i] (op) rhs[i]"""

    dst = operand_def(BufferType | Float32Type)
    dst_index = opt_operand_def(IndexType)
    lhs = operand_def(BufferType | Float32Type)
    lhs_index = opt_operand_def(IndexType)
    rhs = operand_def(BufferType | Float32Type)
    rhs_index = opt_operand_def(IndexType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "lhs", "rhs")
    INDEXED: ClassVar[frozenset[str]] = frozenset(OPERANDS)
    READ: ClassVar[tuple[str, ...]] = ("lhs", "rhs")


class FpUnaryOp(FpOp, ABC):
    """dst[i] = f(src[i])"""

    dst = operand_def(BufferType | Float32Type)
    dst_index = opt_operand_def(IndexType)
    src = operand_def(BufferType | Float32Type)
    src_index = opt_operand_def(IndexType)

    OPERANDS: ClassVar[tuple[str, ...]] = ("dst", "src")
    INDEXED: ClassVar[frozenset[str]] = frozenset(OPERANDS)
    READ: ClassVar[tuple[str, ...]] = ("src",)


@irdl_op_definition
class FpAddOp(FpBinaryOp):
    """dst = lhs + rhs   (S_ADD_FP)"""

    name = "tile.fp_add"
    ARITHMETIC = staticmethod(np.add)


@irdl_op_definition
class FpSubOp(FpBinaryOp):
    """dst = lhs - rhs   (S_SUB_FP)"""

    name = "tile.fp_sub"
    ARITHMETIC = staticmethod(np.subtract)


@irdl_op_definition
class FpMulOp(FpBinaryOp):
    """dst = lhs * rhs   (S_MUL_FP)"""

    name = "tile.fp_mul"
    ARITHMETIC = staticmethod(np.multiply)


@irdl_op_definition
class FpMaxOp(FpBinaryOp):
    """dst = max(lhs, rhs), a NaN operand ignored   (S_MAX_FP)"""

    name = "tile.fp_max"
    ARITHMETIC = staticmethod(np.fmax)


@irdl_op_definition
class FpExpOp(FpUnaryOp):
    """dst = exp(src)   (S_EXP_FP)"""

    name = "tile.fp_exp"
    ARITHMETIC = staticmethod(np.exp)


@irdl_op_definition
class FpReciOp(FpUnaryOp):
    """dst = 1 / src   (S_RECI_FP)"""

    name = "tile.fp_reci"
    ARITHMETIC = staticmethod(np.reciprocal)


@irdl_op_definition
class FpSqrtOp(FpUnaryOp):
    """dst = sqrt(src)   (S_SQRT_FP; a negative src gives NaN)"""

    name = "tile.fp_sqrt"
    ARITHMETIC = staticmethod(np.sqrt)


SCALAR_OPS = (FpAddOp, FpSubOp, FpMulOp, FpMaxOp, FpExpOp, FpReciOp, FpSqrtOp)
