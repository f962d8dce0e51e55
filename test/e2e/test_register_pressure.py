"""Register pressure: kernels compiled for a 16-GP-register plena-tvm and checked numerically.

- every kernel of the library (`all_kernels()`, so new kernels are covered as they are added)
  at its default sizes for `plena-tvm` with `gp_registers=16`, fp32 HBM, against its golden;
- flash_attention, the kernel with the most live addresses (four lanes' buffers, FPRAM state,
  nested loops), at every size of its spec, fp32 and mxfp8 HBM, at 16 GP registers: it has to
  spill, and its output is still its golden bit for bit;
- synthetic tile kernels with `scf.for` nests of depth 5 and 6 and index values live across
  loops (a row offset made in an outer loop is read in the innermost loop and after the inner
  nests), at 16 GP registers and below, against the tile interpreter (rounded mode);
- every allocated program is walked for spill stores: none may store, inside a repeating
  `plena.loop` (count > 1), a value carried by that loop (a block argument, a value defined
  outside the loop, or a value the loop yields).
"""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects.plena import (
    TARGET_ATTR_NAME,
    FpRegisterType,
    GpRegisterType,
    LoopOp,
    Registers,
    TargetAttr,
    target_of,
)
from plena_mlir.dialects.plena.scalar_fp_ops import S_StFpOp
from plena_mlir.dialects.plena.scalar_int_ops import S_StIntOp
from plena_mlir.passes.allocate_registers import AllocateRegistersPass
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Operation
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.register_allocation import spill_windows
from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.interp import interpret_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import CompiledKernel, compile_kernel
from plena_mlir.target import DEFAULT_TARGET

TILE = 64


def for_gp_registers(module: ModuleOp, gp_registers: int) -> ModuleOp:
    """`module` targeting plena-tvm with `gp_registers` GP registers (its plena.target)."""
    overrides = {"gp_registers": IntegerAttr(gp_registers, i64)}
    module.attributes[TARGET_ATTR_NAME] = TargetAttr("plena-tvm", overrides)
    return module


def spill_stores_of_carried_values(module: ModuleOp) -> list[str]:
    """S_ST_INT / S_ST_FP at gp0 + an address of the allocator's spill windows (the
    defaults `compile_kernel` uses) inside a plena.loop of count > 1 that store a value
    carried by that loop: one of its block arguments, a value defined outside it, or a value
    it yields.  Such a store would run every iteration on a value that must survive the back
    edge."""
    defaults = AllocateRegistersPass()
    windows = spill_windows(
        target_of(module),
        defaults.intram_spill_base,
        defaults.intram_spill_slots,
        defaults.fpram_spill_base,
        defaults.fpram_spill_slots,
    )
    found: list[str] = []
    for op in module.walk():
        if not isinstance(op, S_StIntOp | S_StFpOp):
            continue
        window = windows[GpRegisterType if isinstance(op, S_StIntOp) else FpRegisterType]
        address = op.properties["imm"].value.data  # type: ignore[attr-defined]
        stored, base = op.operands
        if base.type != Registers.ZERO or not window.base <= address < window.base + window.slots:
            continue
        loop = op.parent_op()
        while isinstance(loop, LoopOp):
            body = loop.body.block
            owner = stored.owner
            defined_inside = isinstance(owner, Operation) and loop.is_ancestor(owner)
            carried = (
                stored in body.args or not defined_inside or stored in body.last_op.operands  # type: ignore[union-attr]
            )
            if loop.count.value.data > 1 and carried:
                found.append(f"{op} stores a value carried by the enclosing {loop.name}")
            loop = loop.parent_op()
    return found


def spill_stores(module: ModuleOp) -> int:
    return sum(
        isinstance(op, S_StIntOp | S_StFpOp) and op.comment is not None for op in module.walk()
    )


# ------------------------------------------------------------------- the kernel library
@pytest.mark.parametrize("spec", list(all_kernels().values()), ids=lambda spec: spec.name)
def test_library_kernel_on_16_gp_registers_matches_golden(spec) -> None:
    sizes = spec.resolve()
    inputs = spec.make_inputs(sizes, np.random.default_rng(16), DEFAULT_TARGET)
    compiled = compile_kernel(for_gp_registers(spec.build(sizes), 16))
    assert compiled.target.gp_registers == 16
    assert all(
        value.type.physical_index < 16  # type: ignore[attr-defined]
        for op in compiled.module.walk()
        for value in op.results
        if isinstance(value.type, GpRegisterType)
    )
    assert spill_stores_of_carried_values(compiled.module) == []
    outputs, _ = run_kernel(compiled, inputs, "fp32")
    for name, golden in spec.golden(inputs, sizes, compiled.target, "fp32").items():
        result = compare(outputs[name], golden, "fp32")
        assert result.passed, f"{spec.name}, output {name}: {result.describe()}"


