"""The range of every index value of a `tile.kernel` body, over all grid points and loop trips.

    ranges = IndexRanges(kernel)
    ranges.interval(row0)          # Interval(0, 192) for row0 = %block * 64, grid block = 4
    ranges.of(row0)                # IndexRange: 64 * k_block, with the grid point that is 192

Grid sizes and scf.for bounds are constants (convert-lane-to-plena requires constant loop
bounds), so each index value is a function of finitely many *variables*, each running over a
known range:

    a grid axis of size N                  value k                 k in 0 .. N-1
    scf.for %i = lb to ub step s           value lb + s * k        k in 0 .. count-1,
                                                                   count = ceil((ub - lb) / s)
    an opaque interval lo .. hi            value lo + k            k in 0 .. hi-lo

`IndexRanges.of(value)` is an `IndexRange`, constant + sum(coefficient * k) over independent
variables (so its interval is exact and `extreme` names the variable values reaching each
end), or `Unbounded`, naming the op the analysis could not see through:

    arith.constant c                 c
    arith.addi a, b / subi a, b      a + b / a - b
    arith.muli a, b                  a scaled, when b is a constant (or b scaled by a);
                                     else an opaque variable over the interval product
    arith.remui a, c / remsi a, c    c a positive constant (remsi: a's interval a_lo .. a_hi
                                     non-negative; remui: any a, as unsigned):
                                     a - c * q when a_lo .. a_hi lies in one period
                                     c * q .. c * q + c - 1 (exact; a itself when q = 0),
                                     else (and for remui of a possibly negative or
                                     unbounded a) an opaque variable over 0 .. c - 1
    scf.for induction variable       lb + s * k; with bounds that are bounded but not constant
                                     (the lowering rejects them), an opaque variable over
                                     lb_lo .. ub_hi - 1 (s > 0) and nothing it carries is bounded
    scf.for carried value %a, yielded as %a, %a + d, d + %a or %a - d, d not depending on %a:
      d a constant                   init + d * k (exact); the loop's result init + d * count
      d bounded (d_lo .. d_hi)       an opaque variable over
                                     init + min(0, t * d_lo) .. init + max(0, t * d_hi),
                                     t = count - 1 in the body, count after the loop
    anything else                    Unbounded, and so is every value computed from it

Values inside a loop that runs no iteration never exist; `runs(op)` tells whether every
scf.for around `op` runs at least once.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr
from xdsl.ir import BlockArgument, Operation, OpResult, SSAValue

from plena_mlir.dialects.tile import KernelOp

#: What the analysis bounds, for diagnostics about what it does not.
SUPPORTED = (
    "only arith.constant, addi, subi, muli, and remui / remsi by a positive constant (remsi of a "
    "non-negative value) of grid indices and of scf.for indices with constant bounds are bounded"
)


@dataclass(eq=False)
class Variable:
    """An independent index taking the values first + step * k for k in 0 .. count-1: a grid
    index, an scf.for iteration, or an opaque interval.  `name` is how it is shown (`%block`),
    `origin` where it comes from (`grid block = 4`)."""

    name: str
    origin: str
    first: int
    step: int
    count: int

    def value(self, k: int) -> int:
        return self.first + self.step * k


@dataclass(frozen=True)
class Interval:
    """Every integer lo .. hi (both included)."""

    lo: int
    hi: int


@dataclass(frozen=True)
class Unbounded:
    """A value the analysis cannot bound because it depends on `op`; `reason` names that op
    and says why, to follow "it depends on" (`arith.divui, which is not index arithmetic...`)."""

    op: Operation
    reason: str


@dataclass(frozen=True)
class IndexRange:
    """constant + sum(coefficient * k_v) over `terms` (variable, non-zero coefficient), each
    k_v independently in 0 .. v.count-1."""

    constant: int
    terms: tuple[tuple[Variable, int], ...] = ()

    @staticmethod
    def of_variable(variable: Variable) -> IndexRange:
        """The values of `variable`: first + step * k."""
        return IndexRange(variable.first, ((variable, variable.step),))

    @property
    def is_constant(self) -> bool:
        return not self.terms

    @property
    def interval(self) -> Interval:
        return Interval(self.extreme(highest=False)[0], self.extreme(highest=True)[0])

    def extreme(self, highest: bool) -> tuple[int, dict[Variable, int]]:
        """The largest (or smallest) value and the value of each variable that gives it."""
        total, witness = self.constant, {}
        for variable, coefficient in self.terms:
            k = variable.count - 1 if (coefficient > 0) == highest else 0
            total += coefficient * k
            witness[variable] = variable.value(k)
        return total, witness

    def __add__(self, other: IndexRange) -> IndexRange:
        coefficients = dict(self.terms)
        for variable, coefficient in other.terms:
            coefficients[variable] = coefficients.get(variable, 0) + coefficient
        terms = tuple((v, c) for v, c in coefficients.items() if c)
        return IndexRange(self.constant + other.constant, terms)

    def scaled(self, factor: int) -> IndexRange:
        if not factor:
            return IndexRange(0)
        return IndexRange(self.constant * factor, tuple((v, c * factor) for v, c in self.terms))

    def __sub__(self, other: IndexRange) -> IndexRange:
        return self + other.scaled(-1)


Range = IndexRange | Unbounded


def describe_index(value: SSAValue) -> str:
    """How diagnostics show an index value: a constant's value, `%name`, or else its
    arithmetic (`(%block * 64)`)."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return str(owner.value.value.data)
    if value.name_hint:
        return f"%{value.name_hint}"
    symbol = {
        arith.AddiOp: "+",
        arith.SubiOp: "-",
        arith.MuliOp: "*",
        arith.RemUIOp: "%",
        arith.RemSIOp: "%",
    }.get(type(owner))
    if symbol is not None:
        assert isinstance(owner, Operation)
        lhs, rhs = (describe_index(operand) for operand in owner.operands)
        return f"({lhs} {symbol} {rhs})"
    if isinstance(owner, Operation):
        return f"<a result of {owner.name}>"
    if isinstance(owner.parent_op(), scf.ForOp):
        assert isinstance(value, BlockArgument)
        return "<the scf.for index>" if value.index == 0 else "<a value carried by scf.for>"
    return "<a block argument>"


