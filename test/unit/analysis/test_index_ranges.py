"""IndexRanges: the interval of every index value of a kernel over its grid and loop trips, the
grid point reaching each end, and check_access_bounds through compile_kernel."""

from __future__ import annotations

import pytest
from plena_mlir.dialects.tile import KernelOp, Tile
from xdsl.context import Context
from xdsl.dialects import arith, scf
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.scf import Scf
from xdsl.ir import SSAValue
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.index_ranges import IndexRanges, Interval, Unbounded
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.pipeline import compile_kernel

CTX = Context()
for _dialect in (Builtin, Arith, Scf, Tile):
    CTX.load_dialect(_dialect)


def analyse(body: str, grid: str = "%block = 4") -> tuple[IndexRanges, dict[str, SSAValue]]:
    """The ranges of a kernel with `body`, and its index values by name."""
    text = f"tile.kernel @k grid({grid}) args(%x : !tile.tensor<128x64xf32>) {{\n{body}\n}}"
    module = Parser(CTX, text).parse_module()
    module.verify()
    kernel = next(op for op in module.walk() if isinstance(op, KernelOp))
    values: dict[str, SSAValue] = {}
    for op in kernel.walk():
        for block in (b for region in op.regions for b in region.blocks):
            values |= {a.name_hint: a for a in block.args if a.name_hint}
        values |= {r.name_hint: r for r in op.results if r.name_hint}
    return IndexRanges(kernel), values


CONSTANTS = """
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c10 = arith.constant 10 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %cm64 = arith.constant -64 : index
"""


def test_a_grid_index_runs_over_the_grid_and_names_the_point_at_each_end() -> None:
    ranges, v = analyse(CONSTANTS + "%row0 = arith.muli %block, %c64 : index")
    assert ranges.interval(v["block"]) == Interval(0, 3)
    assert ranges.interval(v["row0"]) == Interval(0, 192)
    row0 = ranges.of(v["row0"])
    assert not isinstance(row0, Unbounded)
    (highest, at_highest), (lowest, at_lowest) = row0.extreme(True), row0.extreme(False)
    assert (highest, lowest) == (192, 0)
    assert [(var.name, value) for var, value in at_highest.items()] == [("%block", 3)]
    assert [(var.name, value) for var, value in at_lowest.items()] == [("%block", 0)]
    assert [var.origin for var in at_highest] == ["grid block = 4"]


def test_two_grid_axes_are_independent() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %a = arith.muli %block, %c64 : index
  %off = arith.subi %a, %head : index
""",
        grid="%block = 2, %head = 8",
    )
    assert ranges.interval(v["off"]) == Interval(-7, 64)


def test_muli_by_a_negative_constant_swaps_the_ends() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %neg = arith.muli %block, %cm64 : index
  %neg_left = arith.muli %cm64, %block : index
  %zero = arith.muli %block, %c0 : index
"""
    )
    assert ranges.interval(v["neg"]) == Interval(-192, 0)
    assert ranges.interval(v["neg_left"]) == Interval(-192, 0)
    assert ranges.interval(v["zero"]) == Interval(0, 0)
    neg = ranges.of(v["neg"])
    assert not isinstance(neg, Unbounded)
    assert [value for value in neg.extreme(highest=False)[1].values()] == [3]


def test_subi_and_addi_are_exact_for_the_same_index() -> None:
    """Affine forms cancel: %block - %block is 0, not -3 .. 3 as plain intervals would say."""
    ranges, v = analyse(
        CONSTANTS
        + """
  %back = arith.subi %c256, %block : index
  %none = arith.subi %block, %block : index
  %twice = arith.addi %block, %block : index
"""
    )
    assert ranges.interval(v["back"]) == Interval(253, 256)
    assert ranges.interval(v["none"]) == Interval(0, 0)
    assert ranges.interval(v["twice"]) == Interval(0, 6)


def test_nested_loops_with_steps_and_a_grid_index() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c2 to %c10 step %c3 {
      %ij = arith.muli %i, %c64 : index
      %off = arith.addi %ij, %j : index
      %all = arith.addi %off, %block : index
    }
  }
