"""xDSL interpreter functions for the `tile` ops: each op's NumPy meaning.

Python values: an HBM tensor or on-chip buffer is a NumPy array that ops update in place, an
index is an int, an f32 scalar a float.  The `Numerics` decide the dtype and the rounding at
every write (see numerics.py).  Faults a program could hit at run time (a dynamic offset or
index out of bounds) raise `InterpretationError` naming the op and the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import InterpretationError

from plena_mlir.dialects.tile import (
    TILE_OPS,
    AllocOp,
    BinaryOp,
    BufferType,
    CopyOp,
    FillOp,
    FpOp,
    GemmOp,
    KernelOp,
    MemorySpace,
    ReduceOp,
    ReduceSumOp,
    ScalarOp,
    UnaryOp,
    resolved_space,
)
from plena_mlir.dialects.tile.types import format_shape
from plena_mlir.gemm.choice import chosen_form, head_gemm_form
from plena_mlir.gemm.forms import (
    Form,
    GemmFormError,
    GemmShape,
    parse_roles,
    select_form,
)
from plena_mlir.gemm.results import gemm_result, lane_scores
from plena_mlir.interp.families import register_op_families
from plena_mlir.lanes.expansion import narrow_buffer
from plena_mlir.numerics.rounding import Numerics, Place
from plena_mlir.target import Target


def single_rounding_gemm(
    numerics: Numerics, einsum: str, c: np.ndarray, a: np.ndarray, b: np.ndarray, accumulate: bool
) -> np.ndarray:
    """C after a gemm of the M_MM family: the product accumulated (f32) and written to VRAM
    once; with `accumulate`, added to C like a V_ADD_VV."""
    product = numerics.store(
        MemorySpace.VRAM,
        numerics.accumulate(np.einsum(einsum, a.astype(np.float64), b.astype(np.float64))),
    )
    return numerics.store(MemorySpace.VRAM, c + product) if accumulate else product


def _packs_lanes(op: GemmOp, target: Target) -> bool:
    """Whether `op` is one head's gemm in a kernel plena-expand-lanes packs into lanes (a lane
    axis and a VRAM / MRAM buffer narrower than MLEN)."""
    kernel = op.parent_op()
    while kernel is not None and not isinstance(kernel, KernelOp):
        kernel = kernel.parent_op()
    if kernel is None or kernel.lane is None:
        return False
    return narrow_buffer(kernel, target) is not None


def _machine_form(op: GemmOp, c_shape: tuple[int, ...], k: int, numerics: Numerics) -> Form | None:
    """The instruction form the compiled program computes `op` with; None when it rounds the
    f32 product once without one (a head's Q·Kᵀ as a lane of lane.btmm / lane.btmv) or when
    no form computes `op` (compilation rejects it)."""
    target = numerics.target
    if _packs_lanes(op, target):
        return head_gemm_form(op, target)
    if (form := chosen_form(op)) is not None:
        return form
    try:
        transposed_b = parse_roles(op.a_roles.data, op.b_roles.data, op.c_roles.data)
        shape = GemmShape(c_shape[0], c_shape[1], k, transposed_b, op.accumulate is not None)
        return select_form(shape, target)[0].form
    except GemmFormError:
        return None


def operand_values(op: Operation, args: PythonValues) -> dict[SSAValue, Any]:
    """Operand -> its Python value."""
    return dict(zip(op.operands, args, strict=True))


def interpretation_fault(op: Operation, reason: str) -> InterpretationError:
    return InterpretationError(f"{op.name}: {reason}")


def _element(
    op: Operation, values: dict[SSAValue, Any], role: str, buffer: SSAValue, index: SSAValue
) -> int:
    """The value of `index`, checked against the length of the rank-1 `buffer`."""
    i = values[index]
    if not 0 <= i < values[buffer].shape[0]:
        raise interpretation_fault(op, f"index {i} of {role} is out of bounds for {buffer.type}")
    return i


def _place(value: SSAValue) -> Place:
    return resolved_space(value) if isinstance(value.type, BufferType) else "hbm"


class TileFunctions(InterpreterFunctions):
    """The `tile` ops under one `Numerics` (registered with `register_impls` below, once the
    op families' implementations are attached to every op of the family)."""

    def __init__(self, numerics: Numerics | None = None):
        super().__init__()
        self.numerics = numerics or Numerics()

    # operand helpers ------------------------------------------------------------------------
    def _scalar(
        self,
        op: Operation,
        values: dict[SSAValue, Any],
        role: str,
        value: SSAValue,
        index: SSAValue | None,
    ) -> Any:
        """An FPRAM scalar operand: a vector (whole buffer) or one scalar (an element, or an
        f32 value, rounded to the FP format as the machine holds it)."""
        if not isinstance(value.type, BufferType):
            return self.numerics.fp(values[value])
        buffer = values[value]
        if index is None:
            return buffer
        return buffer[_element(op, values, role, value, index)]

    # memory ---------------------------------------------------------------------------------
    @impl(AllocOp)
    def run_alloc(self, interpreter: Interpreter, op: AllocOp, args: PythonValues):
        return (np.full(op.result.type.get_shape(), np.nan, dtype=self.numerics.dtype),)

    @impl(CopyOp)
    def run_copy(self, interpreter: Interpreter, op: CopyOp, args: PythonValues):
        values = operand_values(op, args)
        src = self._region(op, values, "src")
        dst = self._region(op, values, "dst")
        dst[...] = self._store(op, _place(op.dst), src.reshape(dst.shape))
        return ()

    def _region(self, op: CopyOp, values: dict[SSAValue, Any], side: str) -> np.ndarray:
        """The part of `side` a copy covers, as a NumPy view."""
        array = values[getattr(op, side)]
        if not op.is_sliced(side):
            return array
        extent = op.extent(side)
        assert extent is not None
        region = []
        for dim, (offset, size) in enumerate(zip(op.offsets(side), extent, strict=True)):
            start = offset if isinstance(offset, int) else values[offset]
            if not (0 <= start and start + size <= array.shape[dim]):
                raise interpretation_fault(
                    op,
                    f"offset {start} + size {size} is out of bounds for dimension {dim} of "
                    f"{side} ({format_shape(array.shape)})",
                )
            region.append(slice(start, start + size))
        return array[tuple(region)]

    def _store(self, op: Operation, place: Place, x: np.ndarray) -> np.ndarray:
        try:
            return self.numerics.store(place, x)
        except ValueError as e:
            raise interpretation_fault(op, str(e)) from None

    @impl(FillOp)
    def run_fill(self, interpreter: Interpreter, op: FillOp, args: PythonValues):
        dst, value = args
        dst[...] = self.numerics.store(resolved_space(op.dst), self.numerics.fp(value))
        return ()

    # matrix ---------------------------------------------------------------------------------
    @impl(GemmOp)
    def run_gemm(self, interpreter: Interpreter, op: GemmOp, args: PythonValues):
        """Exact mode: the exact product.  Rounded mode: what the instruction form
        plena-select-gemm chooses (or recorded on the op) leaves in C (`gemm_result`: the
        f32 accumulator rounded once to bf16, or the lane-sum forms' bf16 lane partials
        summed in bf16); `+=` adds the written product to C like a V_ADD_VV."""
        c, a, b = args
        numerics = self.numerics
        form = _machine_form(op, c.shape, a.shape[1], numerics) if numerics.rounded else None
        if form is not None:
            transposed_b = op.b_roles.data == "nk"
            old = c if op.accumulate is not None else None
            c[...] = gemm_result(form, a, b, transposed_b, numerics.target, old)
            return ()
        if numerics.rounded and _packs_lanes(op, numerics.target) and op.einsum == "mk,nk->mn":
            # a head's Q·Kᵀ: its lane of lane.btmm / lane.btmv, summed as M_BTMM / M_BTMV do
            lanes = numerics.target.lanes
            q, keys = (np.repeat(x[None].astype(np.float32), lanes, 0) for x in (a, b))
            scores = lane_scores(q, keys, a.shape[0], numerics.target)[0]
            c[...] = numerics.store(MemorySpace.VRAM, scores)
            return ()
        c[...] = single_rounding_gemm(numerics, op.einsum, c, a, b, op.accumulate is not None)
        return ()

    # vector ---------------------------------------------------------------------------------
    def run_binary(self, interpreter: Interpreter, op: BinaryOp, args: PythonValues):
        dst, lhs, rhs = args
        dst[...] = self.numerics.store(MemorySpace.VRAM, op.ARITHMETIC(lhs, rhs))
        return ()

    def run_unary(self, interpreter: Interpreter, op: UnaryOp, args: PythonValues):
        dst, src = args
        dst[...] = self.numerics.store(MemorySpace.VRAM, op.ARITHMETIC(src))
        return ()

    def run_scalar(self, interpreter: Interpreter, op: ScalarOp, args: PythonValues):
        values = operand_values(op, args)
        scalar = self._scalar(op, values, "scalar", op.scalar, op.scalar_index)
        if np.ndim(scalar) == 1:
            scalar = scalar[:, None]  # one per row (or a single entry for all rows)
        src = values[op.src]
        values[op.dst][...] = self.numerics.store(MemorySpace.VRAM, op.ARITHMETIC(src, scalar))
        return ()

    def run_reduce(self, interpreter: Interpreter, op: ReduceOp, args: PythonValues):
        """An initialising reduction starts from the identity (0 or -inf), not from acc."""
        values = operand_values(op, args)
        src = values[op.src]
        if op.accumulate is not None:
            start = self._scalar(op, values, "acc", op.acc, op.acc_index)
        else:
            start = 0.0 if isinstance(op, ReduceSumOp) else -np.inf
        result = self.numerics.reduce_rows(op.ARITHMETIC, src, start)
        acc = values[op.acc]
        if op.acc_index is None:
            acc[...] = result
        else:
            acc[_element(op, values, "acc", op.acc, op.acc_index)] = result[0]
        return ()

    # scalar FP ------------------------------------------------------------------------------
    def run_fp(self, interpreter: Interpreter, op: FpOp, args: PythonValues):
        values = operand_values(op, args)
        sources = [
            self._scalar(op, values, role, getattr(op, role), getattr(op, f"{role}_index"))
            for role in op.READ
        ]
        result = self.numerics.fp(op.ARITHMETIC(*sources))
        dst = values[op.dst]
        if op.dst_index is None:
            dst[...] = result
        else:
            dst[_element(op, values, "dst", op.dst, op.dst_index)] = result
        return ()


register_op_families(
    TileFunctions,
    TILE_OPS,
    (
        (BinaryOp, TileFunctions.run_binary),
        (UnaryOp, TileFunctions.run_unary),
        (ScalarOp, TileFunctions.run_scalar),
        (ReduceOp, TileFunctions.run_reduce),
        (FpOp, TileFunctions.run_fp),
    ),
)
