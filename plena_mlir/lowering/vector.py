"""VRAM tile ops: element-wise, row-broadcast and row reductions.

A VRAM operand is walked by (base, row step, column block step) from `plena_mlir.layout`:
row r of column block b is at base + b*R*VLEN + r*VLEN (R = rows padded to BLEN).  A one-row
operand broadcast to every row (a bias) has row step 0.  Rows are the outer hardware loop,
column blocks the inner one:

    tile.add/sub/mul/exp/reci    V_*_VV / V_EXP_V / V_RECI_V per row and column block
    tile.*_scalar                S_LD_FP the row's scalar (once, before the loops, when it is
                                 one scalar for all rows), then V_*_VF per column block
    tile.reduce_max/sum          per row: seed the accumulator (S_LD_FP of acc[r] with
                                 `accumulate`, else of the pool constant -inf / 0.0), one
                                 V_RED_* per column block (it accumulates), S_ST_FP acc[r]
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import SSAValue

from plena_mlir.dialects.plena.vector_ops import (
    V_AddVfOp,
    V_AddVvOp,
    V_ExpVOp,
    V_MulVfOp,
    V_MulVvOp,
    V_ReciVOp,
    V_RedMaxOp,
    V_RedSumOp,
    V_SubVfOp,
    V_SubVvOp,
)
from plena_mlir.dialects.tile import (
    AddOp,
    AddScalarOp,
    ExpOp,
    MulOp,
    MulScalarOp,
    ReciOp,
    ReduceMaxOp,
    ReduceSumOp,
    RsubScalarOp,
    SubOp,
    SubScalarOp,
)
from plena_mlir.layout import VramLayout, buffer_layout
from plena_mlir.lowering.kernel import KernelLowering, buffer_type

_BINARY = {AddOp: V_AddVvOp, SubOp: V_SubVvOp, MulOp: V_MulVvOp}
_UNARY = {ExpOp: V_ExpVOp, ReciOp: V_ReciVOp}
_REDUCE = {ReduceMaxOp: (V_RedMaxOp, float("-inf")), ReduceSumOp: (V_RedSumOp, 0.0)}


def _scalar_instruction(op) -> Callable[[SSAValue, SSAValue, SSAValue], object]:
    if isinstance(op, AddScalarOp):
        return lambda d, s, f: V_AddVfOp(d, s, f, rmask=0)
    if isinstance(op, SubScalarOp | RsubScalarOp):
        reverse = int(isinstance(op, RsubScalarOp))
        return lambda d, s, f: V_SubVfOp(d, s, f, rmask=0, reverse=reverse)
    assert isinstance(op, MulScalarOp)
    return lambda d, s, f: V_MulVfOp(d, s, f, rmask=0)


VECTOR_OPS = (*_BINARY, *_UNARY, AddScalarOp, SubScalarOp, RsubScalarOp, MulScalarOp, *_REDUCE)


class _Walk:
    """The rows x column blocks of `dst` and the VRAM operands walked with it."""

    def __init__(self, lowering: KernelLowering, dst: SSAValue, operands: list[SSAValue]):
        self.lowering = lowering
        layout = self._layout(dst)
        self.rows, self.blocks = layout.rows, layout.column_blocks
        self.bases, self.row_steps, self.block_steps = [], [], []
        for value in operands:
            operand = self._layout(value)
            self.bases.append(lowering.buffer_address(value))
            self.row_steps.append(0 if operand.rows == 1 and self.rows > 1 else operand.vlen)
            self.block_steps.append(operand.column_block_offset(1) if self.blocks > 1 else 0)
        vlen = layout.vlen
        # every operand is rows x blocks with no padding rows: one run of VRAM rows
        self.contiguous = all(step == vlen for step in self.row_steps) and all(
            step in (0, self.rows * vlen) for step in self.block_steps
        )

    def _layout(self, value: SSAValue) -> VramLayout:
        layout = buffer_layout(buffer_type(value), self.lowering.target)
        assert isinstance(layout, VramLayout)
        return layout

    def _registers(self) -> list[SSAValue]:
        emitter = self.lowering.emitter
        return [emitter.const(base) for base in self.bases]

    def each_row(self, body: Callable[[list[SSAValue]], None]) -> None:
        """body(the addresses of one VLEN-wide row of every operand) for every row of every
        column block: one loop over all of them when the operands are contiguous, else
        column blocks outer and rows inner (a broadcast row stays put in the inner loop);
        the innermost loop runs `unroll_factor` copies of the body per iteration."""
        emitter = self.lowering.emitter
        if self.contiguous:
            count = self.rows * self.blocks
            steps = [self.row_steps[0]] * len(self.bases)
            unroll = self.lowering.unroll(count, len(set(self.bases)))
            emitter.strided_loop(count, self._registers(), steps, body, unroll)
            return
        emitter.strided_loop(
            self.blocks,
            self._registers(),
            self.block_steps,
            lambda blocks: emitter.strided_loop(
                self.rows, blocks, self.row_steps, body, self._unroll(self.rows, blocks)
            ),
        )

    def each_row_of_blocks(
        self,
        per_row: Callable[[list[SSAValue], list[SSAValue], int], None],
        fp_starts: list[SSAValue],
        fp_steps: list[int],
    ) -> None:
        """for each row: per_row(VRAM row addresses of its first column block, FPRAM
        registers, FPRAM offset) with the FPRAM operands element `row` at register + offset
        (an immediate of S_LD_FP / S_ST_FP).  Rows run `unroll_factor` copies per hardware
        iteration when there is one column block."""
        emitter = self.lowering.emitter
        n = len(self.bases)
        streams = len(set(self.bases)) + len(fp_starts)
        unroll = self.lowering.unroll(self.rows, streams) if self.blocks == 1 else 1

        def copy(registers: list[SSAValue], offset: int) -> None:
            vram = registers[:n]
            if offset:
                steps = zip(vram, self.row_steps, strict=True)
                vram = [emitter.add_const(r, offset * s) for r, s in steps]
            per_row(vram, registers[n:], offset)

        emitter.offset_loop(
            self.rows,
            self._registers() + list(fp_starts),
            self.row_steps + list(fp_steps),
            copy,
            unroll,
        )

    def _unroll(self, count: int, registers: list[SSAValue], largest_step: int = 0) -> int:
        """`KernelLowering.unroll` for a loop stepping the distinct `registers`."""
        return self.lowering.unroll(count, len(set(registers)), largest_step)

    def blocks_of(self, rows: list[SSAValue], body: Callable[[list[SSAValue]], None]) -> None:
        """for each column block: body(the addresses of this row in that block)."""
        self.lowering.emitter.strided_loop(
            self.blocks,
            rows,
            self.block_steps,
            body,
            self._unroll(self.blocks, rows, max(self.block_steps)),
        )


def lower_vector(lowering: KernelLowering, op) -> None:
    emitter = lowering.emitter
    if type(op) in _BINARY:
        make = _BINARY[type(op)]
        walk = _Walk(lowering, op.dst, [op.dst, op.lhs, op.rhs])
        walk.each_row(lambda a: emitter.emit(make(*a, rmask=0)))
    elif type(op) in _UNARY:
        make = _UNARY[type(op)]
        walk = _Walk(lowering, op.dst, [op.dst, op.src])
        walk.each_row(lambda a: emitter.emit(make(*a, rmask=0)))
    elif type(op) in _REDUCE:
        _reduce(lowering, op)
    else:
        _broadcast(lowering, op)


def fp_source(
    lowering: KernelLowering, value: SSAValue, index: SSAValue | None, per_entry: bool
) -> tuple[SSAValue, int]:
    """The FPRAM address register of an f32 source and its step per entry: an f32 value's
    entry, one element `value[index]`, or a buffer (step 1 when `per_entry`, else its
    single entry)."""
    emitter = lowering.emitter
    if isinstance(value.type, Float32Type):
        return emitter.const(lowering.fp_entry(value)), 0
    address = emitter.const(lowering.buffer_address(value))
    if index is not None:
        return emitter.add(address, lowering.index(index)), 0
    return address, 1 if per_entry else 0


def _broadcast(lowering: KernelLowering, op) -> None:
    emitter = lowering.emitter
    make = _scalar_instruction(op)
    walk = _Walk(lowering, op.dst, [op.dst, op.src])
    scalar = op.scalar
    per_row = (
        op.scalar_index is None
        and not isinstance(scalar.type, Float32Type)
        and buffer_type(scalar).get_shape()[0] == walk.rows
        and walk.rows > 1
    )
    address, step = fp_source(lowering, scalar, op.scalar_index, per_row)
    if not per_row:
        f = emitter.load_fp(address)
        walk.each_row(lambda a: emitter.emit(make(a[0], a[1], f)))
        return

    def row(rows: list[SSAValue], fp: list[SSAValue], offset: int) -> None:
        f = emitter.load_fp(fp[0], offset)
        walk.blocks_of(rows, lambda a: emitter.emit(make(a[0], a[1], f)))

    walk.each_row_of_blocks(row, [address], [step])


def _reduce(lowering: KernelLowering, op) -> None:
    emitter = lowering.emitter
    make, identity = _REDUCE[type(op)]
    walk = _Walk(lowering, op.src, [op.src])
    acc, step = fp_source(lowering, op.acc, op.acc_index, walk.rows > 1)
    seed = emitter.const(lowering.pool.slot(identity))
    accumulate = op.accumulate is not None

    def row(rows: list[SSAValue], fp: list[SSAValue], offset: int) -> None:
        value = emitter.load_fp(fp[0], offset) if accumulate else emitter.load_fp(seed)
        unroll = lowering.unroll(walk.blocks, 1)

        def blocks(carried: list[SSAValue]) -> list[SSAValue]:
            address, value = carried
            for _ in range(unroll):
                value = emitter.value(make(value, address, rmask=0))
                address = emitter.add_const(address, walk.block_steps[0])
            return [address, value]

        _, value = emitter.loop(walk.blocks // unroll, [rows[0], value], blocks)
        emitter.store_fp(value, fp[0], offset)

    walk.each_row_of_blocks(row, [acc], [step])
