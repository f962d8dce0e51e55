"""arith.remui / arith.remsi of an index by a positive constant, on a machine without an integer
divide (S_DIV_INT / S_REM_INT are not in plena-tvm's assembler):

    x % c  ->  q = (x * m) >> k       S_MUL_INT, S_SRL_INT   (q = x // c)
               x - q * c              S_MUL_INT, S_SUB_INT

with m = ceil(2^k / c) for the smallest k that makes q exact for every value 0 .. x_max the
index takes (`IndexRanges`: a grid index or a loop index, so a small bound) without x * m
overflowing 32 bits.  plena-optimize-scalar folds the multiplications and shift by powers of
two into shifts.  x must be known non-negative (an unbounded or possibly negative x is a
diagnostic), so remui and remsi agree.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.index_ranges import Unbounded, describe_index
from plena_mlir.dialects.plena.scalar_int_ops import S_SrlIntOp, S_SubIntOp
from plena_mlir.lowering.emitter import Emitter

U32 = 1 << 32


def reciprocal(divisor: int, largest: int) -> tuple[int, int] | None:
    """(m, k) with (x * m) >> k == x // divisor and x * m < 2^32 for every x in 0 .. largest,
    or None when no shift k < 32 gives one.  With m = ceil(2^k / c) = (2^k + e) / c, 0 <= e < c,
    x * m / 2^k = x / c + x * e / (c * 2^k): exact below the next multiple of c when
    largest * e < 2^k."""
    for k in range(32):
        m = -(-(1 << k) // divisor)
        if largest * m >= U32:
            return None
        if largest * (m * divisor - (1 << k)) < (1 << k):
            return m, k
    return None


def lower_remainder(
    emitter: Emitter,
    op: arith.RemUIOp | arith.RemSIOp,
    x: SSAValue,
    x_range: Unbounded | tuple[int, int],
) -> SSAValue:
    """The register holding op's result, x % c, x the register of op.lhs ranging over
    `x_range` (lo, hi) (module docstring)."""
    rhs = op.rhs.owner
    divisor = rhs.value.value.data if isinstance(rhs, arith.ConstantOp) else None
    where = f"convert-lane-to-plena: {op.name} {describe_index(op.lhs)}, {describe_index(op.rhs)}"
    if not isinstance(divisor, int) or divisor <= 0:
        raise DiagnosticException(f"{where}: the divisor must be a positive constant")
    if isinstance(x_range, Unbounded):
        raise DiagnosticException(f"{where}: the dividend cannot be bounded: {x_range.reason}")
    lo, hi = x_range
    if lo < 0:
        raise DiagnosticException(f"{where}: the dividend may be negative ({lo})")
    magic = reciprocal(divisor, hi)
    if magic is None:
        raise DiagnosticException(
            f"{where}: no 32-bit multiply-and-shift divides 0 .. {hi} by {divisor}"
        )
    m, k = magic
    quotient = emitter.value(S_SrlIntOp(emitter.mul(x, emitter.const(m)), emitter.const(k)))
    return emitter.value(S_SubIntOp(x, emitter.mul(quotient, emitter.const(divisor))))
