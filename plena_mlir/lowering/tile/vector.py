"""VRAM vector ops: element-wise, row-broadcast and row reductions, tile or lane.

The walkers below take `Buffer`s (a physical buffer or a lane's slab: type and base address)
and a V_MASK (None: unmasked), so `tile` ops (`lower_vector`) and `lane` ops (lane_vector.py)
share them.  A VRAM operand is walked by (base, row step, column block step) from
`plena_mlir.ir.addresses`: row r of column block b is at base + b*R*VLEN + r*VLEN (R = rows padded
to BLEN).  A one-row operand broadcast to every row (a bias) has row step 0.  Rows are the
outer hardware loop, column blocks the inner one:

    elementwise (add/sub/mul/exp/reci)   V_*_VV / V_EXP_V / V_RECI_V per row and column block
    broadcast_scalar (*_scalar)          S_LD_FP the row's scalar (once, before the loops, when
                                         it is one scalar for all rows), then V_*_VF per block
    reduce_rows (reduce_max/sum)         per row: seed the accumulator (S_LD_FP of acc[r] with
                                         `accumulate`, else of the pool constant -inf / 0.0),
                                         one V_RED_* per column block (it accumulates),
                                         S_ST_FP acc[r]

With a mask, C_SET_V_MASK_REG mask comes first and every instruction has rmask = 1: the heads
whose bit is set get the result, the others the first source's values (V_RED_*: only the set
heads are reduced).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation, SSAValue

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
from plena_mlir.ir.addresses import VramLayout, buffer_layout
from plena_mlir.lowering.kernel import Buffer, KernelLowering, buffer_type

#: The instruction of each tile op (a lane op names its tile op: `TILE_OP`).
BINARY = {AddOp: V_AddVvOp, SubOp: V_SubVvOp, MulOp: V_MulVvOp}
UNARY = {ExpOp: V_ExpVOp, ReciOp: V_ReciVOp}
REDUCE = {ReduceMaxOp: (V_RedMaxOp, float("-inf")), ReduceSumOp: (V_RedSumOp, 0.0)}

#: An FPRAM operand of a vector op: the register holding its address and its step per row
#: (0: one value for every row).
FpOperand = tuple[SSAValue, int]

#: Builds one V_*_VF: (dst row, src row, f register, rmask) -> the instruction.
ScalarInstruction = Callable[[SSAValue, SSAValue, SSAValue, int], Operation]


def scalar_instruction(tile_op: type) -> ScalarInstruction:
    """The V_*_VF of tile.add/sub/rsub/mul_scalar."""
    if tile_op is AddScalarOp:
        return lambda d, s, f, m: V_AddVfOp(d, s, f, rmask=m)
    if tile_op in (SubScalarOp, RsubScalarOp):
        reverse = int(tile_op is RsubScalarOp)
        return lambda d, s, f, m: V_SubVfOp(d, s, f, rmask=m, reverse=reverse)
    assert tile_op is MulScalarOp
    return lambda d, s, f, m: V_MulVfOp(d, s, f, rmask=m)


VECTOR_OPS = (*BINARY, *UNARY, AddScalarOp, SubScalarOp, RsubScalarOp, MulScalarOp, *REDUCE)


def vram_layout(buffer: Buffer, lowering: KernelLowering) -> VramLayout:
    layout = buffer_layout(buffer.typ, lowering.target)
    assert isinstance(layout, VramLayout)
    return layout


class _Walk:
    """The rows x column blocks of `dst` and the VRAM operands walked with it."""

    def __init__(self, lowering: KernelLowering, dst: Buffer, operands: list[Buffer]):
        self.lowering = lowering
        layout = vram_layout(dst, lowering)
        self.rows, self.blocks = layout.rows, layout.column_blocks
        self.bases, self.row_steps, self.block_steps = [], [], []
        for buffer in operands:
            operand = vram_layout(buffer, lowering)
            self.bases.append(buffer.address)
            self.row_steps.append(0 if operand.rows == 1 and self.rows > 1 else operand.vlen)
            self.block_steps.append(operand.column_block_offset(1) if self.blocks > 1 else 0)
        vlen = layout.vlen
        # every operand is rows x blocks with no padding rows: one run of VRAM rows
        self.contiguous = all(step == vlen for step in self.row_steps) and all(
            step in (0, self.rows * vlen) for step in self.block_steps
        )

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


# ---------------------------------------------------------------------------------------------
# the walkers, on Buffers
# ---------------------------------------------------------------------------------------------


def elementwise(
    lowering: KernelLowering,
    make: Callable[..., Operation],
    dst: Buffer,
    sources: list[Buffer],
    mask: int | None = None,
) -> None:
    """make(dst row, source rows..., rmask) for every row of dst (a one-row source is
    broadcast to every row)."""
    rmask = lowering.set_mask(mask)
    walk = _Walk(lowering, dst, [dst, *sources])
    walk.each_row(lambda a: lowering.emitter.emit(make(*a, rmask=rmask)))


def broadcast_scalar(
    lowering: KernelLowering,
    make: ScalarInstruction,
    dst: Buffer,
    src: Buffer,
    scalar: FpOperand,
    mask: int | None = None,
) -> None:
    """dst[r, :] = src[r, :] (op) FPRAM[scalar + r*step] (module docstring)."""
    emitter = lowering.emitter
    rmask = lowering.set_mask(mask)
    walk = _Walk(lowering, dst, [dst, src])
    address, step = scalar
    if not step or walk.rows == 1:
        f = emitter.load_fp(address)
        walk.each_row(lambda a: emitter.emit(make(a[0], a[1], f, rmask)))
        return

    def row(rows: list[SSAValue], fp: list[SSAValue], offset: int) -> None:
        f = emitter.load_fp(fp[0], offset)
        walk.blocks_of(rows, lambda a: emitter.emit(make(a[0], a[1], f, rmask)))

    walk.each_row_of_blocks(row, [address], [step])


def reduce_rows(
    lowering: KernelLowering,
    tile_op: type,
    src: Buffer,
    acc: FpOperand,
    accumulate: bool,
    mask: int | None = None,
) -> None:
    """FPRAM[acc + r*step] = max / sum of row r of src (module docstring)."""
    emitter = lowering.emitter
    make, identity = REDUCE[tile_op]
    rmask = lowering.set_mask(mask)
    walk = _Walk(lowering, src, [src])
    address, step = acc
    seed = emitter.const(lowering.pool.slot(identity))

    def row(rows: list[SSAValue], fp: list[SSAValue], offset: int) -> None:
        value = emitter.load_fp(fp[0], offset) if accumulate else emitter.load_fp(seed)
        unroll = lowering.unroll(walk.blocks, 1)

        def blocks(carried: list[SSAValue]) -> list[SSAValue]:
            address, value = carried
            for _ in range(unroll):
                value = emitter.value(make(value, address, rmask=rmask))
                address = emitter.add_const(address, walk.block_steps[0])
            return [address, value]

        _, value = emitter.loop(walk.blocks // unroll, [rows[0], value], blocks)
        emitter.store_fp(value, fp[0], offset)

    walk.each_row_of_blocks(row, [address], [step if walk.rows > 1 else 0])


# ---------------------------------------------------------------------------------------------
# tile ops
# ---------------------------------------------------------------------------------------------


def lower_vector(lowering: KernelLowering, op) -> None:
    if type(op) in BINARY:
        sources = [lowering.buffer(op.lhs), lowering.buffer(op.rhs)]
        elementwise(lowering, BINARY[type(op)], lowering.buffer(op.dst), sources)
    elif type(op) in UNARY:
        elementwise(lowering, UNARY[type(op)], lowering.buffer(op.dst), [lowering.buffer(op.src)])
    elif type(op) in REDUCE:
        rows = buffer_type(op.src).get_shape()[0]
        acc = fp_source(lowering, op.acc, op.acc_index, rows > 1)
        reduce_rows(lowering, type(op), lowering.buffer(op.src), acc, op.accumulate is not None)
    else:
        rows = buffer_type(op.dst).get_shape()[0]
        scalar = op.scalar
        per_row = (
            op.scalar_index is None
            and not isinstance(scalar.type, Float32Type)
            and buffer_type(scalar).get_shape()[0] == rows
            and rows > 1
        )
        broadcast_scalar(
            lowering,
            scalar_instruction(type(op)),
            lowering.buffer(op.dst),
            lowering.buffer(op.src),
            fp_source(lowering, scalar, op.scalar_index, per_row),
        )


def fp_source(
    lowering: KernelLowering, value: SSAValue, index: SSAValue | None, per_entry: bool
) -> FpOperand:
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