FLASH_ATTENTION = all_kernels()["flash_attention"]


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize(
    "overrides",
    [{}, *FLASH_ATTENTION.sizes_to_test()],
    ids=lambda o: "-".join(f"{k}{v}" for k, v in o.items()) or "defaults",
)
def test_flash_attention_on_16_gp_registers_spills_and_is_its_golden(overrides, hbm_format):
    spec = FLASH_ATTENTION
    sizes = spec.resolve(overrides)
    inputs = spec.make_inputs(sizes, np.random.default_rng(16), DEFAULT_TARGET)
    compiled = compile_kernel(for_gp_registers(spec.build(sizes), 16))
    assert spill_stores(compiled.module) > 0, "16 GP registers were meant to force spills"
    assert spill_stores_of_carried_values(compiled.module) == []
    outputs, _ = run_kernel(compiled, inputs, hbm_format)
    golden = spec.golden(inputs, sizes, compiled.target, hbm_format)["O"]
    np.testing.assert_array_equal(outputs["O"], golden)


# ---------------------------------------------------------------- synthetic loop nests
def deep_nest(depth: int, gp_registers: int) -> ModuleOp:
    """A kernel whose `scf.for` nest has `depth` levels (two iterations each): the two outer
    loops pick a 64-row block, `row0` (made in the second loop, read in the innermost loop and
    after the inner nests); each further level halves a column span starting at its `col0`.
    The innermost body copies x[row0, col0] into t, adds t into acc, exponentiates t and
    writes it to y[row0, col0]; after each column loop the last t is written again to the
    first tile of that loop's span, y[row0, col0 of the level]; after the column nest acc
    (loaded from x[row0, 0] before it) goes to z[row0, 0]."""
    cols = TILE * 2 ** (depth - 2)
    with KernelBuilder("deep") as k:
        x, y = k.tensor("x", (4 * TILE, cols)), k.tensor("y", (4 * TILE, cols))
        z = k.tensor("z", (4 * TILE, TILE))
        t = k.alloc((TILE, TILE), "vram", name="t")
        acc = k.alloc((TILE, TILE), "vram", name="acc")

        def columns(row0, col0, span: int) -> None:
            if span == TILE:
                k.copy(x[row0, col0], t)
                k.add(acc, acc, t)
                k.exp(t, t)
                k.copy(t, y[row0, col0])
                return
            for half in k.range(0, 2):
                columns(row0, col0 + half * (span // 2), span // 2)
            k.copy(t, y[row0, col0])

        for a in k.range(0, 2):
            for b in k.range(0, 2):
                row0 = (a * 2 + b) * TILE
                k.copy(x[row0, 0], acc)
                columns(row0, 0, cols)
                k.copy(acc, z[row0, 0])
    return for_gp_registers(k.module, gp_registers)


def loop_depth(module: ModuleOp) -> int:
    """The deepest nest of plena.loop in the compiled module."""

    def depth(op: Operation) -> int:
        inner = [depth(child) for r in op.regions for b in r.blocks for child in b.ops]
        return max(inner, default=0) + isinstance(op, LoopOp)

    return depth(module)


def run_against_interpreter(module: ModuleOp) -> CompiledKernel:
    compiled = compile_kernel(module)
    x_shape = compiled.tensors["x"]
    x = np.random.default_rng(x_shape[1]).normal(0.0, 1.0, x_shape).astype(np.float32)
    outputs, _ = run_kernel(compiled, {"x": x}, "fp32")
    golden = interpret_kernel(module, "deep", {"x": x}, mode="rounded")
    for name in ("y", "z"):
        result = compare(outputs[name], golden[name], "fp32")
        assert result.passed, f"output {name}: {result.describe()}"
    return compiled


@pytest.mark.parametrize("depth", [5, 6])
def test_deep_loop_nests_on_16_gp_registers_spill_and_match_the_interpreter(depth) -> None:
    compiled = run_against_interpreter(deep_nest(depth, gp_registers=16))
    assert loop_depth(compiled.module) >= depth
    assert spill_stores(compiled.module) > 0, "the nest was meant to force spills"
    assert spill_stores_of_carried_values(compiled.module) == []


def test_a_deep_nest_with_registers_to_spare_needs_no_spill() -> None:
    compiled = run_against_interpreter(deep_nest(5, gp_registers=32))
    assert spill_stores(compiled.module) == 0


def test_a_nest_too_deep_for_its_registers_is_a_diagnostic() -> None:
    """Loop counters cannot be spilled: 3 allocatable GP registers cannot hold the 5
    counters of a depth-5 nest."""
    with pytest.raises(DiagnosticException, match=r"out of plena\.gp registers .* only 3 are"):
        compile_kernel(deep_nest(5, gp_registers=4))


def test_the_checker_finds_a_spill_store_of_a_carried_value() -> None:
    """The oracle must see the bug it is meant to catch: a store of a carried value at the
    top of a repeating loop body, into the IntRAM spill window."""
    module = compile_kernel(deep_nest(5, gp_registers=16)).module
    assert spill_stores_of_carried_values(module) == []
    loop = next(
        op
        for op in module.walk()
        if isinstance(op, LoopOp) and op.count.value.data > 1 and len(op.body.block.args) > 1
    )
    zero = next(v for op in module.walk() for v in op.results if v.type == Registers.ZERO)
    address = target_of(module).intram_entries - 1
    store = S_StIntOp(loop.body.block.args[1], zero, imm=address)
    Rewriter.insert_op(store, InsertPoint.at_start(loop.body.block))
    assert len(spill_stores_of_carried_values(module)) == 1