"""
    )
    assert ranges.interval(v["i"]) == Interval(0, 3)
    assert ranges.interval(v["j"]) == Interval(2, 8)  # 2, 5, 8
    assert ranges.interval(v["off"]) == Interval(2, 200)
    assert ranges.interval(v["all"]) == Interval(2, 203)
    every = ranges.of(v["all"])
    assert not isinstance(every, Unbounded)
    highest = {var.name: value for var, value in every.extreme(True)[1].items()}
    assert highest == {"%i": 3, "%j": 8, "%block": 3}
    origins = {var.name: var.origin for var in every.extreme(True)[1]}
    assert origins["%j"] == "scf.for %j = 2 to 10 step 3"


def test_a_product_of_two_indices_is_bounded_by_the_interval_product() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %shifted = arith.subi %block, %c2 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %p = arith.muli %shifted, %i : index
  }
"""
    )
    assert ranges.interval(v["p"]) == Interval(-6, 3)


def test_a_value_advanced_by_a_constant_is_exact() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %end = scf.for %n = %c0 to %c3 step %c1 iter_args(%row = %c64) -> (index) {
    %next = arith.addi %row, %c64 : index
    scf.yield %next : index
  }
  %down_end = scf.for %m = %c0 to %c3 step %c1 iter_args(%down = %c256) -> (index) {
    %lower = arith.subi %down, %c64 : index
    scf.yield %lower : index
  }
  %same_end = scf.for %s = %c0 to %c3 step %c1 iter_args(%same = %block) -> (index) {
    scf.yield %same : index
  }
"""
    )
    assert ranges.interval(v["row"]) == Interval(64, 192)
    assert ranges.interval(v["end"]) == Interval(256, 256)
    assert ranges.interval(v["down"]) == Interval(128, 256)
    assert ranges.interval(v["down_end"]) == Interval(64, 64)
    assert ranges.interval(v["same"]) == Interval(0, 3)
    assert ranges.interval(v["same_end"]) == Interval(0, 3)
    row = ranges.of(v["row"])
    assert not isinstance(row, Unbounded)
    assert {var.name: k for var, k in row.extreme(True)[1].items()} == {"%n": 2}


def test_a_value_advanced_by_a_varying_amount_is_bounded_conservatively() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %end = scf.for %n = %c0 to %c4 step %c1 iter_args(%acc = %c0) -> (index) {
    %next = arith.addi %n, %acc : index
    scf.yield %next : index
  }
"""
    )
    # acc grows by at most 3 per trip: at most 3 * 3 in the body, 3 * 4 after the loop
    assert ranges.interval(v["acc"]) == Interval(0, 9)
    assert ranges.interval(v["end"]) == Interval(0, 12)


def test_a_value_not_advanced_by_an_independent_amount_cannot_be_bounded() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %end = scf.for %n = %c0 to %c3 step %c1 iter_args(%acc = %c1) -> (index) {
    %next = arith.muli %acc, %c2 : index
    scf.yield %next : index
  }
  %twice_end = scf.for %t = %c0 to %c3 step %c1 iter_args(%twice = %c1) -> (index) {
    %double = arith.addi %twice, %twice : index
    scf.yield %double : index
  }
"""
    )
    for name in ("acc", "next", "end", "twice", "double", "twice_end"):
        unbounded = ranges.of(v[name])
        assert isinstance(unbounded, Unbounded), name
        assert isinstance(unbounded.op, scf.ForOp)
    acc = ranges.of(v["acc"])
    assert isinstance(acc, Unbounded)
    assert acc.reason == (
        "scf.for %n, which carries %acc to the next iteration as something other than %acc "
        "plus an amount that does not depend on %acc"
    )


def test_a_remainder_by_a_positive_constant_of_a_non_negative_index_is_0_to_c_minus_1() -> None:
    """The GQA kv head h % kv_heads: over several periods 0 .. c-1, an opaque variable."""
    ranges, v = analyse(
        CONSTANTS
        + """
  %kvs = arith.remsi %head, %c4 : index
  %kvu = arith.remui %head, %c4 : index
  %row = arith.muli %kvs, %c64 : index
""",
        grid="%head = 10",
    )
    for name in ("kvs", "kvu"):
        assert ranges.interval(v[name]) == Interval(0, 3)
    assert ranges.interval(v["row"]) == Interval(0, 192)
    kv = ranges.of(v["kvs"])
    assert not isinstance(kv, Unbounded)
    assert [var.origin for var in kv.extreme(True)[1]] == ["arith.remsi, in 0..3"]


def test_a_remainder_within_one_period_is_exact() -> None:
    """a % c with a in c*q .. c*q + c - 1 is a - c*q: still the grid variable, so its ends name
    the grid point; a constant stays a constant."""
    ranges, v = analyse(
        CONSTANTS
        + """
  %up = arith.addi %block, %c4 : index
  %same = arith.remsi %block, %c4 : index
  %shifted = arith.remui %up, %c4 : index
  %wide = arith.remui %block, %c10 : index
  %ten = arith.remsi %c10, %c4 : index
