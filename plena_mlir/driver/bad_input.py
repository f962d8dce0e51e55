"""Bad input to a run, as one line: what every driver function raises and the tools print.

`checked(compute, prefix)` turns the errors the compiler, the linker and the simulator raise
for inputs they cannot handle (`BAD_INPUT`) into a `BadInput` of one line, so `plena-run`
prints `plena-run: error: <prefix><first line>` and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Mapping

from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.sim.errors import MachineFault, SimulationError

BAD_INPUT = (ValueError, DiagnosticException, SimulationError, MachineFault)
"""What the compiler, runner and simulator raise for inputs they cannot handle (the
domain errors are ValueErrors: KernelSizeError, TargetError, LayoutError, IsaError ...)."""


class BadInput(Exception):
    """Bad input: printed as one `plena-run: error:` line, exit status 2."""


def checked(compute, prefix: str):
    """`compute()`, its bad-input errors turned into a one-line BadInput."""
    try:
        return compute()
    except BAD_INPUT as e:
        raise BadInput(prefix + first_line(e)) from None


def first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def check_scalars(path: str, program: str, names: list[str], scalars: Mapping[str, float]) -> None:
    """`--scalar` for a .mlir file's kernel or chain `program` (`@name`): a value for every f32
    argument in `names` and for nothing else, else a BadInput naming the argument."""
    if unknown := sorted(set(scalars) - set(names)):
        raise BadInput(f"{path}: {program} has no scalar argument {', '.join(unknown)} "
                       f"(scalars: {', '.join(names) or 'none'})")
    if missing := [n for n in names if n not in scalars]:
        raise BadInput(f"{path}: give the scalar argument {', '.join(missing)} a value with "
                       f"--scalar {missing[0]}=VALUE")
