"""xDSL interpreter functions for the `lane` ops: each op's NumPy meaning, lane by lane.

A lane buffer is a NumPy array of its logical shape, the lane dimension first (`buf[l]` is
lane l, the buffer one head would have had); a flat buffer has no lane dimension and is the
same for every lane.  The layout only says where the machine keeps the elements, so it does
not change the meaning.  Every op applies the arithmetic of the `tile` op it mirrors
(`TILE_OP.ARITHMETIC`) under the interpreter's `Numerics`, as the `tile` interpreter does:

    multi-lane op:   for l < L:  dst[l] = tile_op(operands[l])       (all lanes at once)
    per-lane op:     dst[l] = tile_op(operands[l])   for the lane l its `lane` operand names
    lane.for_lanes:  for l < L:  body(l)

Masked (col_pack) per-lane ops are in place (the verifier requires it), so writing lane l
alone is what the machine leaves in the buffer.  Faults a program could hit at run time (a
dynamic offset or head out of bounds) raise `InterpretationError` naming the op.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects import tile
from plena_mlir.dialects.lane import (
    LANE_OPS,
    AllocOp,
    CopyOp,
    FillOp,
    ForLanesOp,
    GemmOp,
    LaneBufferType,
)
from plena_mlir.dialects.lane.matrix_ops import BatchedOp
from plena_mlir.dialects.lane.row_ops import RowReduceOp, RowScalarOp
from plena_mlir.dialects.lane.scalar_ops import FpOp
from plena_mlir.dialects.lane.vector_ops import BinaryOp, ScalarOp, UnaryOp
from plena_mlir.dialects.tile.memory_ops import default_sizes
from plena_mlir.dialects.tile.types import MemorySpace, format_shape
from plena_mlir.gemm.choice import lane_gemm_form
from plena_mlir.gemm.forms import Form
from plena_mlir.gemm.results import gemm_result, lane_scores
from plena_mlir.interp.families import register_op_families
from plena_mlir.interp.tile_functions import (
    interpretation_fault,
    operand_values,
    single_rounding_gemm,
)
from plena_mlir.memory.staging import is_replicated
from plena_mlir.numerics.rounding import Numerics, Place
from plena_mlir.target import Target


def _machine_form(op: GemmOp, target: Target) -> Form | None:
    """The form the compiled program computes `op` with (None: no form computes it)."""
    try:
        return lane_gemm_form(op, target)
    except DiagnosticException:
        return None


def _place(value: SSAValue) -> Place:
    return value.type.space if isinstance(value.type, LaneBufferType) else "hbm"


def _lane_of(value: SSAValue, array: np.ndarray, lane: int) -> np.ndarray:
    """Lane `lane` of a lane-laid buffer (a view); a flat buffer is every lane's."""
    assert isinstance(value.type, LaneBufferType)
    return array[lane] if value.type.layout.has_lanes else array


