"""`plena-run CHAIN`: link a chain of `plena_mlir.chains`, simulate it, check it, report it.

The chain is built for its sizes (`ChainSpec.build`), linked into one program with
`link_chain` (intermediates sharing HBM by liveness; with `stages=True` every intermediate
gets its own address so each stage's output survives the run), given inputs from
`spec.make_inputs` with the seed and run with `run_chain`.  Every element of the block's
outputs (the chain tensor arguments a stage writes) is compared with the chain's golden by
`plena_mlir.compare`; with `stages=True` every tensor each stage writes is compared too, under
the stage's name.

The report: the comparisons, pass/fail, the whole run's cycles against the roofline (the
work of every stage summed, `plena_mlir.roofline`: the busiest unit over the whole chain),
dynamic and static instructions, link and simulation wall time, and per stage its kernel,
cycles, share of the run, roofline bound (of its kernel at its sizes) with the limiting unit
and cycles / bound.  The JSON form (`--json`) has the kernel report's keys with `chain` for
`kernel` and `link_seconds` for `compile_seconds`, plus `stage_checks` and `stages` (per
stage: name, kernel, writes, cycles, share, dynamic_instructions, roofline_cycles,
roofline_limit, roofline_ratio, passed (null without --stages) and outputs).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from plena_mlir.tools.cli_support import (
    CheckedRun,
    CliError,
    checked,
    comparison_json,
    set_target,
    write_asm,
)

from plena_mlir.chains.spec import Call, ChainSpec
from plena_mlir.compare import Comparison, compare
from plena_mlir.pipeline import link_chain
from plena_mlir.roofline import Roofline, Work, roofline
from plena_mlir.runner import run_chain
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.sim.stats import Stats


@dataclass(frozen=True)
class StageReport:
    """One stage of a linked, simulated chain."""

    name: str
    kernel: str
    writes: tuple[str, ...]
    stats: Stats
    """The stage's slice of the program, run in order on the chain's machine."""
    bound: Roofline
    comparisons: Mapping[str, Comparison]
    """Each tensor the stage writes against the golden (only when linked for stage checks)."""
    share: float
    """The stage's cycles / the whole run's cycles."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.comparisons.values())

    @property
    def roofline_ratio(self) -> float:
        return self.stats.cycles / self.bound.cycles if self.bound.cycles else math.inf

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kernel": self.kernel,
            "writes": list(self.writes),
            "cycles": self.stats.cycles,
            "share": self.share,
            "dynamic_instructions": self.stats.instructions,
            "roofline_cycles": self.bound.cycles,
            "roofline_limit": self.bound.limit,
            "roofline_ratio": self.roofline_ratio if self.bound.cycles else None,
            "passed": self.passed if self.comparisons else None,
            "outputs": {name: comparison_json(c) for name, c in self.comparisons.items()},
        }


@dataclass(frozen=True)
class ChainReport(CheckedRun):
    """One linked, simulated and checked chain."""

    chain: str
    sizes: Mapping[str, int]
    target: str
    hbm_format: HbmFormat
    seed: int
    stage_checks: bool
    """Linked without intermediate reuse, every stage's outputs compared."""
    comparisons: Mapping[str, Comparison]
    """Every output of the block, by tensor name."""
    stages: tuple[StageReport, ...]
    stats: Stats
    static_instructions: int
    bound: Roofline
    link_seconds: float
    simulate_seconds: float

    @property
    def passed(self) -> bool:
        return super().passed and all(s.passed for s in self.stages)

    def to_json(self) -> dict:
        return {
            "chain": self.chain,
            "source": "library",
            "sizes": dict(self.sizes),
            "target": self.target,
            "hbm_format": self.hbm_format,
            "seed": self.seed,
            "stage_checks": self.stage_checks,
            "passed": self.passed,
            "max_abs_error": self.max_abs_error,
            "mean_abs_error": self.mean_abs_error,
            "outputs": {name: comparison_json(c) for name, c in self.comparisons.items()},
            "cycles": self.stats.cycles,
            "dynamic_instructions": self.stats.instructions,
            "static_instructions": self.static_instructions,
            "roofline_cycles": self.bound.cycles,
            "roofline_ratio": self.roofline_ratio if self.bound.cycles else None,
            "roofline": self.bound.to_json(),
            "link_seconds": self.link_seconds,
            "simulate_seconds": self.simulate_seconds,
            "stages": [stage.to_json() for stage in self.stages],
        }

    def format_text(self) -> str:
        intermediates = "at their own addresses" if self.stage_checks else "sharing HBM"
        setting = (f"{self.target}, {self.hbm_format} HBM, seed {self.seed}, intermediates "
                   f"{intermediates}")
        sizes = " ".join(f"{name}={value}" for name, value in self.sizes.items())
        lines = [f"{self.chain} {sizes} ({setting})"]
        lines += [f"  {name}: {c.describe()}" for name, c in self.comparisons.items()]
        lines += [
            f"  stage {s.name}, {name}: {c.describe()}"
            for s in self.stages
            for name, c in s.comparisons.items()
            if not c.passed
        ]
        verdict = "PASS" if self.passed else "FAIL"
        if self.stage_checks:
            failed = [s.name for s in self.stages if not s.passed]
            verdict += f" (stages failing: {', '.join(failed)})" if failed else " (every stage)"
        lines += [
            f"result        {verdict}: max error {self.max_abs_error:.3g}, "
            f"mean {self.mean_abs_error:.3g}",
            f"cycles        {self.stats.cycles}",
            f"roofline      {self.bound.cycles} ({self.bound.limit}-bound): "
            f"{self.roofline_ratio:.2f}x the bound",
            f"instructions  {self.stats.instructions} dynamic, "
            f"{self.static_instructions} static",
            f"time          link {self.link_seconds:.2f} s, "
            f"simulate {self.simulate_seconds:.2f} s",
            "",
            format_stage_table(self.stages),
        ]
        return "\n".join(lines)


