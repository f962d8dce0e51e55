"""`RunReport`: one compiled (or linked), simulated and checked program, kernel or chain.

The report holds every output's comparison with its golden, the run's statistics, the
roofline bound, the compile (kernel) or link (chain) and simulation wall time and, for a
chain, one `StageReport` per stage.  `format_text()` is what `plena-run` prints; `to_json()`
its `--json` object (keys: kernel or chain, source, sizes, target, target_settings,
hbm_format, seed, [stage_checks,] timing_only, passed, max_abs_error, mean_abs_error (these
three null when timing only), outputs, cycles, dynamic_instructions,
static_instructions, roofline_cycles, roofline_ratio, roofline, compile_seconds or
link_seconds, simulate_seconds[, stages]).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from plena_mlir.analysis.roofline import Roofline
from plena_mlir.driver.compare import Comparison
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.sim.stats import Stats


def format_sizes(sizes: Mapping[str, object]) -> str:
    """`rows=128 bias=true x=64x128`: sizes, flags and (for .mlir files) tensor shapes."""
    return " ".join(f"{name}={format_size(value)}" for name, value in sizes.items())


def format_size(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "x".join(str(d) for d in value)
    return str(value)


def comparison_json(c: Comparison) -> dict:
    """A comparison of one output as the reports' JSON holds it."""
    return {
        "passed": c.passed,
        "elements": c.elements,
        "bad_elements": c.bad_elements,
        "max_abs_error": c.max_abs_error,
        "mean_abs_error": c.mean_abs_error,
        "worst_index": list(c.worst_index),
    }


class CheckedRun:
    """What a report of a simulated and checked program derives from its `comparisons` (every
    output by tensor name), `stats` and roofline `bound` (fields of the report dataclass)."""

    comparisons: Mapping[str, Comparison]
    stats: Stats
    bound: Roofline

    @property
    def passed(self) -> bool:
        """Every output matches."""
        return all(c.passed for c in self.comparisons.values())

    @property
    def max_abs_error(self) -> float:
        return max((c.max_abs_error for c in self.comparisons.values()), default=0.0)

    @property
    def mean_abs_error(self) -> float:
        """Mean over the elements of every output."""
        elements = sum(c.elements for c in self.comparisons.values())
        total = sum(c.mean_abs_error * c.elements for c in self.comparisons.values())
        return total / elements if elements else 0.0

    @property
    def roofline_ratio(self) -> float:
        """Simulated cycles / the roofline lower bound."""
        return self.stats.cycles / self.bound.cycles if self.bound.cycles else math.inf

    def _ratio_json(self) -> float | None:
        return self.roofline_ratio if self.bound.cycles else None


@dataclass(frozen=True)
class StageReport(CheckedRun):
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
            "roofline_ratio": self._ratio_json(),
            "passed": self.passed if self.comparisons else None,
            "outputs": {name: comparison_json(c) for name, c in self.comparisons.items()},
        }


@dataclass(frozen=True)
class RunReport(CheckedRun):
    """One compiled (kernel) or linked (chain), simulated and checked program."""

    kind: Literal["kernel", "chain"]
    name: str
    source: str
    """"library" or the .mlir file's path."""
    sizes: Mapping[str, object]
    """The sizes (for a .mlir file: each tensor argument's shape)."""
    target: str
    hbm_format: HbmFormat
    seed: int
    comparisons: Mapping[str, Comparison]
    """Every output checked, by tensor name (a chain: the outputs of the block)."""
    stats: Stats
    static_instructions: int
    bound: Roofline
    build_seconds: float
    """Compile time of a kernel, link time of a chain."""
    simulate_seconds: float
    stages: tuple[StageReport, ...] = ()
    """A chain's stages in order."""
    stage_checks: bool = False
    """A chain linked without intermediate reuse, every stage's outputs compared."""
    target_settings: str | None = None
    """For a target read from a settings file: which of its keys took effect."""
    timing_only: bool = False
    """Simulated for its statistics only: no value computed, nothing compared."""

    @property
    def passed(self) -> bool:
        return super().passed and all(s.passed for s in self.stages)

    @property
    def _build(self) -> str:
        return "compile" if self.kind == "kernel" else "link"

    def to_json(self) -> dict:
        report = {
            self.kind: self.name,
            "source": self.source,
            "sizes": dict(self.sizes),
            "target": self.target,
            "target_settings": self.target_settings,
            "hbm_format": self.hbm_format,
            "seed": self.seed,
        }
        if self.kind == "chain":
            report["stage_checks"] = self.stage_checks
        checked = not self.timing_only
        report |= {
            "timing_only": self.timing_only,
            "passed": self.passed if checked else None,
            "max_abs_error": self.max_abs_error if checked else None,
            "mean_abs_error": self.mean_abs_error if checked else None,
            "outputs": {name: comparison_json(c) for name, c in self.comparisons.items()},
            "cycles": self.stats.cycles,
            "dynamic_instructions": self.stats.instructions,
            "static_instructions": self.static_instructions,
            "roofline_cycles": self.bound.cycles,
            "roofline_ratio": self._ratio_json(),
            "roofline": self.bound.to_json(),
            f"{self._build}_seconds": self.build_seconds,
            "simulate_seconds": self.simulate_seconds,
        }
        if self.kind == "chain":
            report["stages"] = [stage.to_json() for stage in self.stages]
        return report

    def format_text(self) -> str:
        lines = [f"{self.name} {format_sizes(self.sizes)} ({self._setting()})"]
        if self.target_settings:
            lines.append(f"  target {self.target_settings}")
        lines += [f"  {name}: {c.describe()}" for name, c in self.comparisons.items()]
        lines += [
            f"  stage {s.name}, {name}: {c.describe()}"
            for s in self.stages
            for name, c in s.comparisons.items()
            if not c.passed
        ]
        if self.timing_only:
            lines.append("result        not checked: timing only, no value was computed")
        else:
            lines.append(f"result        {self._verdict()}: max error {self.max_abs_error:.3g}, "
                         f"mean {self.mean_abs_error:.3g}")
        lines += [
            f"cycles        {self.stats.cycles}",
            f"roofline      {self.bound.cycles} ({self.bound.limit}-bound): "
            f"{self.roofline_ratio:.2f}x the bound",
            f"instructions  {self.stats.instructions} dynamic, "
            f"{self.static_instructions} static",
            f"time          {self._build} {self.build_seconds:.2f} s, "
            f"simulate {self.simulate_seconds:.2f} s",
        ]
        if self.kind == "kernel":
            return "\n".join(lines) + "\n"
        return "\n".join([*lines, "", format_stage_table(self.stages)])

    def _setting(self) -> str:
        setting = f"{self.target}, {self.hbm_format} HBM, seed {self.seed}"
        if self.kind == "kernel":
            return setting
        intermediates = "at their own addresses" if self.stage_checks else "sharing HBM"
        return f"{setting}, intermediates {intermediates}"

    def _verdict(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        if self.stage_checks:
            failed = [s.name for s in self.stages if not s.passed]
            verdict += f" (stages failing: {', '.join(failed)})" if failed else " (every stage)"
        return verdict


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
