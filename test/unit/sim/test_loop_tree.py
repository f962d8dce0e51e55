"""The static loop tree: its loops, the instructions a run executes, and when that is exact."""

import pytest

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import pack
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.loop_tree import loop_tree
from plena_mlir.target import PLENA_TVM


def words(text: str) -> list[int]:
    return [pack(i, PLENA_TVM) for i in parse_asm(text, PLENA_TVM)]


NESTED = """
    S_ADDI_INT gp5, gp0, 1
    C_LOOP_START gp1, 3
      S_ADDI_INT gp5, gp5, 1
      C_LOOP_START gp2, 4
        S_ADDI_INT gp6, gp6, 2
        S_ADDI_INT gp7, gp7, 2
      C_LOOP_END gp2
    C_LOOP_END gp1
    C_LOOP_START gp1, 5
    C_LOOP_END gp1
"""


def test_nested_loops_and_their_instructions():
    tree = loop_tree(words(NESTED))
    outer, second = tree.loops
    (inner,) = outer.inner
    assert (outer.start, outer.end, outer.counter, outer.count) == (1, 7, 1, 3)
    assert (inner.start, inner.end, inner.count, inner.iteration) == (3, 6, 4, 3)
    assert outer.iteration == 1 + inner.instructions + 1 == 15
    assert second.iteration == 1 and second.inner == ()
    assert tree.instructions == 1 + (1 + 3 * 15) + (1 + 5 * 1)
    assert tree.exact
    assert tree.largest_loop() is second
    assert [loop.start for loop in tree.walk()] == [1, 3, 8]


def test_an_exact_tree_counts_what_a_run_executes():
    program = words(NESTED)
    assert Simulator().run(program).instructions == loop_tree(program).instructions


@pytest.mark.parametrize(
    "text",
    [
        # the body writes its own counter
        "C_LOOP_START gp1, 3\nS_ADDI_INT gp1, gp1, 1\nC_LOOP_END gp1\n",
        # an inner loop reuses the counter of the loop around it
        "C_LOOP_START gp1, 3\nC_LOOP_START gp1, 2\nC_LOOP_END gp1\nC_LOOP_END gp1\n",
        # loops closed out of order
        "C_LOOP_START gp1, 2\nC_LOOP_START gp2, 3\nC_LOOP_END gp1\nC_LOOP_END gp2\n",
        # a C_BREAK, a C_LOOP_END without a loop, a loop never closed
        "C_LOOP_START gp1, 2\nC_BREAK\nC_LOOP_END gp1\n",
        "C_LOOP_END gp3\n",
        "C_LOOP_START gp1, 2\nS_ADDI_INT gp2, gp2, 1\n",
    ],
)
def test_loops_that_do_not_nest_make_an_estimate(text):
    assert not loop_tree(words(text)).exact


def test_a_loop_closed_out_of_order_closes_the_loops_inside_it():
    tree = loop_tree(words("C_LOOP_START gp1, 2\nC_LOOP_START gp2, 3\nS_ADDI_INT gp5, gp5, 1\n"
                           "C_LOOP_END gp1\n"))
    (loop,) = tree.loops
    assert (loop.start, loop.end, loop.count, loop.iteration) == (0, 3, 2, 3)
    assert tree.instructions == 1 + 2 * 3
