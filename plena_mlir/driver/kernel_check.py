"""Checking one kernel: compile it, simulate it on seeded inputs, compare with its reference.

`run_library_kernel(spec, overrides)` builds a library kernel at its sizes and compares every
output with the kernel's golden; `run_mlir_file(path)` compiles the `tile.kernel` of a file
and compares every tensor it writes with the tile interpreter in rounded mode (a file holding
a `tile.chain` goes to `chain_check.run_chain_file`).  Both return a `RunReport` and raise
`BadInput` (one line) for bad input.  A timing-only simulation (`SimOptions.timing_only`)
computes no values, so nothing is compared.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects import get_all_dialects as get_xdsl_dialects
from xdsl.dialects.builtin import Float32Type, ModuleOp
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException, ParseError

from plena_mlir.analysis.roofline import roofline
from plena_mlir.dialects import get_all_dialects
from plena_mlir.dialects.tile import ChainOp, KernelOp, TensorType
from plena_mlir.driver.bad_input import BadInput, check_scalars, checked, first_line
from plena_mlir.driver.chain_check import run_chain_file
from plena_mlir.driver.compare import Comparison, compare
from plena_mlir.driver.report import RunReport
from plena_mlir.driver.run import SimOptions, run_kernel
from plena_mlir.driver.run_options import (
    resolve_target,
    set_target,
    target_settings,
    write_asm,
)
from plena_mlir.interp import interpret_kernel
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.linking.kernel_access import tensor_access
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.pipeline import CompiledKernel, compile_kernel
from plena_mlir.sim.stats import Stats


def run_library_kernel(
    spec: KernelSpec,
    overrides: Mapping[str, int] | None = None,
    *,
    target: str | None = None,
    hbm_format: HbmFormat = "mxfp8",
    seed: int = 0,
    scalars: Mapping[str, float] | None = None,
    emit_asm: Path | None = None,
    simulation: SimOptions | None = None,
) -> RunReport:
    """Build `spec` with the default sizes and `overrides`, compile, simulate (`simulation`:
    budget, progress bar) and compare with its golden.  BadInput for bad input."""
    machine = resolve_target(target)
    sizes = checked(lambda: spec.resolve(overrides, machine), "")
    module = checked(lambda: spec.build(sizes, machine), "")
    inputs = spec.make_inputs(sizes, np.random.default_rng(seed), machine)
    for name, value in (scalars or {}).items():
        if not isinstance(inputs.get(name), float):
            known = ", ".join(k for k, v in inputs.items() if isinstance(v, float)) or "none"
            raise BadInput(f"{spec.name} has no scalar argument {name} (scalars: {known})")
        inputs[name] = value
    simulated = _compile_and_run(module, inputs, hbm_format, emit_asm, simulation)
    comparisons = {}
    if not simulated.timing_only:
        with np.errstate(all="ignore"):  # inf and NaN are results, as on the machine
            expected = spec.golden(inputs, sizes, simulated.compiled.target, hbm_format)
        comparisons = {
            name: compare(simulated.outputs[name], value, hbm_format)
            for name, value in expected.items()
        }
    return _report(spec.name, "library", sizes, module, simulated, comparisons, seed, target)


def run_mlir_file(
    path: Path,
    *,
    target: str | None = None,
    hbm_format: HbmFormat = "mxfp8",
    seed: int = 0,
    scalars: Mapping[str, float] | None = None,
    emit_asm: Path | None = None,
    stages: bool = False,
    simulation: SimOptions | None = None,
) -> RunReport:
    """Compile and simulate the tile kernel in `path`; compare every tensor it writes with
    the tile interpreter's rounded result.  A file holding a `tile.chain` is linked and run
    as a chain (`run_chain_file`, `stages` as for a library chain).  BadInput for bad
    input."""
    module = parse_mlir_file(path)
    if any(isinstance(op, ChainOp) for op in module.body.block.ops):
        return run_chain_file(module, str(path), target=target, hbm_format=hbm_format,
                              seed=seed, scalars=scalars, emit_asm=emit_asm, stages=stages,
                              simulation=simulation)
    if stages:
        raise BadInput(f"--stages applies to chains; {path} holds no tile.chain")
    kernels = [op for op in module.walk() if isinstance(op, KernelOp)]
    if len(kernels) != 1:
        raise BadInput(f"{path}: expected one tile.kernel, found {len(kernels)}")
    kernel = kernels[0]
    set_target(module, target)
    scalars = dict(scalars or {})
    arguments = dict(zip((a.data for a in kernel.arg_names.data), kernel.arguments, strict=True))
    scalar_names = [n for n, a in arguments.items() if isinstance(a.type, Float32Type)]
    check_scalars(str(path), f"@{kernel.sym_name.data}", scalar_names, scalars)
    access = tensor_access(kernel)
    rng = np.random.default_rng(seed)
    tensors = {
        name: rng.standard_normal(arg.type.get_shape()).astype(np.float32)
        for name, arg in arguments.items()
        if name in access.reads
    }
    simulated = _compile_and_run(module, {**tensors, **scalars}, hbm_format, emit_asm,
                                 simulation)
    shapes = {
        name: list(arg.type.get_shape())
        for name, arg in arguments.items()
        if isinstance(arg.type, TensorType)
    }
    comparisons = {}
    if not simulated.timing_only:
        reference = checked(
            lambda: interpret_kernel(module, kernel.sym_name.data, tensors, mode="rounded",
                                     hbm_format=hbm_format, **scalars),
            "interpreter: ",
        )
        comparisons = {
            name: compare(simulated.outputs[name], reference[name], hbm_format)
            for name in arguments
            if name in access.writes
        }
    return _report(
        kernel.sym_name.data, str(path), shapes, module, simulated, comparisons, seed, target
    )


def parse_mlir_file(path: Path) -> ModuleOp:
    """The verified module in `path`; BadInput (one line) when it cannot be read or parsed."""
    try:
        text = path.read_text()
    except OSError as e:
        raise BadInput(f"cannot read '{path}': {e.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not a text file") from None
    ctx = Context()
    for name, factory in {**get_xdsl_dialects(), **get_all_dialects()}.items():
        ctx.register_dialect(name, factory)
    try:
        module = Parser(ctx, text, str(path)).parse_module()
        module.verify()
    except ParseError as e:
        raise BadInput(f"{e.span.get_location()}: {e.msg}") from None
    except DiagnosticException as e:
        raise BadInput(f"{path}: {first_line(e)}") from None
    return module


@dataclass(frozen=True)
class _Simulated:
    """A kernel compiled and run, with the wall time of each step."""

    compiled: CompiledKernel
    outputs: dict[str, np.ndarray]
    stats: Stats
    hbm_format: HbmFormat
    compile_seconds: float
    simulate_seconds: float
    timing_only: bool


def _compile_and_run(
    module: ModuleOp,
    inputs: Mapping,
    hbm_format: HbmFormat,
    emit_asm: Path | None,
    simulation: SimOptions | None,
) -> _Simulated:
    start = time.perf_counter()
    compiled = checked(lambda: compile_kernel(module), "compile: ")
    compile_seconds = time.perf_counter() - start
    if emit_asm is not None:
        write_asm(compiled.module, emit_asm)
    start = time.perf_counter()
    simulation = simulation or SimOptions()
    outputs, stats = checked(lambda: run_kernel(compiled, inputs, hbm_format, simulation),
                             "simulation: ")
    return _Simulated(compiled, outputs, stats, hbm_format, compile_seconds,
                      time.perf_counter() - start, simulation.timing_only)


def _report(
    kernel: str,
    source: str,
    sizes: Mapping[str, object],
    module: ModuleOp,
    simulated: _Simulated,
    comparisons: Mapping[str, Comparison],
    seed: int,
    target: str | None,
) -> RunReport:
    hbm_format = simulated.hbm_format
    return RunReport(
        kind="kernel",
        name=kernel,
        source=source,
        sizes=sizes,
        target=simulated.compiled.target.name,
        hbm_format=hbm_format,
        seed=seed,
        comparisons=comparisons,
        stats=simulated.stats,
        static_instructions=len(simulated.compiled.program),
        bound=checked(lambda: roofline(module, hbm_format), ""),
        build_seconds=simulated.compile_seconds,
        simulate_seconds=simulated.simulate_seconds,
        target_settings=target_settings(target),
        timing_only=simulated.timing_only,
    )
