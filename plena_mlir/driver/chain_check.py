"""Checking a chain: link it, simulate it, check it, report it with every stage.

`run_library_chain` (a chain of `plena_mlir.chains`,
checked against its golden) and `run_chain_file` (a parsed module, checked against the chain
interpreter `interpret_chain` in rounded mode) share `check_chain`; below, for a library
chain.

The chain is built for its sizes (`ChainSpec.build`), linked into one program with
`link_chain` (intermediates sharing HBM by liveness; with `stages=True` every intermediate
gets its own address so each stage's output survives the run), given inputs from
`spec.make_inputs` with the seed and run with `run_chain`.  Every element of the block's
outputs (the chain tensor arguments a stage writes) is compared with the chain's golden by
`plena_mlir.driver.compare`; with `stages=True` every tensor each stage writes is compared too,
under
the stage's name.

The report: the comparisons, pass/fail, the whole run's cycles against the roofline (the
work of every stage summed, `plena_mlir.analysis.roofline`: the busiest unit over the whole chain),
dynamic and static instructions, link and simulation wall time, and per stage its kernel,
cycles, share of the run, roofline bound (of its kernel at its sizes) with the limiting unit
and cycles / bound.  The JSON form (`--json`) has the kernel report's keys with `chain` for
`kernel` and `link_seconds` for `compile_seconds`, plus `stage_checks` and `stages` (per
stage: name, kernel, writes, cycles, share, dynamic_instructions, roofline_cycles,
roofline_limit, roofline_ratio, passed (null without --stages) and outputs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.analysis.roofline import Roofline, Work, roofline
from plena_mlir.chains.spec import ChainSpec
from plena_mlir.driver.bad_input import BadInput, check_scalars, checked
from plena_mlir.driver.compare import compare
from plena_mlir.driver.report import RunReport, StageReport
from plena_mlir.driver.run import SimOptions, run_chain
from plena_mlir.driver.run_options import (
    resolve_target,
    set_target,
    target_settings,
    write_asm,
)
from plena_mlir.interp import interpret_chain
from plena_mlir.linking.chain_reading import Chain, find_chain, kernel_module, read_chain
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.pipeline import link_chain
from plena_mlir.target import Target


@dataclass(frozen=True)
class ChainStage:
    """What a chain report needs of one stage: its name, its kernel's name, the chain tensors
    it writes (in kernel argument order) and its kernel alone in a module (its roofline)."""

    name: str
    kernel: str
    writes: tuple[str, ...]
    module: ModuleOp


def run_library_chain(
    spec: ChainSpec,
    overrides: Mapping[str, int] | None = None,
    *,
    target: str | None = None,
    hbm_format: HbmFormat = "mxfp8",
    seed: int = 0,
    scalars: Mapping[str, float] | None = None,
    emit_asm: Path | None = None,
    stages: bool = False,
    simulation: SimOptions | None = None,
) -> RunReport:
    """Build `spec` with the default sizes and `overrides`, link, simulate and compare with
    its golden (every stage's outputs too with `stages`).  BadInput for bad input."""
    if scalars:
        raise BadInput(f"{spec.name} has no scalar argument {', '.join(scalars)} (its f32 "
                       "values are constants of the chain)")
    machine = resolve_target(target)
    sizes = checked(lambda: spec.resolve(overrides, machine), "")
    calls = checked(lambda: spec.stages(sizes, machine), "")
    module = checked(lambda: spec.build(sizes, machine), "")
    inputs = spec.make_inputs(sizes, np.random.default_rng(seed), machine)
    return check_chain(
        module,
        name=spec.name,
        source="library",
        sizes=sizes,
        stages=[ChainStage(c.stage, c.kernel, c.writes, c.module) for c in calls],
        inputs=inputs,
        reference=lambda linked_target: spec.golden(inputs, sizes, linked_target, hbm_format),
        target=target,
        hbm_format=hbm_format,
        seed=seed,
        emit_asm=emit_asm,
        stage_checks=stages,
        simulation=simulation,
    )


def run_chain_file(
    module: ModuleOp,
    path: str,
    *,
    target: str | None = None,
    hbm_format: HbmFormat = "mxfp8",
    seed: int = 0,
    scalars: Mapping[str, float] | None = None,
    emit_asm: Path | None = None,
    stages: bool = False,
    simulation: SimOptions | None = None,
) -> RunReport:
    """Link and simulate the `tile.chain` of `module` (read from `path`), compare every chain
    tensor argument a call writes (and with `stages` every tensor each stage writes) with the
    chain interpreter's rounded result (`interpret_chain`).  Inputs: standard-normal float32
    values from `seed`, in argument order, for every tensor argument a call reads before any
    call writes it; zeros for the others; `scalars` for every f32 argument.  BadInput for
    bad input."""
    set_target(module, target)
    chain = checked(lambda: read_chain(find_chain(module)), f"{path}: ")
    scalars = dict(scalars or {})
    check_scalars(path, f"@{chain.name}", chain.scalars, scalars)
    rng = np.random.default_rng(seed)
    tensors = {
        t.name: rng.standard_normal(t.typ.get_shape()).astype(np.float32)
        for t in chain.arguments
        if t.name in _read_first(chain)
    }
    return check_chain(
        module,
        name=chain.name,
        source=path,
        sizes={t.name: list(t.typ.get_shape()) for t in chain.arguments},
        stages=[
            ChainStage(
                call.stage,
                call.kernel.sym_name.data,
                tuple(call.tensors[a] for a in call.tensors if a in call.access.writes),
                kernel_module(call.kernel),
            )
            for call in chain.calls
        ],
        inputs={**tensors, **scalars},
        reference=lambda _: interpret_chain(module, tensors, mode="rounded",
                                            hbm_format=hbm_format, **scalars),
        target=target,
        hbm_format=hbm_format,
        seed=seed,
        emit_asm=emit_asm,
        stage_checks=stages,
        simulation=simulation,
    )


def check_chain(
    module: ModuleOp,
    *,
    name: str,
    source: str,
    sizes: Mapping[str, object],
    stages: Sequence[ChainStage],
    inputs: Mapping[str, np.ndarray | float],
    reference: Callable[[Target], Mapping[str, np.ndarray]],
    target: str | None,
    hbm_format: HbmFormat,
    seed: int,
    emit_asm: Path | None,
    stage_checks: bool,
    simulation: SimOptions | None = None,
) -> RunReport:
    """Link the chain of `module` (for `stage_checks` every intermediate at its own address),
    run it on `inputs` (as `simulation` says: budget, progress bar, timing only), compare the
    chain tensor arguments its `stages` write (and with `stage_checks` every tensor each stage
    writes) with `reference(target)` (every tensor a stage writes, by name; nothing when
    timing only), and report it with each stage's roofline."""
    start = time.perf_counter()
    linked = checked(lambda: link_chain(module, reuse_intermediates=not stage_checks),
                     "link: ")
    link_seconds = time.perf_counter() - start
    if emit_asm is not None:
        write_asm(linked.module, emit_asm)
    start = time.perf_counter()
    run = checked(lambda: run_chain(linked, inputs, hbm_format, simulation), "simulation: ")
    simulate_seconds = time.perf_counter() - start
    timing_only = simulation is not None and simulation.timing_only
    stage_checks &= not timing_only
    outputs = [] if timing_only else [
        t for stage in stages for t in stage.writes if t in linked.tensors
    ]
    if not timing_only:
        with np.errstate(all="ignore"):  # inf and NaN are results, as on the machine
            expected = checked(lambda: reference(linked.target), "reference: ")
    bounds = [_stage_bound(stage, target, hbm_format) for stage in stages]
    stage_reports = tuple(
        StageReport(
            name=stage.name,
            kernel=stage.kernel,
            writes=stage.writes,
            stats=run.stage_stats[stage.name],
            bound=bound,
            comparisons={
                t: compare(run.outputs[t], expected[t], hbm_format) for t in stage.writes
            } if stage_checks else {},
            share=run.stage_stats[stage.name].cycles / run.stats.cycles,
        )
        for stage, bound in zip(stages, bounds, strict=True)
    )
    total = sum((bound.work for bound in bounds), Work())
    return RunReport(
        kind="chain",
        name=name,
        source=source,
        sizes=sizes,
        target=linked.target.name,
        hbm_format=hbm_format,
        seed=seed,
        comparisons={t: compare(run.outputs[t], expected[t], hbm_format) for t in outputs},
        stats=run.stats,
        static_instructions=len(linked.program),
        bound=Roofline(total, linked.target, hbm_format),
        build_seconds=link_seconds,
        simulate_seconds=simulate_seconds,
        stages=stage_reports,
        stage_checks=stage_checks,
        target_settings=target_settings(target),
        timing_only=timing_only,
    )


def _read_first(chain: Chain) -> set[str]:
    """The chain tensor arguments some call reads before any call writes them: its inputs."""
    read_first: set[str] = set()
    written: set[str] = set()
    for call in chain.calls:
        read_first.update(call.tensors[a] for a in call.access.reads
                          if call.tensors[a] not in written)
        written.update(call.tensors[a] for a in call.access.writes)
    return read_first & {t.name for t in chain.arguments}


def _stage_bound(stage: ChainStage, target: str | None, hbm_format: HbmFormat) -> Roofline:
    """The roofline of the stage's kernel at its sizes on the chain's target."""
    module = stage.module.clone()
    set_target(module, target)
    return checked(lambda: roofline(module, hbm_format), f"stage {stage.name}: ")