""",
    )
    for name in ("same", "shifted", "wide"):
        exact = ranges.of(v[name])
        assert ranges.interval(v[name]) == Interval(0, 3)
        assert not isinstance(exact, Unbounded)
        assert [var.name for var in exact.extreme(True)[1]] == ["%block"]
    assert ranges.interval(v["ten"]) == Interval(2, 2)


def test_a_signed_remainder_of_a_possibly_negative_value_is_unbounded() -> None:
    """remsi of a negative value is negative (or zero); remui reads it as a huge unsigned
    value, whose remainder still lies in 0 .. c-1."""
    ranges, v = analyse(
        CONSTANTS
        + """
  %below = arith.subi %block, %c2 : index
  %signed = arith.remsi %below, %c4 : index
  %unsigned = arith.remui %below, %c4 : index
  %by_index = arith.remui %c64, %block : index
  %by_negative = arith.remsi %block, %cm64 : index
  %half = arith.divui %block, %c2 : index
  %of_unknown = arith.remui %half, %c4 : index
""",
    )
    signed = ranges.of(v["signed"])
    assert isinstance(signed, Unbounded)
    assert signed.reason == "arith.remsi of %below, which may be negative (-2)"
    assert ranges.interval(v["unsigned"]) == Interval(0, 3)
    assert ranges.interval(v["of_unknown"]) == Interval(0, 3)
    for name, divisor in (("by_index", "%block"), ("by_negative", "-64")):
        unbounded = ranges.of(v[name])
        assert isinstance(unbounded, Unbounded)
        assert unbounded.reason.endswith(f" by {divisor}, not a positive constant")


def test_an_unknown_op_is_unbounded_and_so_is_what_is_computed_from_it() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %half = arith.divui %block, %c2 : index
  %off = arith.addi %half, %c64 : index
"""
    )
    for name in ("half", "off"):
        unbounded = ranges.of(v[name])
        assert isinstance(unbounded, Unbounded)
        assert isinstance(unbounded.op, arith.DivUIOp)
        assert unbounded.reason.startswith("arith.divui, which is not index arithmetic")


def test_a_loop_that_runs_no_iteration() -> None:
    ranges, v = analyse(
        CONSTANTS
        + """
  %end = scf.for %n = %c4 to %c0 step %c1 iter_args(%row = %c64) -> (index) {
    %inside = arith.addi %n, %c1 : index
    scf.yield %row : index
  }
"""
    )
    inside = v["inside"].owner
    assert not ranges.runs(inside)
    assert ranges.runs(v["end"].owner)
    assert isinstance(ranges.of(v["n"]), Unbounded)
    assert ranges.interval(v["end"]) == Interval(64, 64)


def test_a_loop_with_bounded_but_not_constant_bounds() -> None:
    """The lowering rejects such a loop; its index is still bounded, what it carries is not."""
    ranges, v = analyse(
        CONSTANTS
        + """
  %ub = arith.addi %block, %c1 : index
  %end = scf.for %n = %c0 to %ub step %c1 iter_args(%row = %c0) -> (index) {
    %next = arith.addi %row, %c64 : index
    scf.yield %next : index
  }
"""
    )
    assert ranges.interval(v["n"]) == Interval(0, 3)
    assert isinstance(ranges.of(v["row"]), Unbounded)
    assert isinstance(ranges.of(v["end"]), Unbounded)


def _overrunning_softmax_like() -> ModuleOp:
    """Grid block = 4 over a 128-row tensor: block 2 and 3 read and write past its end."""
    with KernelBuilder("oob", grid={"block": 4}) as k:
        x, y = k.tensor("x", (128, 64)), k.tensor("y", (128, 64))
        t = k.alloc((64, 64), "vram", name="t")
        row0 = k.axis("block") * 64
        k.copy(x[row0, 0], t)
        k.exp(t, t)
        k.copy(t, y[row0, 0])
    return k.module


def test_compile_kernel_refuses_a_copy_past_the_end_of_its_tensor() -> None:
    message = (
        r"^tile\.copy %x\[\(%block \* 64\), 0\] -> %t: rows 192\.\.255 of %x \(128 rows\) are "
        r"out of bounds when %block = 3 \(grid block = 4\)$"
    )
    with pytest.raises(DiagnosticException, match=message):
        compile_kernel(_overrunning_softmax_like())
