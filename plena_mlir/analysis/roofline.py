"""The roofline: a lower bound on the cycles a `tile` kernel needs on a target.

    bound = roofline(spec.build(sizes), hbm_format="mxfp8")
    bound.cycles, bound.limit          # softmax 64 x 64: 320, "vector"

The kernel's tile IR is walked once; the work of every op is multiplied by the number of
times it runs (the grid size times the trip counts of the enclosing `scf.for`s; bounds are
evaluated from `arith` index math, iterating only where a bound depends on an index).  The
work is charged to four units at their peak rates (`plena-isa.md` 8.4, 1 cycle = 1 ns):

- matrix: the MACs of each `tile.gemm` (M*N*K) at MLEN^2 MACs/cycle, the matrix unit's
  peak (`Target.peak_macs_per_cycle`): M_BTMM / M_BMM do MLEN^3 MACs in MLEN cycles.  Any gemm can
  run at that rate, not only per-head products: lane i of an M_BTMM contracts its own HLEN
  columns of K, so one M_BTMM computes the MLEN x MLEN x MLEN product as LANES partial
  products that vector adds then sum (how `plena-select-gemm` lowers a general gemm; M_MM
  reaches only BLEN^2 MACs/cycle).  The vector adds are an implementation's cost, not
  charged here.
- vector: the elements each VRAM tile op touches (the source of a reduction), VRAM copies
  and fills, at VLEN elements/cycle (8.4: V_ADD/V_MUL/V_EXP).  Reductions are charged at
  that rate too, although V_RED_SUM takes VECTOR_SUM_CYCLES per row: a row sum can also be
  computed on the matrix unit (a product with a ones vector), so the slower instruction is
  no bound.
- scalar (FPRAM): one entry per cycle for each `tile.fp_*` (one S_*_FP per entry), FPRAM
  fills and copies to, from or within FPRAM (S_MAP_* move at most one entry per cycle).
  The S_LD_FP / S_ST_FP around each op are not charged.
- hbm: the bytes every `tile.copy` to or from a tensor moves, at `dma_bytes_per_cycle`
  (128 B/cycle, the HBM2 peak), with no start-up time.  With mxfp8 HBM an element costs its
  MX-packed size, 1 element byte + 1/8 scale byte for MXFP8 (the weight format for copies
  into MRAM, the activation format otherwise); with fp32 HBM 4 bytes.

`cycles` is the MAXIMUM of the four, not their sum: the units are separate hardware, so an
ideal schedule overlaps them and no schedule beats the busiest unit.  (The emulator itself
overlaps nothing, so its time is at least the sum; the max is the roofline, the bound a
better compiler or machine could approach.)  A `tile` op this module has no rule for is
charged as vector (or FPRAM) element work over the operands it writes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.ir import Block, SSAValue

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import (
    BufferType,
    CopyOp,
    FpOp,
    GemmOp,
    KernelOp,
    MemorySpace,
    ReduceOp,
    TensorType,
    TileOp,
    resolved_space,
)
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import MxFormat, Target

#: `arith` index ops a loop bound may use, and their value.
_INDEX_ARITHMETIC: dict[type, Callable[[int, int], int]] = {
    arith.AddiOp: lambda a, b: a + b,
    arith.SubiOp: lambda a, b: a - b,
    arith.MuliOp: lambda a, b: a * b,
    arith.DivUIOp: lambda a, b: a // b,
    arith.DivSIOp: lambda a, b: int(a / b),
    arith.FloorDivSIOp: lambda a, b: a // b,
    arith.CeilDivSIOp: lambda a, b: -(-a // b),
    arith.CeilDivUIOp: lambda a, b: -(-a // b),
    arith.RemUIOp: lambda a, b: a % b,
    arith.RemSIOp: lambda a, b: int(math.fmod(a, b)),
    arith.MinSIOp: min,
    arith.MinUIOp: min,
    arith.MaxSIOp: max,
    arith.MaxUIOp: max,
}

UNITS = ("matrix", "vector", "scalar", "hbm")


class RooflineError(ValueError):
    """A kernel whose work cannot be counted (a loop bound that is not index arithmetic)."""


@dataclass(frozen=True)
class Work:
    """What a kernel (or a part of it) does, and the cycles each unit needs for it at peak."""

    macs: int = 0
    matrix_cycles: float = 0.0
    vector_elements: int = 0
    vector_cycles: float = 0.0
    fpram_entries: int = 0
    scalar_cycles: float = 0.0
    hbm_bytes: float = 0.0

    def __add__(self, other: Work) -> Work:
        return Work(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def times(self, count: int) -> Work:
        return Work(*(getattr(self, f.name) * count for f in fields(self)))


@dataclass(frozen=True)
class Roofline:
    """The work of a kernel and its lower bound on `target` (see the module docstring)."""

    work: Work
    target: Target
    hbm_format: HbmFormat

    @property
    def unit_cycles(self) -> dict[str, float]:
        """Cycles each unit needs at its peak rate, by unit name (UNITS)."""
        w = self.work
        return {
            "matrix": w.matrix_cycles,
            "vector": w.vector_cycles,
            "scalar": w.scalar_cycles,
            "hbm": w.hbm_bytes / self.target.dma_bytes_per_cycle,
        }

    @property
    def cycles(self) -> int:
        """The lower bound: the busiest unit's cycles, rounded up."""
        return math.ceil(max(self.unit_cycles.values()))

    @property
    def limit(self) -> str:
        """The unit that sets the bound (the first of UNITS on a tie)."""
        cycles = self.unit_cycles
        return max(UNITS, key=lambda unit: cycles[unit])

    def to_json(self) -> dict:
        return {
            "cycles": self.cycles,
            "limit": self.limit,
            "unit_cycles": self.unit_cycles,
            "macs": self.work.macs,
            "vector_elements": self.work.vector_elements,
            "fpram_entries": self.work.fpram_entries,
            "hbm_bytes": self.work.hbm_bytes,
        }


