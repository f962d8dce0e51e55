"""Timing-only runs: all but the last iteration of a hardware loop charged without running them.

Costs do not depend on data, only on the *timing state*: the GP registers, the address
registers, SCALE, STRIDE and INTRAM (no FP, vector or matrix value and not V_MASK ever changes
a cost, and no instruction moves a value from them into the timing state).  When a
timing-only run enters an exact loop (`Loop.exact`) of count N, `LoopSummaries.skip` runs
its body once on symbolic values (`symbolic.py`): every GP register the body writes, and its
counter, starts as a symbol, the others hold their values, and the integer and control
instructions compute what every register holds at the end of the iteration; nested loops
are analysed the same way (their first iteration on fresh symbols, then their last).  The
loop is *summarised* when

- every symbol a result depends on is an **induction variable**: its register ends the
  iteration as itself plus a known step (the counter falls by 1);
- every H_* transfer's base address, SCALE and STRIDE are known and its HBM offset is known
  or a linear function of induction variables (of this loop or of loops inside it): then
  each execution's cost is computed from the offset it has (`Hbm.transfer_cost`, without
  running anything else), and the others cost the same in every iteration;
- INTRAM is addressed with known values and no cell is read before it is written in an
  iteration that writes it (a value carried from one iteration to the next).

Iteration k then starts with each induction variable at its start + k * step, so the run
charges iterations 1 .. N-1 at once -- their instructions, DMA cycles and HBM bytes -- sets
the induction variables and the counter to their values at the start of the last iteration,
and executes that one, which leaves every register as the whole loop would.  A loop that
cannot be summarised runs iteration by iteration (its inner loops may be summarised).  The
skip never passes the watch's next hard limit (loop guard, budgets), so budgets stop a
timing-only run at the same instruction as a full one.

An analysis is cached per loop and per value of everything it read that the body does not
write (registers by value; INTRAM cells checked again on every use).  The instructions and
DMA cycles of skipped iterations are added to the per-pc counters when `flush` is called.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plena_mlir.isa.opcodes import TVM_BY_OPCODE
from plena_mlir.sim.errors import MachineFault
from plena_mlir.sim.loop_tree import Loop, LoopTree
from plena_mlir.sim.ops_common import Fields
from plena_mlir.sim.ops_dma import transfer_shape
from plena_mlir.sim.ops_scalar import INT_ALU, INT_IMMEDIATE
from plena_mlir.sim.symbolic import (
    MASK,
    Linear,
    Opaque,
    Value,
    add,
    opaque,
    scale,
    symbol,
    symbols_of,
)

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor, RunRecord
    from plena_mlir.sim.watch import Watch

_DMA = frozenset({"H_PREFETCH_M", "H_PREFETCH_V", "H_STORE_V"})


class _Refused(Exception):
    """The loop cannot be summarised at this entry."""


@dataclass(eq=False)
class Shape:
    """What the analysis needs of one loop, read from its words once per run."""

    loop: Loop
    ok: bool
    """Exact, every iteration (nested loops' too) within MAX_LOOP_INSTRUCTIONS, no word of the
    body aborts whenever it runs."""
    written: frozenset[int]
    """GP registers the body writes (the counters of nested loops included)."""
    writes_special: frozenset[str | int]
    """"scale", "stride" and address-register indices the body sets."""
    key_registers: tuple[int, ...]
    """GP registers the analysis reads and the body does not write."""
    key_special: tuple[str | int, ...]
    counts: tuple[tuple[int, int], ...]
    """(pc, executions per iteration) of every pc of the body and the C_LOOP_END."""


@dataclass(frozen=True, eq=False)
class Summary:
    """One iteration of a loop at one entry: the steps of its induction variables (counter
    excluded), its DMA cycles per pc, its HBM bytes."""

    shape: Shape
    steps: tuple[tuple[int, int], ...]
    dma_cycles: tuple[tuple[int, int], ...]
    bytes_read: int
    bytes_written: int
    transfers: tuple[_Transfer, ...]
    """The H_* transfers whose offset changes from execution to execution."""


@dataclass(eq=False)
class _Level:
    """One loop of the analysis: its count and fresh symbols (symbol -> register), each
    register's value at the loop's entry and, once its first iteration is analysed, the
    step of each induction variable (values over the symbols of the loops around it)."""

    count: int
    fresh: dict[int, int | str]
    entry: dict[int, Value]
    steps: dict[int, Value]


@dataclass(frozen=True, eq=False)
class _Transfer:
    """An H_* transfer with a symbolic offset, inside the loops `levels` (outermost first)."""

    pc: int
    store: bool
    rows: int
    row_len: int
    fmt: object
    base: int
    offset: Value
    stride: int
    scale_reg: int
    levels: tuple[_Level, ...]


class _Env:
    """The symbolic timing state during one pass over a body; a child pass sees its parent's
    INTRAM cells and records the ones it reads before writing them."""

    __slots__ = ("gp", "areg", "scale", "stride", "cells", "reads", "parent", "memory", "checks")

    def __init__(self, gp: list[Value], areg: list[Value], scale_reg: Value, stride: Value):
        self.gp, self.areg, self.scale, self.stride = gp, areg, scale_reg, stride
        self.cells: dict[int, Value] = {}
        self.reads: set[int] = set()
        self.parent: _Env | None = None
        self.memory = None  # the root's INTRAM
        self.checks: dict[int, int] = {}  # the root's INTRAM cells read, with their values

    def child(self) -> _Env:
        env = _Env(list(self.gp), list(self.areg), self.scale, self.stride)
        env.parent = self
        return env

    def adopt(self, child: _Env) -> None:
        """Take over the state a child pass ended with."""
        self.gp, self.areg = child.gp, child.areg
        self.scale, self.stride = child.scale, child.stride
        self.cells.update(child.cells)

    def read_cell(self, addr: int) -> Value:
        if addr in self.cells:
            return self.cells[addr]
        if self.parent is not None:
            self.reads.add(addr)
            return self.parent.read_cell(addr)
        if addr >= len(self.memory):
            raise _Refused  # the machine aborts: let the concrete run say so
        value = self.checks[addr] = int(self.memory[addr])
        return value


class LoopSummaries:
    """The loop analyses of one timing-only run (see the module docstring)."""

    def __init__(self, ex: Executor, record: RunRecord, tree: LoopTree, watch: Watch,
                 aborting: set[int]):
        self.ex = ex
        self.state = ex.state
        self.record = record
        self.watch = watch
        self.skipped = [0]  # instructions the last skip charged, for the dispatch loop
        self.charged = 0  # instructions all skips charged
        self.ops: list[tuple[str, Fields] | None] = []
        for word in record.words:
            f = Fields.of(word)
            info = TVM_BY_OPCODE.get(f.opcode)
            self.ops.append(None if info is None else (info.mnemonic, f))
        self.shapes: dict[int, Shape] = {}
        for loop in tree.walk():
            self.shapes[loop.start] = self._shape(loop, aborting)
        self.cache: dict[int, dict[tuple, tuple[Summary | None, dict[int, int]]]] = {}
        self.pending: Counter[Summary] = Counter()
        self.symbols = itertools.count()
        # during one analysis: the loops being analysed, the symbolic transfers found
        self._levels: list[_Level] = []
        self._transfers: list[_Transfer] = []

    # -------------------------------------------------------------------------------- run time

    def skip(self, pc: int, tick: int) -> int:
        """At the C_LOOP_START at `pc` (dispatch `tick`, counter already set): charge as many
        iterations as can be summarised and return how many (0: run them all)."""
        shape = self.shapes.get(pc)
        if shape is None or not shape.ok:
            return 0
        loop = shape.loop
        k = min(loop.count - 1, (self.watch.hard - tick) // loop.iteration)
        if k <= 0:
            return 0
        summary = self._summary(shape)
        if summary is None:
            return 0
        gp = self.state.gp
        try:
            varying = [self._transfer_cost(t, k) for t in summary.transfers]
        except MachineFault:
            return 0  # some iteration's transfer aborts: run them to find which
        dma = self.record.dma_cycles
        for transfer, (cycles, read, written) in zip(summary.transfers, varying, strict=True):
            dma[transfer.pc] += cycles
            self.ex.hbm.bytes_read += read
            self.ex.hbm.bytes_written += written
        for register, step in summary.steps:
            gp[register] = (gp[register] + k * step) & MASK
        gp[loop.counter] = loop.count - k
        hbm = self.ex.hbm
        hbm.bytes_read += k * summary.bytes_read
        hbm.bytes_written += k * summary.bytes_written
        self.pending[summary] += k
        self.skipped[0] = k * loop.iteration
        self.charged += k * loop.iteration
        return k

    def flush(self) -> None:
        """Add the skipped iterations' instructions and DMA cycles to the per-pc counters."""
        counts, dma = self.record.counts, self.record.dma_cycles
        for summary, k in self.pending.items():
            for pc, n in summary.shape.counts:
                counts[pc] += k * n
            for pc, cycles in summary.dma_cycles:
                dma[pc] += k * cycles
        self.pending.clear()

    def _transfer_cost(self, transfer: _Transfer, k: int) -> list[int]:
        """[cycles, bytes read, bytes written] of `transfer` in the first `k` iterations of
        the loop being entered (whose registers hold their entry values)."""
        gp, top = self.state.gp, transfer.levels[0]
        total = [0, 0, 0]
        for j in range(k):
            values = {s: (gp[r] + j * top.steps[r]) & MASK
                      for s, r in top.fresh.items() if r in top.steps}
            self._accumulate(transfer, 1, values, total)
        return total

    def _accumulate(self, transfer: _Transfer, depth: int, values: dict, total: list[int]):
        """Add the cost of `transfer` in every iteration of its loops from `depth` on, the
        symbols of the loops outside holding `values`."""
        if depth == len(transfer.levels):
            t = transfer
            cost = self.ex.hbm.transfer_cost(t.store, t.base, _evaluate(t.offset, values),
                                             t.stride, t.scale_reg, t.rows, t.row_len, t.fmt)
            for i, value in enumerate(cost):
                total[i] += value
            return
        level = transfer.levels[depth]
        entry = {r: _evaluate(level.entry[r], values) for r in level.steps}
        step = {r: _evaluate(level.steps[r], values) for r in level.steps}
        for i in range(level.count):
            inner = dict(values)
            for s, r in level.fresh.items():
                if r in step:
                    inner[s] = (entry[r] + i * step[r]) & MASK
            self._accumulate(transfer, depth + 1, inner, total)

    def _summary(self, shape: Shape) -> Summary | None:
        """The analysis of `shape` at the current state, cached."""
        st = self.state
        key = tuple(st.gp[r] for r in shape.key_registers) + tuple(
            self._special(name) for name in shape.key_special
        )
        cache = self.cache.setdefault(shape.loop.start, {})
        hit = cache.get(key)
        intram = st.intram
        if hit is not None and all(int(intram[a]) == v for a, v in hit[1].items()):
            return hit[0]
        root = _Env(list(st.gp), list(st.areg), st.scale, st.stride)
        root.memory = intram
        root.gp[shape.loop.counter] = shape.loop.count
        costs: dict[int, list[int]] = {}
        self._transfers = []
        try:
            _, steps = self._iteration(shape, root, 1, costs)
            for transfer in self._transfers:
                _check_evaluable(transfer)
        except (_Refused, MachineFault):
            summary = None
        else:
            summary = Summary(
                shape,
                tuple((r, s) for r, s in steps.items() if r != shape.loop.counter),
                tuple((pc, c[0]) for pc, c in costs.items()),
                sum(c[1] for c in costs.values()),
                sum(c[2] for c in costs.values()),
                tuple(self._transfers),
            )
        cache[key] = (summary, root.checks)
        return summary

    def _special(self, name: str | int):
        st = self.state
        return st.areg[name] if isinstance(name, int) else getattr(st, name)

    # ------------------------------------------------------------------------------- analysis

    def _iteration(
        self, shape: Shape, env_in: _Env, mult: int, costs: dict | None
    ) -> tuple[_Env, dict[int, Value]]:
        """One iteration of `shape` from `env_in` with every register it writes (and its
        counter) a fresh symbol: the end state and the step of every induction variable a
        result depends on.  _Refused if a result depends on a symbol that is not one."""
        env = env_in.child()
        fresh: dict[int, int | str] = {}
        for register in shape.written | {shape.loop.counter}:
            s = next(self.symbols)
            env.gp[register] = symbol(s)
            fresh[s] = register
        for name in shape.writes_special:
            s = next(self.symbols)
            fresh[s] = "special"
            if isinstance(name, int):
                env.areg[name] = Opaque(frozenset({s}))
            else:
                setattr(env, name, Opaque(frozenset({s})))
        level = _Level(shape.loop.count, fresh, {r: env_in.gp[r] for r in fresh.values()
                                                 if isinstance(r, int)}, {})
        self._levels.append(level)
        try:
            self._walk(shape, env, mult, costs)
        finally:
            self._levels.pop()
        if env.reads & env.cells.keys():
            raise _Refused  # an INTRAM cell carries a value from one iteration to the next
        results = [*env.gp, *env.areg, env.scale, env.stride, *env.cells.values()]
        results += [t.offset for t in self._transfers if level in t.levels]
        used = frozenset().union(*map(symbols_of, results)) & fresh.keys()
        steps: dict[int, Value] = {}
        for s in used:
            register = fresh[s]
            if register == "special":
                raise _Refused
            if register == shape.loop.counter:
                steps[register] = MASK  # -1: the C_LOOP_END counts down, the body does not
                continue
            step = add(env.gp[register], symbol(s), -1)
            if symbols_of(step) & fresh.keys():
                raise _Refused
            steps[register] = step
        level.steps.update(steps)
        return env, steps

    def _nested(self, shape: Shape, env: _Env, mult: int, costs: dict | None) -> None:
        """A loop inside the body being analysed: its first iteration on fresh symbols (the
        costs of all `count`), then its last from the induction variables' closed form."""
        if not shape.ok:
            raise _Refused
        count, counter = shape.loop.count, shape.loop.counter
        env.gp[counter] = count
        _, steps = self._iteration(shape, env, mult * count, costs)
        last = env.child()
        for register, step in steps.items():
            last.gp[register] = add(env.gp[register], scale(step, count - 1))
        last.gp[counter] = 1
        self._walk(shape, last, 0, None)
        env.adopt(last)
        env.gp[counter] = 0

    def _walk(self, shape: Shape, env: _Env, mult: int, costs: dict | None) -> None:
        """Run the body of `shape` on `env`; charge DMA costs * `mult` into `costs`."""
        pc, end = shape.loop.start + 1, shape.loop.end
        while pc < end:
            mnemonic, f = self.ops[pc]
            if mnemonic == "C_LOOP_START":
                inner = self.shapes[pc]
                self._nested(inner, env, mult, costs)
                pc = inner.loop.end + 1
                continue
            self._step(mnemonic, f, pc, env, mult, costs)
            pc += 1

    def _step(self, m: str, f: Fields, pc: int, env: _Env, mult: int, costs: dict | None):
        """One instruction of the timing state on symbolic values."""
        gp = env.gp
        if m in INT_ALU:
            b = f.imm2 if m in INT_IMMEDIATE else gp[f.rs2]
            gp[f.rd] = _alu(m, gp[f.rs1], b)
        elif m == "S_LUI_INT":
            gp[f.rd] = (f.imm << 12) & MASK
        elif m == "S_LD_INT":
            gp[f.rd] = env.read_cell(_known(add(gp[f.rs1], f.imm2)))
        elif m == "S_ST_INT":
            address = _known(add(gp[f.rs1], f.imm2))
            if address >= self.ex.target.intram_entries:
                raise _Refused
            env.cells[address] = gp[f.rd]
        elif m == "C_SET_ADDR_REG":
            high, low = gp[f.rs1], gp[f.rs2]
            both = isinstance(high, int) and isinstance(low, int)
            env.areg[f.rd] = (high << 32) | low if both else opaque(high, low)
        elif m == "C_SET_SCALE_REG":
            env.scale = gp[f.rd]
        elif m == "C_SET_STRIDE_REG":
            env.stride = gp[f.rd]
        elif m in _DMA and costs is not None:
            store, rows, row_len, fmt = transfer_shape(m, f, self.ex.target)
            stride = _known(env.stride) if f.rs3 == 1 else row_len
            base, offset, scale_reg = _known(env.areg[f.rs2]), gp[f.rs1], _known(env.scale)
            if isinstance(offset, Linear):
                self._transfers.append(_Transfer(pc, store, rows, row_len, fmt, base, offset,
                                                 stride, scale_reg, tuple(self._levels)))
                return
            cost = self.ex.hbm.transfer_cost(store, base, _known(offset), stride, scale_reg,
                                             rows, row_len, fmt)
            total = costs.setdefault(pc, [0, 0, 0])
            for i, value in enumerate(cost):
                total[i] += mult * value

    # ---------------------------------------------------------------------------------- shape

    def _shape(self, loop: Loop, aborting: set[int]) -> Shape:
        target = self.ex.target
        ok = loop.exact and loop.count >= 1 and not any(
            pc in aborting for pc in range(loop.start, loop.end + 1)
        ) and all(
            inner.iteration <= target.max_loop_instructions for inner in _loops_in(loop)
        )
        written, special, reads, special_reads = set(), set(), set(), set()
        for pc in range(loop.start + 1, loop.end):
            op = self.ops[pc]
            if op is None:
                continue
            m, f = op
            if m in INT_ALU:
                written.add(f.rd)
                reads.update((f.rs1,) if m in INT_IMMEDIATE else (f.rs1, f.rs2))
            elif m in ("S_LUI_INT", "S_LD_INT"):
                written.add(f.rd)
                reads.add(f.rs1)
            elif m == "S_ST_INT":
                reads.update((f.rs1, f.rd))
            elif m == "C_LOOP_START":
                written.add(f.rd)
            elif m == "C_SET_ADDR_REG":
                special.add(f.rd)
                reads.update((f.rs1, f.rs2))
            elif m in ("C_SET_SCALE_REG", "C_SET_STRIDE_REG"):
                special.add("scale" if m == "C_SET_SCALE_REG" else "stride")
                reads.add(f.rd)
            elif m in _DMA:
                reads.add(f.rs1)
                special_reads.update((f.rs2, "scale") + (("stride",) if f.rs3 == 1 else ()))
        return Shape(
            loop=loop,
            ok=ok,
            written=frozenset(written),
            writes_special=frozenset(special),
            key_registers=tuple(sorted(reads - written - {loop.counter})),
            key_special=tuple(sorted(special_reads - special, key=str)),
            counts=_iteration_counts(loop),
        )


def _loops_in(loop: Loop):
    yield loop
    for inner in loop.inner:
        yield from _loops_in(inner)


def _iteration_counts(loop: Loop) -> tuple[tuple[int, int], ...]:
    """(pc, executions per iteration of `loop`) for its body and its C_LOOP_END."""
    counts = dict.fromkeys(range(loop.start + 1, loop.end + 1), 1)
    for inner in loop.inner:
        for pc, n in _iteration_counts(inner):
            counts[pc] = inner.count * n
    return tuple(counts.items())


def _evaluate(value: Value, values: dict[int, int]) -> int:
    """An int or Linear value with each symbol s at values[s]."""
    if isinstance(value, int):
        return value
    return (value.const + sum(coef * values[s] for s, coef in value.terms)) & MASK


def _check_evaluable(transfer: _Transfer) -> None:
    """_Refused unless the offset of `transfer` can be computed in every iteration: every
    symbol it depends on is an induction variable whose entry value and step are linear in
    the symbols of the loops around (the outermost loop's entry values come from the
    machine, its steps are known)."""
    needed = set(symbols_of(transfer.offset))
    for level in reversed(transfer.levels):
        for s in needed & level.fresh.keys():
            register = level.fresh[s]
            if register not in level.steps:
                raise _Refused
            forms = (level.entry[register], level.steps[register])
            if not all(isinstance(form, int | Linear) for form in forms):
                raise _Refused
            needed |= symbols_of(forms[0]) | symbols_of(forms[1])


def _known(value: Value) -> int:
    if not isinstance(value, int):
        raise _Refused
    return value


def _alu(mnemonic: str, a: Value, b: Value) -> Value:
    """INT_ALU[mnemonic](a, b) on symbolic values."""
    if isinstance(a, int) and isinstance(b, int):
        return INT_ALU[mnemonic](a, b) & MASK
    if mnemonic in ("S_ADD_INT", "S_ADDI_INT"):
        return add(a, b)
    if mnemonic == "S_SUB_INT":
        return add(a, b, -1)
    if mnemonic == "S_MUL_INT" and (isinstance(a, int) or isinstance(b, int)):
        return scale(b, a) if isinstance(a, int) else scale(a, b)
    if mnemonic in ("S_SLL_INT", "S_SLLI_INT") and isinstance(b, int):
        return scale(a, 1 << (b & 31))
    return opaque(a, b)

