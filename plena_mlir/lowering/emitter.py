"""`Emitter`: appends `plena` ops on unallocated registers to a block.

Every integer constant is a `plena.li` (plena-optimize-scalar folds and legalises them), gp0
is read through `plena.get_register`, and loops are `plena.loop`s whose index registers are
loop-carried values stepped by the body (the hardware counter counts down, so it is never
used as an index).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.ir import Block, Operation, Region, SSAValue

from plena_mlir.dialects.plena import (
    FpRegisterType,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    YieldOp,
)
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_fp_ops import S_LdFpOp, S_StFpOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddIntOp, S_MulIntOp

#: The most copies of a small loop body one hardware iteration runs (`unroll_factor`).
MAX_UNROLL = 16


#: Largest address step folded into one S_ADDI_INT (plena-optimize-scalar legalises bigger
#: constants with an extra register).
MAX_IMMEDIATE_STEP = (1 << 16) - 1


def unroll_factor(count: int, limit: int = MAX_UNROLL, largest_step: int = 0) -> int:
    """The largest divisor of `count` that is at most `limit` and keeps unroll *
    `largest_step` an ADDI immediate: how many copies of a small body one hardware iteration
    of a `count`-iteration loop runs."""
    limit = min(limit, count, MAX_IMMEDIATE_STEP // max(largest_step, 1))
    return max(d for d in range(1, max(limit, 1) + 1) if count % d == 0)


#: A loop body: the carried values of this iteration -> the values of the next.
LoopBody = Callable[[list[SSAValue]], Sequence[SSAValue]]


class Emitter:
    """Appends ops at the end of `block` (the current block changes inside loops)."""

    def __init__(self, block: Block):
        self.block = block
        self._enclosing: list[Block] = []  # the blocks the current one is nested in
        self._constants: dict[tuple[Block, int], SSAValue] = {}
        self._zero = self.value(GetRegisterOp(GpRegisterType.from_name("gp0")))

    def emit(self, op: Operation) -> Operation:
        self.block.add_op(op)
        return op

    def value(self, op: Operation) -> SSAValue:
        """Emit `op` and return its single result."""
        return self.emit(op).results[0]

    # integers ---------------------------------------------------------------------------------
    def const(self, value: int) -> SSAValue:
        """A register holding the u32 `value` (`plena.li`), shared with an earlier one of the
        current block or an enclosing block."""
        value %= 1 << 32
        for block in (self.block, *reversed(self._enclosing)):
            if (block, value) in self._constants:
                return self._constants[block, value]
        result = self.value(LoadImmediateOp(value))
        self._constants[self.block, value] = result
        return result

    @property
    def loop_depth(self) -> int:
        """How many plena.loops enclose the current block."""
        return len(self._enclosing)

    def zero(self) -> SSAValue:
        """gp0, the zero register (read only), read once at the start of the program."""
        return self._zero

    def add(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(S_AddIntOp(a, b))

    def mul(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(S_MulIntOp(a, b))

    def add_const(self, a: SSAValue, c: int) -> SSAValue:
        """a + c (a itself when c = 0)."""
        return a if c == 0 else self.add(a, self.const(c))

    # FPRAM --------------------------------------------------------------------------------
    def load_fp(self, address: SSAValue, offset: int = 0) -> SSAValue:
        """f = FPRAM[address + offset] (the offset is the instruction's immediate)."""
        return self.value(S_LdFpOp(address, imm=offset))

    def store_fp(self, value: SSAValue, address: SSAValue, offset: int = 0) -> None:
        """FPRAM[address + offset] = value (the offset is the instruction's immediate)."""
        self.emit(S_StFpOp(value, address, imm=offset))

    def fp_type(self) -> FpRegisterType:
        return FpRegisterType.unallocated()

    # loops --------------------------------------------------------------------------------
    def loop(self, count: int, carried: Sequence[SSAValue], body: LoopBody) -> list[SSAValue]:
        """A hardware loop of `count` iterations carrying `carried`; returns the final values.
        One iteration is emitted inline, without a loop."""
        if count == 1:
            return list(body(list(carried)))
        block = Block(arg_types=(GpRegisterType.unallocated(), *(v.type for v in carried)))
        op = LoopOp(count, list(carried), Region(block))
        self._enclosing.append(self.block)
        self.block = block
        try:
            block.add_op(YieldOp(*body(list(block.args[1:]))))
        finally:
            self.block = self._enclosing.pop()
        self.emit(op)
        return list(op.res)

    def strided_loop(
        self,
        count: int,
        starts: Sequence[SSAValue],
        steps: Sequence[int],
        body: Callable[[list[SSAValue]], None],
        unroll: int = 1,
    ) -> None:
        """for i in 0..count: body([start + i*step for each]), the addresses carried in
        registers stepped by the body (a step of 0 is passed in unchanged; operands with the
        same start value and step share one register).

        With `unroll` = u (a divisor of count) a hardware iteration runs u copies of the body
        (the same ADDIs, 1/u of the C_LOOP_ENDs); keep u * step within an ADDI immediate
        (`unroll_factor`'s `largest_step`)."""
        self.offset_loop(
            count,
            starts,
            steps,
            lambda current, _: body(current),
            unroll,
            step_between_copies=True,
        )

    def offset_loop(
        self,
        count: int,
        starts: Sequence[SSAValue],
        steps: Sequence[int],
        body: Callable[[list[SSAValue], int], None],
        unroll: int = 1,
        step_between_copies: bool = False,
    ) -> None:
        """for i in 0..count: element i of each operand is at start + i*step.  Hardware
        iteration h runs `unroll` = u copies (u divides count); copy j handles element
        h*u + j and is called as body(registers, j).  Without `step_between_copies` every
        copy gets the registers of element h*u and adds j*step itself (an instruction's
        immediate: S_LD_FP / S_ST_FP offsets); with it, copy j gets registers holding its
        element's addresses (register + j*step, made just before the copy, so only one
        copy's addresses are live at a time).  The registers step by u*step once per
        iteration."""
        if count % unroll:
            raise ValueError(f"unroll {unroll} does not divide the loop count {count}")
        carried: dict[tuple[SSAValue, int], int] = {}
        for start, step in zip(starts, steps, strict=True):
            if step:
                carried.setdefault((start, step), len(carried))

        def iteration(args: list[SSAValue]) -> list[SSAValue]:
            for copy in range(unroll):
                shift = copy if step_between_copies else 0
                registers = {
                    key: self.add_const(args[k], shift * key[1]) for key, k in carried.items()
                }
                current = [
                    registers[start, step] if step else start
                    for start, step in zip(starts, steps, strict=True)
                ]
                body(current, 0 if step_between_copies else copy)
            return [self.add_const(args[k], s * unroll) for (_, s), k in carried.items()]

        self.loop(count // unroll, [start for start, _ in carried], iteration)