def roofline(module: ModuleOp, hbm_format: HbmFormat = "mxfp8") -> Roofline:
    """The roofline of the one `tile.kernel` of `module` on the module's target."""
    kernels = [op for op in module.walk() if isinstance(op, KernelOp)]
    if len(kernels) != 1:
        raise RooflineError(f"roofline: expected one tile.kernel, got {len(kernels)}")
    kernel = kernels[0]
    target = target_of(kernel)
    counter = _WorkCounter(target, hbm_format)
    body = kernel.body.block
    try:  # the same work in every program instance unless a bound depends on the grid
        work = counter.block(body, {}).times(math.prod(kernel.grid.values()))
    except _Unbound:
        work = Work()
        try:
            for point in itertools.product(*(range(size) for size in kernel.grid.values())):
                work += counter.block(body, dict(zip(kernel.grid_indices, point, strict=True)))
        except _Unbound:
            raise RooflineError(
                "roofline: a loop bound depends on a value carried by an scf.for"
            ) from None
    return Roofline(work, target, hbm_format)


def hbm_bytes_per_element(fmt: MxFormat, hbm_format: HbmFormat) -> float:
    """Bytes one element occupies in HBM: its MX-packed share, or 4 with fp32 HBM."""
    if hbm_format == "fp32":
        return 4.0
    scale_bits = fmt.scale_exp / fmt.block if fmt.block else 0.0
    return (fmt.elem_bits + scale_bits) / 8


class _Unbound(Exception):
    """A loop bound needs the value of `value` (a grid index or loop variable) not yet bound."""

    def __init__(self, value: SSAValue):
        super().__init__(value)
        self.value = value


