"""The linear u32 values of the timing-only loop analysis."""

from plena_mlir.sim.symbolic import MASK, Linear, Opaque, add, opaque, scale, symbol, symbols_of


def test_known_values_wrap_at_2_to_the_32():
    assert add(MASK, 2) == 1 and add(1, 2, -1) == MASK and scale(1 << 31, 2) == 0


def test_linear_values_combine_and_cancel():
    x, y = symbol(1), symbol(2)
    v = add(scale(x, 3), add(y, 5))
    assert v == Linear(5, ((1, 3), (2, 1)))
    assert add(v, scale(x, 3), -1) == Linear(5, ((2, 1),))
    assert add(add(x, 7), x, -1) == 7  # the symbol cancels: a known value
    assert scale(x, 1 << 32) == 0 and symbols_of(v) == {1, 2}


def test_anything_else_is_opaque_with_its_symbols():
    x, y = symbol(1), symbol(2)
    v = opaque(x, add(y, 1), 4)
    assert v == Opaque(frozenset({1, 2}))
    assert add(v, x) == v and scale(v, 3) == v and scale(v, 0) == 0
