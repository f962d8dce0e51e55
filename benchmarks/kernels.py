"""The kernel library against its roofline and against the published compiler.

    python benchmarks/kernels.py [--kernel NAME ...] [--defaults-only]
                                 [--hbm-format mxfp8|fp32] [--json]

For every kernel of `plena_mlir.kernels` (or those named with `--kernel`), at its default
sizes and each of its `test_sizes`, the kernel is compiled, simulated and checked exactly as
`plena-run` does it (`run_library_kernel`), and a row reports: pass/fail, simulated cycles,
the roofline lower bound (`plena_mlir.roofline`) with its limiting unit, cycles / bound,
dynamic and static instruction counts, compile time, and at the default sizes the published
PLENA compiler's dynamic instruction count for the same kernel with ours / theirs.  A kernel
that cannot be built or compiled gets a row with its error.  `--json` prints the rows as a
JSON list instead of the table.
"""

from __future__ import annotations

import argparse
import json
import sys

from plena_mlir.tools.plena_run import CliError, format_sizes, run_library_kernel

from plena_mlir.kernels import all_kernels
from plena_mlir.kernels.spec import KernelSpec

#: Dynamic instruction counts of the published compiler's programs at its test sizes, which
#: are our kernels' default sizes.
PUBLISHED_DYNAMIC_INSTRUCTIONS = {
    "linear": 15_484,
    "linear_no_transpose": 149_780,
    "layernorm": 325_968,
    "modulate": 7_516,
    "residual_gate": 7_516,
    "concat": 1_370,
}

#: (name, format, width) of each table column; a negative width left-aligns.
COLUMNS = (
    ("kernel", "{}", -20),
    ("sizes", "{}", -32),
    ("check", "{}", 5),
    ("cycles", "{:,}", 11),
    ("roofline", "{:,}", 10),
    ("limit", "{}", 6),
    ("ratio", "{:.2f}", 7),
    ("dynamic", "{:,}", 9),
    ("static", "{:,}", 7),
    ("compile_s", "{:.2f}", 9),
    ("published", "{:,}", 9),
    ("vs_published", "{:.2f}", 12),
)


def measure(spec: KernelSpec, overrides: dict, hbm_format: str) -> dict:
    """One row: the kernel at the default sizes with `overrides`."""
    sizes = {**spec.sizes, **overrides}
    row: dict = {"kernel": spec.name, "sizes": sizes}
    try:
        report = run_library_kernel(spec, overrides, hbm_format=hbm_format)
    except CliError as error:
        return {**row, "error": str(error)}
    published = PUBLISHED_DYNAMIC_INSTRUCTIONS.get(spec.name) if not overrides else None
    return {
        **row,
        "check": "pass" if report.passed else "FAIL",
        "cycles": report.stats.cycles,
        "roofline": report.bound.cycles,
        "limit": report.bound.limit,
        "ratio": report.roofline_ratio,
        "dynamic": report.stats.instructions,
        "static": report.static_instructions,
        "compile_s": report.compile_seconds,
        "published": published,
        "vs_published": report.stats.instructions / published if published else None,
    }


def format_table(rows: list[dict]) -> str:
    """The rows as a fixed-width table; a failed row shows its error after its sizes."""
    header = "  ".join(_align(name, width) for name, _, width in COLUMNS)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = []
        for name, fmt, width in COLUMNS:
            value = row.get(name)
            if name == "sizes":
                value = format_sizes(value)
            cells.append(_align("-" if value is None else fmt.format(value), width))
        line = "  ".join(cells)
        lines.append(line if "error" not in row else "  ".join(cells[:2]) + "  " + row["error"])
    return "\n".join(lines) + "\n"


def _align(text: str, width: int) -> str:
    return f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kernel", action="append", help="only this kernel (repeatable)")
    p.add_argument("--defaults-only", action="store_true", help="skip the test_sizes")
    p.add_argument("--hbm-format", choices=("mxfp8", "fp32"), default="mxfp8")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    kernels = all_kernels()
    if unknown := sorted(set(args.kernel or ()) - set(kernels)):
        p.error(f"unknown kernel {', '.join(unknown)} (kernels: {', '.join(kernels)})")
    rows = [
        measure(spec, dict(overrides), args.hbm_format)
        for name, spec in kernels.items()
        if not args.kernel or name in args.kernel
        for overrides in ({}, *(() if args.defaults_only else spec.test_sizes))
    ]
    sys.stdout.write(json.dumps(rows, indent=2) + "\n" if args.json else format_table(rows))
    return 0 if all(row.get("check") == "pass" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
