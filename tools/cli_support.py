"""What `plena-run`'s kernel runs and chain runs share: one-line bad-input errors, `--target`,
`--emit-asm`, `--scalar` values checked against a program's f32 arguments, sizes as text, the
JSON form of a comparison and the figures every report derives (`CheckedRun`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.roofline import Roofline
from plena_mlir.backend.targets import PlenaAsmTarget
from plena_mlir.driver.compare import Comparison
from plena_mlir.sim.errors import MachineFault, SimulationError
from plena_mlir.sim.stats import Stats

BAD_INPUT = (ValueError, DiagnosticException, SimulationError, MachineFault)
"""What the compiler, runner and simulator raise for inputs they cannot handle (the
domain errors are ValueErrors: KernelSizeError, TargetError, LayoutError, IsaError ...)."""


class CliError(Exception):
    """Bad input: printed as one `plena-run: error:` line, exit status 2."""


def checked(compute, prefix: str):
    """`compute()`, its bad-input errors turned into a one-line CliError."""
    try:
        return compute()
    except BAD_INPUT as e:
        raise CliError(prefix + first_line(e)) from None


def first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def set_target(module: ModuleOp, target: str | None) -> None:
    """Record `--target` on the module (replacing its own), checked now."""
    if target is None:
        return
    attr = checked(lambda: TargetAttr(target), "--target: ")
    checked(lambda: attr.target, "--target: ")
    module.attributes[TARGET_ATTR_NAME] = attr


def write_asm(module: ModuleOp, path: Path) -> None:
    """`--emit-asm`: the compiled module's assembly, with the compiler's comments."""
    try:
        with path.open("w") as output:
            PlenaAsmTarget().emit(Context(), module, output)
    except OSError as e:
        raise CliError(f"cannot write '{path}': {e.strerror}") from None


def check_scalars(path: str, program: str, names: list[str], scalars: Mapping[str, float]) -> None:
    """`--scalar` for a .mlir file's kernel or chain `program` (`@name`): a value for every f32
    argument in `names` and for nothing else, else a CliError naming the argument."""
    if unknown := sorted(set(scalars) - set(names)):
        raise CliError(f"{path}: {program} has no scalar argument {', '.join(unknown)} "
                       f"(scalars: {', '.join(names) or 'none'})")
    if missing := [n for n in names if n not in scalars]:
        raise CliError(f"{path}: give the scalar argument {', '.join(missing)} a value with "
                       f"--scalar {missing[0]}=VALUE")


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
