"""Values of the integer registers as functions of a loop iteration's start: the domain of the
timing-only loop analysis (`loop_summary.py`).

A value is one of

- an `int`: a known u32;
- a `Linear`: const + sum(coef * symbol) mod 2^32, where each symbol stands for the value a
  register held when the iteration started;
- an `Opaque`: anything else (a product of two symbols, a right shift of one ...), with the
  symbols it depends on.

Addition, subtraction, multiplication by a known value and left shifts by a known amount
keep values linear; every other operation on a symbolic value is opaque.
"""

from __future__ import annotations

from dataclasses import dataclass

MOD = 1 << 32
MASK = MOD - 1


@dataclass(frozen=True, slots=True)
class Linear:
    """const + sum(coef * symbol) mod 2^32; `terms` is never empty, no coef is 0."""

    const: int
    terms: tuple[tuple[int, int], ...]  # (symbol, coef), sorted by symbol

    @property
    def symbols(self) -> frozenset[int]:
        return frozenset(symbol for symbol, _ in self.terms)


@dataclass(frozen=True, slots=True)
class Opaque:
    """A value that is no linear function of the symbols it depends on."""

    symbols: frozenset[int]


Value = int | Linear | Opaque


def symbol(s: int) -> Linear:
    """The value of symbol `s`."""
    return Linear(0, ((s, 1),))


def symbols_of(value: Value) -> frozenset[int]:
    """The symbols `value` depends on."""
    return frozenset() if isinstance(value, int) else value.symbols


def add(a: Value, b: Value, sign: int = 1) -> Value:
    """a + sign * b mod 2^32 (sign = -1: a - b)."""
    if isinstance(a, int) and isinstance(b, int):
        return (a + sign * b) & MASK
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        return Opaque(symbols_of(a) | symbols_of(b))
    terms: dict[int, int] = {}
    const = 0
    for value, factor in ((a, 1), (b, sign)):
        if isinstance(value, int):
            const += factor * value
            continue
        const += factor * value.const
        for s, coef in value.terms:
            terms[s] = (terms.get(s, 0) + factor * coef) & MASK
    return _linear(const & MASK, terms)


def scale(a: Value, k: int) -> Value:
    """a * k mod 2^32 for a known k."""
    if isinstance(a, int):
        return (a * k) & MASK
    if isinstance(a, Opaque):
        return a if k & MASK else 0
    return _linear((a.const * k) & MASK, {s: (coef * k) & MASK for s, coef in a.terms})


def opaque(*operands: Value) -> Opaque:
    """The unknown result of an operation on `operands`."""
    return Opaque(frozenset().union(*map(symbols_of, operands)))


def _linear(const: int, terms: dict[int, int]) -> Value:
    kept = tuple(sorted((s, coef) for s, coef in terms.items() if coef))
    return Linear(const, kept) if kept else const