class LaneFunctions(InterpreterFunctions):
    """The `lane` ops under one `Numerics` (the family implementations are attached to every
    concrete op and registered with `register_impls` below)."""

    def __init__(self, numerics: Numerics | None = None):
        super().__init__()
        self.numerics = numerics or Numerics()

    # operand helpers ------------------------------------------------------------------------
    def _operand(self, value: SSAValue, python_value: Any, lane: int | None) -> Any:
        """A buffer operand for `lane` (None: all lanes, the whole array), or an f32 value as
        the machine holds it (the FP format)."""
        if not isinstance(value.type, LaneBufferType):
            return self.numerics.fp(python_value)
        return python_value if lane is None else _lane_of(value, python_value, lane)

    def _store(self, op: CopyOp, place: Place, x: np.ndarray) -> np.ndarray:
        try:
            return self.numerics.store(place, x)
        except ValueError as e:
            raise interpretation_fault(op, str(e)) from None

    # the loop over lanes --------------------------------------------------------------------
    @impl(ForLanesOp)
    def run_for_lanes(self, interpreter: Interpreter, op: ForLanesOp, args: PythonValues):
        for lane in range(op.count.value.data):
            interpreter.run_ssacfg_region(op.body, (lane,), f"lane.for_lanes({lane})")
        return ()

    # memory ---------------------------------------------------------------------------------
    @impl(AllocOp)
    def run_alloc(self, interpreter: Interpreter, op: AllocOp, args: PythonValues):
        """A new buffer of the logical shape, NaN (undefined) until written."""
        return (np.full(op.result.type.get_shape(), np.nan, dtype=self.numerics.dtype),)

    @impl(FillOp)
    def run_fill(self, interpreter: Interpreter, op: FillOp, args: PythonValues):
        dst, value = args
        dst[...] = self.numerics.store(op.dst.type.space, self.numerics.fp(value))
        return ()

    @impl(CopyOp)
    def run_copy(self, interpreter: Interpreter, op: CopyOp, args: PythonValues):
        """Between lane buffers: lane l's elements in row-major order (the lane dimension is
        first, so that is the whole array reshaped).  With HBM: lane l's region of the tensor
        (head h0 + l in the `lanes` dimension), or one region for a flat buffer."""
        values = operand_values(op, args)
        side = op.tensor_side
        dst = values[op.dst]
        if side is None:
            dst[...] = self._store(op, _place(op.dst), values[op.src].reshape(dst.shape))
            return ()
        other = op.dst if side == "src" else op.src
        buf = values[other]
        for lane, region in self._hbm_regions(op, values, values[getattr(op, side)]):
            if side == "src":
                target = _lane_of(other, buf, lane)
                loaded = self._store(op, _place(other), region.reshape(target.shape))
                if is_replicated(op):  # through FPRAM (fp16) and back
                    loaded = self._store(op, _place(other), self.numerics.fp(loaded))
                target[...] = loaded
            else:
                source = _lane_of(other, buf, lane)
                region[...] = self._store(op, "hbm", source.reshape(region.shape))
        return ()

    def _hbm_regions(
        self, op: CopyOp, values: dict[SSAValue, Any], tensor: np.ndarray
    ) -> list[tuple[int, np.ndarray]]:
        """(lane, view of the tensor region that lane moves): every lane of a lane-laid
        buffer (the same region for each in a broadcast copy), or lane 0 alone for a flat
        one."""
        buffer_type = (op.dst if op.tensor_side == "src" else op.src).type
        assert isinstance(buffer_type, LaneBufferType)
        offsets = [o if isinstance(o, int) else values[o] for o in op.offsets()]
        lane_dim = op.lane_dimension
        every = range(buffer_type.lanes)  # the lanes one region goes to (flat: lane 0)
        if not offsets:
            return [(lane, tensor) for lane in every]
        other_dims = [d for d in range(tensor.ndim) if d != lane_dim]
        sizes = default_sizes(buffer_type.lane_shape, len(other_dims))
        assert sizes is not None  # the verifier checked that a lane fits the tensor
        index: list[slice | int] = [0] * tensor.ndim
        for dim, size in zip(other_dims, sizes, strict=True):
            start = offsets[dim]
            if not (0 <= start and start + size <= tensor.shape[dim]):
                raise interpretation_fault(
                    op,
                    f"offset {start} + size {size} is out of bounds for dimension {dim} of "
                    f"the HBM side ({format_shape(tensor.shape)})",
                )
            index[dim] = slice(start, start + size)
        if lane_dim is None:
            return [(lane, tensor[tuple(index)]) for lane in every]
        first, lanes = offsets[lane_dim], buffer_type.lanes
        if not (0 <= first and first + lanes <= tensor.shape[lane_dim]):
            raise interpretation_fault(
                op,
                f"heads {first} .. {first + lanes - 1} are out of bounds for the "
                f"{tensor.shape[lane_dim]} heads of dimension {lane_dim}",
            )
        regions = []
        for lane in range(lanes):
            index[lane_dim] = first + lane
            regions.append((lane, tensor[tuple(index)]))
        return regions

    # matrix ---------------------------------------------------------------------------------
    def run_batched(self, interpreter: Interpreter, op: BatchedOp, args: PythonValues):
        """dst[l, q, j] = bf16(sum over d of q[l, q, d] * k[l, j, d]): exact sums, or in rounded
        mode the f32 accumulator's sums in the machine's order (`lane_scores`), rounded to bf16
        by the write-out to VRAM."""
        dst, q, k = args
        numerics = self.numerics
        if numerics.rounded:  # summed in the f32 accumulator as M_BTMM / M_BTMV do
            products = lane_scores(q, k, q.shape[1], numerics.target)
        else:
            products = np.einsum("lqd,ljd->lqj", q.astype(np.float64), k.astype(np.float64))
        dst[...] = numerics.store(MemorySpace.VRAM, products)
        return ()

    @impl(GemmOp)
    def run_gemm(self, interpreter: Interpreter, op: GemmOp, args: PythonValues):
        """c[l] (+)= a[l] · b[l] for the lane l.  Exact mode: the exact product.  Rounded
        mode: what the lane's instruction form leaves in C (`gemm_result`), the form its
        `via` names or, with none recorded, the one plena-select-gemm chooses
        (`lane_gemm_form`); a gemm no form computes (compilation rejects it, e.g. a col_pack
        A) is rounded once, as the M_MM family does."""
        values = operand_values(op, args)
        lane = values[op.lane]
        c, a, b = (_lane_of(v, values[v], lane) for v in (op.c, op.a, op.b))
        accumulate = op.accumulate is not None
        numerics = self.numerics
        form = _machine_form(op, numerics.target) if numerics.rounded else None
        if form is None:
            c[...] = single_rounding_gemm(numerics, op.einsum, c, a, b, accumulate)
            return ()
        transposed_b = op.b_roles.data == "nk"
        c[...] = gemm_result(form, a, b, transposed_b, numerics.target, c if accumulate else None)
        return ()

    # whole-tile vector ops (multi-lane) -----------------------------------------------------
    def run_binary(self, interpreter: Interpreter, op: BinaryOp, args: PythonValues):
        dst, lhs, rhs = args
        dst[...] = self.numerics.store(MemorySpace.VRAM, op.TILE_OP.ARITHMETIC(lhs, rhs))
        return ()

    def run_unary(self, interpreter: Interpreter, op: UnaryOp, args: PythonValues):
        dst, src = args
        dst[...] = self.numerics.store(MemorySpace.VRAM, op.TILE_OP.ARITHMETIC(src))
        return ()

    def run_scalar(self, interpreter: Interpreter, op: ScalarOp, args: PythonValues):
        """The scalars (f32, or a flat buffer: one per row or one) are the same every lane."""
        values = operand_values(op, args)
        self._vector_scalar(op, values, None)
        return ()

    def _vector_scalar(
        self, op: ScalarOp | RowScalarOp, values: dict[SSAValue, Any], lane: int | None
    ) -> None:
        """dst[.., r, :] = src[.., r, :] (op) s[r] over `lane` (None: all lanes)."""
        scalar = self._operand(op.scalar, values[op.scalar], lane)
        if np.ndim(scalar) == 1:
            scalar = scalar[:, None]  # one per row (or a single entry for all rows)
        src = self._operand(op.src, values[op.src], lane)
        dst = self._operand(op.dst, values[op.dst], lane)
        dst[...] = self.numerics.store(MemorySpace.VRAM, op.TILE_OP.ARITHMETIC(src, scalar))

    # per-lane row ops -----------------------------------------------------------------------
    def run_row_scalar(self, interpreter: Interpreter, op: RowScalarOp, args: PythonValues):
        values = operand_values(op, args)
        self._vector_scalar(op, values, values[op.lane])
        return ()

    def run_row_reduce(self, interpreter: Interpreter, op: RowReduceOp, args: PythonValues):
        """An initialising reduction starts from the identity (0 or -inf), not from acc."""
        values = operand_values(op, args)
        lane = values[op.lane]
        acc = _lane_of(op.acc, values[op.acc], lane)
        if op.accumulate is not None:
            start = acc
        else:
            start = 0.0 if op.TILE_OP is tile.ReduceSumOp else -np.inf
        src = _lane_of(op.src, values[op.src], lane)
        acc[...] = self.numerics.reduce_rows(op.TILE_OP.ARITHMETIC, src, start)
        return ()

    # per-lane FPRAM scalar ops --------------------------------------------------------------
    def run_fp(self, interpreter: Interpreter, op: FpOp, args: PythonValues):
        """dst[l, i] = f(sources[l, i]); a single value (f32, one-entry flat) for every i."""
        values = operand_values(op, args)
        lane = values[op.lane]
        sources = [
            self._operand(getattr(op, role), values[getattr(op, role)], lane) for role in op.READ
        ]
        dst = _lane_of(op.dst, values[op.dst], lane)
        dst[...] = self.numerics.fp(op.TILE_OP.ARITHMETIC(*sources))
        return ()


register_op_families(
    LaneFunctions,
    LANE_OPS,
    (
        (BatchedOp, LaneFunctions.run_batched),
        (BinaryOp, LaneFunctions.run_binary),
        (UnaryOp, LaneFunctions.run_unary),
        (ScalarOp, LaneFunctions.run_scalar),
        (RowScalarOp, LaneFunctions.run_row_scalar),
        (RowReduceOp, LaneFunctions.run_row_reduce),
        (FpOp, LaneFunctions.run_fp),
    ),
)