class _WorkCounter:
    def __init__(self, target: Target, hbm_format: HbmFormat):
        self.target, self.hbm_format = target, hbm_format

    def block(self, block: Block, env: dict[SSAValue, int]) -> Work:
        """The work of one execution of `block`, index values in `env`."""
        work = Work()
        for op in block.ops:
            if isinstance(op, scf.ForOp):
                work += self.loop(op, env)
            elif isinstance(op, TileOp):
                work += self.op(op)
        return work

    def loop(self, loop: scf.ForOp, env: dict[SSAValue, int]) -> Work:
        lower, upper, step = (_evaluate(v, env) for v in (loop.lb, loop.ub, loop.step))
        if step <= 0:
            raise RooflineError(f"roofline: scf.for with step {step}")
        trips = range(lower, upper, step)
        variable = loop.body.block.args[0]
        try:
            return self.block(loop.body.block, env).times(len(trips))
        except _Unbound as unbound:
            if unbound.value is not variable:
                raise
        work = Work()
        for value in trips:
            work += self.block(loop.body.block, {**env, variable: value})
        return work

    def op(self, op: TileOp) -> Work:
        target = self.target
        if isinstance(op, GemmOp):
            m, n = _shape(op.c)
            k = dict(zip(op.a_roles.data, _shape(op.a), strict=True))["k"]
            macs = m * n * k
            return Work(macs=macs, matrix_cycles=macs / target.peak_macs_per_cycle)
        if isinstance(op, ReduceOp):
            return _vector(_elements(op.src), target)
        if isinstance(op, FpOp):
            entries = 1 if getattr(op, "dst_index", None) is not None else _elements(op.dst)
            return Work(fpram_entries=entries, scalar_cycles=entries)
        if isinstance(op, CopyOp):
            return self.copy(op)
        # element-wise vector ops, fills, and ops without a rule of their own
        return _element_work((getattr(op, name) for name in op.WRITTEN), target)

    def copy(self, op: CopyOp) -> Work:
        for side, other in (("src", op.dst), ("dst", op.src)):
            if isinstance(getattr(op, side).type, TensorType):
                elements = math.prod(_extent(op, side))
                to_mram = side == "src" and resolved_space(other) is MemorySpace.MRAM
                fmt = (
                    self.target.hbm_m_weight_format if to_mram else self.target.hbm_v_act_format
                )
                return Work(hbm_bytes=elements * hbm_bytes_per_element(fmt, self.hbm_format))
        elements = math.prod(_extent(op, "dst"))
        if MemorySpace.FPRAM in (resolved_space(op.src), resolved_space(op.dst)):
            return Work(fpram_entries=elements, scalar_cycles=elements)
        return _vector(elements, self.target)


def _vector(elements: int, target: Target) -> Work:
    """`elements` of VRAM work at VLEN elements per cycle."""
    return Work(vector_elements=elements, vector_cycles=elements / target.vlen)


def _element_work(written: Iterable[SSAValue], target: Target) -> Work:
    """VLEN elements per cycle for VRAM buffers, one entry per cycle for FPRAM buffers."""
    work = Work()
    for value in written:
        if not isinstance(value.type, BufferType):
            continue
        elements = _elements(value)
        if resolved_space(value) is MemorySpace.FPRAM:
            work += Work(fpram_entries=elements, scalar_cycles=elements)
        else:
            work += _vector(elements, target)
    return work


def _elements(value: SSAValue) -> int:
    return math.prod(_shape(value))


def _shape(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, BufferType | TensorType)
    return value.type.get_shape()


def _extent(op: CopyOp, side: str) -> tuple[int, ...]:
    extent = op.extent(side)
    if extent is None:
        raise RooflineError(f"roofline: {op.name} has no derivable extent for {side}")
    return extent


def _evaluate(value: SSAValue, env: dict[SSAValue, int]) -> int:
    """The integer value of an index; _Unbound when it needs a grid index or loop variable
    not in `env`."""
    if value in env:
        return env[value]
    owner = value.owner
    if isinstance(owner, Block):
        raise _Unbound(value)
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    if type(owner) in _INDEX_ARITHMETIC:
        lhs, rhs = (_evaluate(operand, env) for operand in owner.operands)
        return _INDEX_ARITHMETIC[type(owner)](lhs, rhs)
    raise RooflineError(f"roofline: cannot evaluate the loop bound defined by {owner.name}")
