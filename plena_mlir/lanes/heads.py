"""The head index of a lane kernel: where it may be used and which HBM accesses it selects.

A kernel author writes one head per program instance; the head (lane) axis index `%h` may
only choose *which head* an HBM copy moves, in the tensor's head dimension (BSHD: dimension
2 of `[B, S, H, D]`, dimension 1 of `[S, H, D]`), through one of these expressions:

    %h                 head h
    %h + c             head h + c (an offset into a wider tensor; c a constant)
    %h % c             a GQA kv head; c a constant multiple of L

Each is *lane-contiguous*: the L heads of the group g, h = g*L + l, land on L consecutive
heads first(g) + l, where first(g) is the expression evaluated at h = g*L.  So lane expansion
replaces `%h` by `g*L` and every such offset becomes the `lanes` offset of one multi-lane copy.

Anything else is an error naming the op: the head index in another dimension (e.g. a
column offset `%h * 16` into a 2-D tensor: declare the tensor with a head dimension), in an
on-chip offset or element index, in a loop bound, or in an expression not of those forms.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.tile import CopyOp, KernelOp, TensorType
from plena_mlir.ir.naming import describe_op

#: arith ops whose result depends on the head index when an operand does.
_INDEX_OPS = (
    arith.AddiOp,
    arith.SubiOp,
    arith.MuliOp,
    arith.RemUIOp,
    arith.RemSIOp,
    arith.DivUIOp,
    arith.DivSIOp,
    arith.FloorDivSIOp,
    arith.CeilDivSIOp,
    arith.CeilDivUIOp,
    arith.IndexCastOp,
)


def head_dimension(tensor: TensorType) -> int | None:
    """The head dimension H of a BSHD tensor: 2 of [B, S, H, D], 1 of [S, H, D]; None for a
    tensor of rank < 3, which has none."""
    rank = len(tensor.get_shape())
    return rank - 2 if rank >= 3 else None


@dataclass(frozen=True)
class HeadCopy:
    """A tile.copy whose HBM `side` ("src" or "dst") selects its head through the head index,
    in dimension `dim`."""

    copy: CopyOp
    side: str
    dim: int


def _constant(value: SSAValue) -> int | None:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def _head_expression_error(value: SSAValue, head: SSAValue, lanes: int) -> str | None:
    """Why `value` is not a lane-contiguous head expression of `head` (None when it is)."""
    if value is head:
        return None
    owner = value.owner
    if isinstance(owner, arith.AddiOp):
        lhs, rhs = owner.lhs, owner.rhs
        for term, offset in ((lhs, rhs), (rhs, lhs)):
            if _constant(offset) is not None:
                return _head_expression_error(term, head, lanes)
        return "a head offset must add a constant (`%h + c`)"
    if isinstance(owner, arith.RemUIOp | arith.RemSIOp):
        divisor = _constant(owner.rhs)
        if divisor is None or divisor % lanes:
            return (
                f"a GQA head `%h % c` needs a constant c that is a multiple of the {lanes} "
                "lanes (so the heads of a lane group stay consecutive)"
            )
        inner = owner.lhs
        if inner is not head:
            return f"only the head index itself can be taken modulo c (`%h % {divisor}`)"
        return None
    name = owner.name if isinstance(owner, Operation) else "a block argument"
    return (
        f"the head offset is computed by {name}: only `%h`, `%h + c` and `%h % c` (GQA) "
        "select a head"
    )


def head_copies(kernel: KernelOp, head: SSAValue, lanes: int) -> list[HeadCopy]:
    """Every copy whose HBM head dimension the head index selects; a DiagnosticException for
    any other use of the head index (module docstring)."""
    dependent: set[SSAValue] = {head}
    found: list[HeadCopy] = []
    kernel_name = f"@{kernel.sym_name.data}"
    for op in kernel.body.walk():
        uses = [v for v in op.operands if v in dependent]
        if not uses:
            continue
        if isinstance(op, _INDEX_OPS):
            dependent.update(op.results)
            continue
        if not isinstance(op, CopyOp):
            raise DiagnosticException(
                f"plena-expand-lanes: {describe_op(op)} uses the head index %{kernel.lane} of "
                f"tile.kernel {kernel_name}: the head index may only select the head of an HBM "
                "copy (its head dimension), since the lanes of a group run as one program"
            )
        found.append(_head_copy(kernel, op, head, dependent, lanes))
    return found


def _head_copy(
    kernel: KernelOp, copy: CopyOp, head: SSAValue, dependent: set[SSAValue], lanes: int
) -> HeadCopy:
    where = f"{describe_op(copy)}"
    for side in ("src", "dst"):
        offsets = copy.offsets(side)
        positions = [d for d, o in enumerate(offsets) if isinstance(o, SSAValue) and o in dependent]
        if not positions:
            continue
        typ = getattr(copy, side).type
        if not isinstance(typ, TensorType):
            raise DiagnosticException(
                f"plena-expand-lanes: {where}: the head index %{kernel.lane} is used in an "
                f"offset of the on-chip {side}; it may only select the head of an HBM tensor"
            )
        dim = head_dimension(typ)
        wrong = [d for d in positions if d != dim]
        if wrong:
            shape = "x".join(map(str, typ.get_shape()))
            raise DiagnosticException(
                f"plena-expand-lanes: {where}: the head index %{kernel.lane} is used in "
                f"dimension {wrong[0]} of the HBM {side} ({shape}), which is not a head "
                "dimension: declare the tensor with a head dimension, [S, H, D] or "
                "[B, S, H, D] (the same bytes), and select the head there"
            )
        error = _head_expression_error(offsets[dim], head, lanes)
        if error is not None:
            raise DiagnosticException(f"plena-expand-lanes: {where}: {error}")
        return HeadCopy(copy, side, dim)
    raise AssertionError("a copy using the head index has a dependent offset")
