"""Lowering of one `tile.kernel` (without a lane axis, memory allocated) to `plena` ops.

    grid(%a = A, %b = B)      ->  plena.loop A { plena.loop B { body } }, each grid index an
                                  iter_arg starting at 0 and stepped by 1 by its loop's body
    scf.for %i = lb to ub step s (constants)
                              ->  plena.loop ceil((ub - lb) / s), %i an iter_arg from lb
                                  stepped by s, the scf iter_args further iter_args
    lane.for_lanes %l = L     ->  the body L times (unrolled), %l the Python int l
                                  (`KernelLowering.lane`), so masks and lane offsets are static;
                                  an op the pass says runs on every lane at once (an FPRAM op
                                  on fp_lane buffers) is lowered once, between the unrolled
                                  runs of the ops before and after it (`_for_lanes`)
    arith.constant (index)    ->  plena.li
    arith.addi/subi/muli      ->  S_ADD_INT / S_SUB_INT / S_MUL_INT
    arith.remui/remsi x, c    ->  x - (x * m >> k) * c (`remainder.py`: no integer divide), c a
                                  positive constant, x non-negative by `IndexRanges`
    f32 values                ->  their FPRAM entry: a constant's slot in the module's constant
                                  pool, a scalar argument's entry in `fpram_arguments`
    tile and lane ops         ->  the `lower_op` the pass passes in (tile: `tile/dma.py`,
                                  `tile/vector.py`, `tile/scalar.py`, `tile/gemm.py`; lane:
                                  `lane/*.py`)

The op lowerings walk `Buffer`s: a physical buffer (or a lane's part of one) as its
`!tile.buffer` type and base address, so a tile op and a lane op on the same physical data
run the same code.

Anything else is a DiagnosticException naming the op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import Float32Type, IndexType, IntegerAttr
from xdsl.ir import Block, Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.index_ranges import IndexRanges, Unbounded
from plena_mlir.dialects import lane
from plena_mlir.dialects.plena.control_ops import C_SetVMaskRegOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddIntOp, S_MulIntOp, S_SubIntOp
from plena_mlir.dialects.tile import AllocOp, BufferType, KernelOp, TensorType
from plena_mlir.ir.int_dict import int_dict
from plena_mlir.lowering.emitter import Emitter, unroll_factor
from plena_mlir.lowering.remainder import lower_remainder
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.target import Target

#: GP registers an unrolled loop leaves for constants and operands (`KernelLowering.unroll`).
UNROLL_SPARE_REGISTERS = 4

_INDEX_ARITHMETIC = {arith.AddiOp: S_AddIntOp, arith.SubiOp: S_SubIntOp, arith.MuliOp: S_MulIntOp}


@dataclass(frozen=True)
class Buffer:
    """A physical buffer, or the part of one an op works on (a lane's slab or entries): its
    type (space and shape, laid out by `plena_mlir.ir.addresses`) and base address."""

    typ: BufferType
    address: int


def describe(op: Operation) -> str:
    """How diagnostics name an op: its name and, when parsed from a file, its location."""
    return op.name


class KernelLowering:
    """The state of lowering one kernel: the emitter and what each tile SSA value became."""

    def __init__(self, kernel: KernelOp, target: Target, pool: FpramPool, emitter: Emitter):
        self.kernel = kernel
        self.target = target
        self.pool = pool
        self.emitter = emitter
        self.indices: dict[SSAValue, SSAValue] = {}
        self.lane: int | None = None  # the lane of the lane.for_lanes copy being lowered
        self.fp_entries: dict[SSAValue, int] = {}
        self._index_ranges: IndexRanges | None = None  # made for the first remainder
        self.hbm_addresses = _int_dict(kernel, "hbm_addresses")
        fpram_arguments = _int_dict(kernel, "fpram_arguments")
        grid = len(kernel.grid_sizes.get_values())
        for name, arg in zip(kernel.arg_names.data, kernel.body.block.args[grid:], strict=True):
            if isinstance(arg.type, Float32Type):
                self.fp_entries[arg] = fpram_arguments[name.data]
        self.tensor_names = {
            arg: name.data
            for name, arg in zip(kernel.arg_names.data, kernel.body.block.args[grid:], strict=True)
            if isinstance(arg.type, TensorType)
        }

    # values -----------------------------------------------------------------------------------
    def index(self, value: SSAValue | int) -> SSAValue:
        """The register of an index value (a static int becomes a constant)."""
        if isinstance(value, int):
            return self.emitter.const(value)
        return self.indices[value]

    def fp_entry(self, value: SSAValue) -> int:
        """The FPRAM entry holding the f32 value `value`."""
        return self.fp_entries[value]

    def buffer_address(self, value: SSAValue) -> int:
        """The address plena-allocate-memory gave the buffer `value` (a lane buffer: its
        physical buffer's base)."""
        alloc = value.owner
        if not isinstance(alloc, AllocOp | lane.AllocOp) or alloc.address is None:
            raise DiagnosticException(
                "convert-lane-to-plena: a buffer has no address: run plena-allocate-memory first"
            )
        return alloc.address.value.data

    def buffer(self, value: SSAValue) -> Buffer:
        """The tile buffer `value` as a `Buffer`."""
        return Buffer(buffer_type(value), self.buffer_address(value))

    def set_mask(self, mask: int | None) -> int:
        """V_MASK = mask before masked instructions (C_SET_V_MASK_REG; plena-optimize-scalar
        drops a write of what V_MASK already holds); the instructions' rmask flag: 1 when
        masked, 0 (the whole row, V_MASK ignored) for None."""
        if mask is None:
            return 0
        self.emitter.emit(C_SetVMaskRegOp(self.emitter.const(mask)))
        return 1

    def tensor_address(self, value: SSAValue) -> int:
        return self.hbm_addresses[self.tensor_names[value]]

    def unroll(self, count: int, streams: int, largest_step: int = 0) -> int:
        """How many copies of a small body one hardware iteration of a new `count`-iteration
        loop at the current depth runs (`unroll_factor`), when `streams` addresses step in it:
        1 unless the GP registers hold, besides a counter and an index for every open loop,
        the new loop's counter, its `streams` carried addresses and one copy's
        (register + offset) temporaries, with UNROLL_SPARE_REGISTERS to spare."""
        pinned = 2 * self.emitter.loop_depth + 1 + streams
        if pinned + streams + UNROLL_SPARE_REGISTERS > self.target.gp_registers - 1:
            return 1
        return unroll_factor(count, largest_step=largest_step)

    # structure --------------------------------------------------------------------------------
    def lower(
        self,
        lower_tile_op: Callable[[KernelLowering, Operation], None],
        every_lane_at_once: Callable[[Operation], bool] = lambda op: False,
    ) -> None:
        """The grid loops around the kernel body; `every_lane_at_once(op)`: a per-lane op
        that `lower_tile_op` lowers for every lane in one go (`self.lane` None)."""
        self._lower_tile_op = lower_tile_op
        self._every_lane_at_once = every_lane_at_once
        sizes = list(self.kernel.grid_sizes.get_values())
        axes = list(self.kernel.body.block.args[: len(sizes)])
        self._grid(list(zip(axes, sizes, strict=True)))

    def _grid(self, axes: list[tuple[SSAValue, int]]) -> None:
        if not axes:
            self.lower_block(self.kernel.body.block)
            return
        (axis, size), rest = axes[0], axes[1:]

        def body(carried: list[SSAValue]) -> list[SSAValue]:
            self.indices[axis] = carried[0]
            self._grid(rest)
            return [self.emitter.add_const(carried[0], 1)]

        self.emitter.loop(size, [self.emitter.const(0)], body)

    def lower_block(self, block: Block) -> None:
        for op in block.ops:
            self.lower_op(op)

    def lower_op(self, op: Operation) -> None:
        if isinstance(op, arith.ConstantOp):
            self._constant(op)
        elif type(op) in _INDEX_ARITHMETIC:
            lhs, rhs = (self.index(v) for v in op.operands)
            self.indices[op.results[0]] = self.emitter.value(_INDEX_ARITHMETIC[type(op)](lhs, rhs))
        elif isinstance(op, arith.RemUIOp | arith.RemSIOp):
            self._remainder(op)
        elif isinstance(op, scf.ForOp):
            self._for(op)
        elif isinstance(op, lane.ForLanesOp):
            self._for_lanes(op)
        elif isinstance(op, AllocOp | lane.AllocOp):
            self.buffer_address(op.result)
        else:
            self._lower_tile_op(self, op)

    def _constant(self, op: arith.ConstantOp) -> None:
        value = op.value
        if isinstance(op.result.type, IndexType) and isinstance(value, IntegerAttr):
            self.indices[op.result] = self.emitter.const(value.value.data)
        elif isinstance(op.result.type, Float32Type):
            self.fp_entries[op.result] = self.pool.slot(value.value.data)
        else:
            raise DiagnosticException(
                f"convert-lane-to-plena: {describe(op)} of type {op.result.type} is not "
                "supported (only index and f32 constants)"
            )

    def _remainder(self, op: arith.RemUIOp | arith.RemSIOp) -> None:
        if self._index_ranges is None:
            self._index_ranges = IndexRanges(self.kernel)
        x = self._index_ranges.interval(op.lhs)
        x_range = x if isinstance(x, Unbounded) else (x.lo, x.hi)
        self.indices[op.result] = lower_remainder(self.emitter, op, self.index(op.lhs), x_range)

    def _for_lanes(self, op: lane.ForLanesOp) -> None:
        """The body once per lane, the lane a static int (`self.lane`, and the constant l for
        index arithmetic on %l); an op that runs on every lane at once is lowered once, the
        ops before and after it unrolled on their own.  That is loop fission: it runs lane
        l + 1's ops of one run before lane l's of the next, which keeps the meaning since a
        per-lane op touches only its own lane (its FPRAM entries, its slab, its columns
        under V_MASK) and the buffers every lane shares (flat ones) only read."""
        for at_once, run in groupby(op.body.block.ops, key=self._every_lane_at_once):
            ops = list(run)
            lanes = [None] if at_once else range(op.count.value.data)
            for index in lanes:
                self.lane = index
                if index is not None:
                    self.indices[op.lane] = self.emitter.const(index)
                for inner in ops:
                    self.lower_op(inner)
        self.lane = None

    def _for(self, op: scf.ForOp) -> None:
        loop = f"scf.for %{op.body.block.args[0].name_hint or 'i'}"
        bounds = [_static_index(v) for v in (op.lb, op.ub, op.step)]
        dynamic = [
            name
            for name, b in zip(("lower bound", "upper bound", "step"), bounds, strict=True)
            if b is None
        ]
        if dynamic:
            raise DiagnosticException(
                f"convert-lane-to-plena: {loop}: the {' and '.join(dynamic)} must be "
                "constant (a hardware loop has a fixed count)"
            )
        lb, ub, step = bounds
        if step <= 0:
            raise DiagnosticException(
                f"convert-lane-to-plena: {loop}: the step is {step}, it must be positive"
            )
        count = max(0, -(-(ub - lb) // step))
        if any(not isinstance(v.type, IndexType) for v in op.iter_args):
            raise DiagnosticException("convert-lane-to-plena: scf.for can only carry index values")
        if count == 0:
            for result, init in zip(op.results, op.iter_args, strict=True):
                self.indices[result] = self.index(init)
            return
        body_block = op.body.block

        def body(carried: list[SSAValue]) -> list[SSAValue]:
            for arg, value in zip(body_block.args, carried, strict=True):
                self.indices[arg] = value
            for inner in body_block.ops:
                if isinstance(inner, scf.YieldOp):
                    yielded = [self.index(v) for v in inner.operands]
                else:
                    self.lower_op(inner)
            return [self.emitter.add_const(carried[0], step), *yielded]

        inits = [self.emitter.const(lb), *(self.index(v) for v in op.iter_args)]
        finals = self.emitter.loop(count, inits, body)
        for result, final in zip(op.results, finals[1:], strict=True):
            self.indices[result] = final


def buffer_type(value: SSAValue) -> BufferType:
    typ = value.type
    assert isinstance(typ, BufferType)
    return typ


def _static_index(value: SSAValue) -> int | None:
    op = value.owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def _int_dict(kernel: KernelOp, name: str) -> dict[str, int]:
    attr = kernel.attributes.get(name)
    if attr is None:
        raise DiagnosticException(
            f"convert-lane-to-plena: tile.kernel @{kernel.sym_name.data} has no {name}: run "
            "plena-allocate-memory first"
        )
    return int_dict(attr, f"convert-lane-to-plena: tile.kernel @{kernel.sym_name.data}: {name}")