def format_stage_table(stages: tuple[StageReport, ...]) -> str:
    """One row per stage: kernel, cycles, share, roofline and its limit, ratio, check."""
    width = max((len(s.name) for s in stages), default=5)
    kernel_width = max((len(s.kernel) for s in stages), default=6)
    header = (f"{'stage':<{width}}  {'kernel':<{kernel_width}}  {'cycles':>9}  {'share':>6}  "
              f"{'roofline':>8}  {'limit':<6}  {'ratio':>6}  check")
    rows = [header, "-" * len(header)]
    for s in stages:
        check = ("pass" if s.passed else "FAIL") if s.comparisons else "-"
        rows.append(
            f"{s.name:<{width}}  {s.kernel:<{kernel_width}}  {s.stats.cycles:>9,}  "
            f"{s.share:>6.1%}  {s.bound.cycles:>8,}  {s.bound.limit:<6}  "
            f"{s.roofline_ratio:>6.2f}  {check}"
        )
    return "\n".join(rows) + "\n"


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
) -> ChainReport:
    """Build `spec` with the default sizes and `overrides`, link, simulate and compare with
    its golden (every stage's outputs too with `stages`).  CliError for bad input."""
    if scalars:
        raise CliError(f"{spec.name} has no scalar argument {', '.join(scalars)} (its f32 "
                       "values are constants of the chain)")
    sizes = checked(lambda: spec.resolve(overrides), "")
    calls = checked(lambda: spec.stages(sizes), "")
    module = checked(lambda: spec.build(sizes), "")
    set_target(module, target)
    start = time.perf_counter()
    linked = checked(lambda: link_chain(module, reuse_intermediates=not stages), "link: ")
    link_seconds = time.perf_counter() - start
    if emit_asm is not None:
        write_asm(linked.module, emit_asm)
    inputs = spec.make_inputs(sizes, np.random.default_rng(seed))
    start = time.perf_counter()
    run = checked(lambda: run_chain(linked, inputs, hbm_format), "simulation: ")
    simulate_seconds = time.perf_counter() - start
    with np.errstate(all="ignore"):  # inf and NaN are results, as on the machine
        expected = spec.golden(inputs, sizes, linked.target, hbm_format)
    outputs = [t for call in calls for t in call.writes if t in linked.tensors]
    bounds = [_stage_bound(call, target, hbm_format) for call in calls]
    stage_reports = tuple(
        StageReport(
            name=call.stage,
            kernel=call.kernel,
            writes=call.writes,
            stats=run.stage_stats[call.stage],
            bound=bound,
            comparisons={
                t: compare(run.outputs[t], expected[t], hbm_format) for t in call.writes
            } if stages else {},
            share=run.stage_stats[call.stage].cycles / run.stats.cycles,
        )
        for call, bound in zip(calls, bounds, strict=True)
    )
    total = sum((bound.work for bound in bounds), Work())
    return ChainReport(
        chain=spec.name,
        sizes=sizes,
        target=linked.target.name,
        hbm_format=hbm_format,
        seed=seed,
        stage_checks=stages,
        comparisons={t: compare(run.outputs[t], expected[t], hbm_format) for t in outputs},
        stages=stage_reports,
        stats=run.stats,
        static_instructions=len(linked.program),
        bound=Roofline(total, linked.target, hbm_format),
        link_seconds=link_seconds,
        simulate_seconds=simulate_seconds,
    )


def _stage_bound(call: Call, target: str | None, hbm_format: HbmFormat) -> Roofline:
    """The roofline of the stage's kernel at its sizes on the chain's target."""
    module = call.module.clone()
    set_target(module, target)
    return checked(lambda: roofline(module, hbm_format), f"stage {call.stage}: ")