class IndexRanges:
    """The `IndexRange` of every index value of one kernel body (module docstring)."""

    def __init__(self, kernel: KernelOp):
        self._ranges: dict[SSAValue, Range] = {}
        self._in_progress: set[SSAValue] = set()
        self._loops: dict[scf.ForOp, Variable | Unbounded] = {}
        self._inexact: set[scf.ForOp] = set()  # loops whose variable is their index's interval
        for (axis, size), index in zip(kernel.grid.items(), kernel.grid_indices, strict=True):
            variable = Variable(f"%{axis}", f"grid {axis} = {size}", 0, 1, size)
            self._ranges[index] = IndexRange.of_variable(variable)
        for op in kernel.walk():  # in program order, so operands are known before uses
            values = [*op.results, *(a for r in op.regions for b in r.blocks for a in b.args)]
            for value in values:
                if isinstance(value.type, IndexType):
                    self.of(value)

    # queries ----------------------------------------------------------------------------------
    def of(self, value: SSAValue) -> Range:
        """The range of the index value `value`."""
        if value in self._ranges:
            return self._ranges[value]
        if value in self._in_progress:
            return _not_simple(value)
        self._in_progress.add(value)
        try:
            result = self._compute(value)
        finally:
            self._in_progress.discard(value)
        self._ranges[value] = result
        return result

    def interval(self, value: SSAValue) -> Interval | Unbounded:
        """The smallest and largest value `value` takes, or why it cannot be bounded."""
        result = self.of(value)
        return result if isinstance(result, Unbounded) else result.interval

    def runs(self, op: Operation) -> bool:
        """Whether every scf.for around `op` runs at least once (a loop whose trip count is not
        known counts as running)."""
        parent = op.parent_op()
        while parent is not None:
            if isinstance(parent, scf.ForOp):
                loop = self._loop(parent)
                if isinstance(loop, Variable) and loop.count == 0:
                    return False
            parent = parent.parent_op()
        return True

    # transfer functions -----------------------------------------------------------------------
    def _compute(self, value: SSAValue) -> Range:
        if isinstance(value, BlockArgument):
            loop = value.block.parent_op()
            if not isinstance(loop, scf.ForOp):
                assert loop is not None
                return Unbounded(loop, f"a block argument of {loop.name}, which is not bounded")
            if value.index == 0:
                return self._induction_variable(loop)
            return self._carried(loop, value.index - 1, inside=True)
        assert isinstance(value, OpResult)
        op = value.op
        if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
            return IndexRange(op.value.value.data)
        if isinstance(op, arith.AddiOp | arith.SubiOp | arith.MuliOp):
            return self._arithmetic(op)
        if isinstance(op, arith.RemUIOp | arith.RemSIOp):
            return self._remainder(op)
        if isinstance(op, scf.ForOp):
            return self._carried(op, value.index, inside=False)
        return Unbounded(
            op, f"{op.name}, which is not index arithmetic the analysis knows ({SUPPORTED})"
        )

    def _arithmetic(self, op: arith.AddiOp | arith.SubiOp | arith.MuliOp) -> Range:
        lhs, rhs = self.of(op.lhs), self.of(op.rhs)
        if isinstance(lhs, Unbounded):
            return lhs
        if isinstance(rhs, Unbounded):
            return rhs
        if isinstance(op, arith.AddiOp):
            return lhs + rhs
        if isinstance(op, arith.SubiOp):
            return lhs - rhs
        if rhs.is_constant:
            return lhs.scaled(rhs.constant)
        if lhs.is_constant:
            return rhs.scaled(lhs.constant)
        a, b = lhs.interval, rhs.interval
        products = [x * y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
        return _opaque(describe_index(op.result), f"{op.name}", min(products), max(products))

    def _remainder(self, op: arith.RemUIOp | arith.RemSIOp) -> Range:
        """a % c for a positive constant c (module docstring)."""
        lhs, rhs = self.of(op.lhs), self.of(op.rhs)
        if isinstance(rhs, Unbounded):
            return rhs
        if not rhs.is_constant or rhs.constant <= 0:
            return Unbounded(op, f"{op.name} by {describe_index(op.rhs)}, not a positive constant")
        c, name = rhs.constant, describe_index(op.result)
        a = None if isinstance(lhs, Unbounded) else lhs.interval
        if a is None or a.lo < 0:
            if isinstance(op, arith.RemUIOp):  # a as unsigned is non-negative: any a % c
                return _opaque(name, op.name, 0, c - 1)
            if isinstance(lhs, Unbounded):
                return lhs
            return Unbounded(
                op, f"arith.remsi of {describe_index(op.lhs)}, which may be negative ({a.lo})"
            )
        assert isinstance(lhs, IndexRange)
        period = a.lo // c
        if a.hi // c == period:
            return lhs - IndexRange(c * period)
        return _opaque(name, op.name, 0, c - 1)

    def _loop(self, loop: scf.ForOp) -> Variable | Unbounded:
        """The iteration variable of `loop`, or why its bounds are unknown."""
        if loop not in self._loops:
            self._loops[loop] = self._new_loop(loop)
        return self._loops[loop]

    def _new_loop(self, loop: scf.ForOp) -> Variable | Unbounded:
        lb, ub, step = (self.of(v) for v in (loop.lb, loop.ub, loop.step))
        for bound in (lb, ub, step):
            if isinstance(bound, Unbounded):
                return bound
        assert isinstance(lb, IndexRange) and isinstance(ub, IndexRange)
        assert isinstance(step, IndexRange)
        name = describe_index(loop.body.block.args[0])
        if not step.is_constant or step.constant == 0:
            return Unbounded(loop, f"scf.for {name}, whose step is not a non-zero constant")
        s = step.constant
        if lb.is_constant and ub.is_constant:
            origin = f"scf.for {name} = {lb.constant} to {ub.constant} step {s}"
            return Variable(
                name, origin, lb.constant, s, max(0, -(-(ub.constant - lb.constant) // s))
            )
        self._inexact.add(loop)
        first, last = (
            (lb.interval.lo, ub.interval.hi - 1) if s > 0 else (ub.interval.lo + 1, lb.interval.hi)
        )
        origin = (
            f"scf.for {name} = {describe_index(loop.lb)} to {describe_index(loop.ub)} step {s}, "
            f"in {first}..{last}"
        )
        return Variable(name, origin, first, 1, max(0, last - first + 1))

    def _induction_variable(self, loop: scf.ForOp) -> Range:
        variable = self._loop(loop)
        if isinstance(variable, Unbounded):
            return variable
        if variable.count == 0:
            return _no_iteration(loop)
        return IndexRange.of_variable(variable)

    def _carried(self, loop: scf.ForOp, index: int, inside: bool) -> Range:
        """Carried value `index` of `loop`: in the body (`inside`) or the loop's result."""
        variable, init = self._loop(loop), self.of(loop.iter_args[index])
        carried = loop.body.block.args[index + 1]
        if isinstance(variable, Unbounded):
            return variable
        if loop in self._inexact:
            return Unbounded(
                loop,
                f"scf.for {describe_index(loop.body.block.args[0])}, whose bounds are not "
                f"constants, so how often it advances {describe_index(carried)} is not known",
            )
        if variable.count == 0:
            return _no_iteration(loop) if inside else init
        if isinstance(init, Unbounded):
            return init
        if not inside and isinstance(in_body := self.of(carried), Unbounded):
            return in_body
        # Inside, `carried` is in progress (a cycle back to it is not simple); for the result,
        # everything the increment depends on is known by now.
        increment = self._increment(loop, index)
        if isinstance(increment, Unbounded):
            return increment
        trips = variable.count - 1 if inside else variable.count
        if increment.is_constant:
            if inside:
                return init + IndexRange(0, ((variable, increment.constant),))
            return init + IndexRange(increment.constant * trips)
        start, step = init.interval, increment.interval
        return _opaque(
            describe_index(carried if inside else loop.results[index]),
            f"carried by {variable.origin}",
            start.lo + min(0, trips * step.lo),
            start.hi + max(0, trips * step.hi),
        )

    def _increment(self, loop: scf.ForOp, index: int) -> Range:
        """d such that one iteration of `loop` turns carried value `index` into itself + d."""
        carried = loop.body.block.args[index + 1]
        yielded = loop.body.block.last_op
        assert isinstance(yielded, scf.YieldOp)
        value = yielded.operands[index]
        if value is carried:
            return IndexRange(0)
        op = value.owner
        if isinstance(op, arith.AddiOp) and carried in op.operands:
            other, sign = op.rhs if op.lhs is carried else op.lhs, 1
        elif isinstance(op, arith.SubiOp) and op.lhs is carried:
            other, sign = op.rhs, -1
        else:
            return _not_simple(carried)
        increment = self.of(other)
        return increment if isinstance(increment, Unbounded) else increment.scaled(sign)


def _opaque(name: str, origin: str, lo: int, hi: int) -> IndexRange:
    """An independent variable over lo .. hi, standing for a value the analysis only bounds."""
    return IndexRange.of_variable(Variable(name, f"{origin}, in {lo}..{hi}", lo, 1, hi - lo + 1))


def _no_iteration(loop: scf.ForOp) -> Unbounded:
    name = describe_index(loop.body.block.args[0])
    return Unbounded(loop, f"scf.for {name}, which runs no iteration (its body never runs)")


def _not_simple(carried: SSAValue) -> Unbounded:
    """`carried`, a value an scf.for carries, is not advanced by an amount independent of it
    (the only way back to a value whose range is being computed is through a loop's yield)."""
    assert isinstance(carried, BlockArgument)
    loop = carried.block.parent_op()
    assert isinstance(loop, scf.ForOp)
    name, index = describe_index(carried), describe_index(loop.body.block.args[0])
    return Unbounded(
        loop,
        f"scf.for {index}, which carries {name} to the next iteration as something other than "
        f"{name} plus an amount that does not depend on {name}",
    )
