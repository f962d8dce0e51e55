"""The kernel library against its roofline and against the published compiler.

    python benchmarks/kernels.py [--kernel NAME ...] [--defaults-only] [--quick]
                                 [--target NAME|FILE.toml] [--hbm-format mxfp8|fp32] [--json]

For every kernel of `plena_mlir.kernels` (or those named with `--kernel`), at its default
sizes and each of its `test_sizes` on the target (`--target`, default plena-tvm), the kernel
is compiled, simulated and checked exactly as `plena-run` does it (`run_library_kernel`),
and a row reports: pass/fail, simulated cycles, the roofline lower bound
(`plena_mlir.analysis.roofline`) with its limiting unit, cycles / bound, dynamic and static
instruction counts, the M_MM instructions executed, compile time, and at the default sizes
the published PLENA compiler's figures for the same kernel where they are known (dynamic
instructions, M_MM count, cycles) with ours / theirs. A kernel that cannot be built or
compiled gets a row with its error. `--json` prints the rows as a JSON list instead of the
table.
"""

from __future__ import annotations

import argparse
import json
import sys

from plena_mlir.driver.bad_input import BadInput
from plena_mlir.driver.kernel_check import run_library_kernel
from plena_mlir.driver.report import format_sizes
from plena_mlir.kernels import all_kernels
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.target import DEFAULT_TARGET, Target, TargetError, get_target

#: Dynamic instruction counts of the published compiler's programs at its test sizes, which
#: are our kernels' default sizes (issues 3 and 4; flash_attention at 8 heads of 16, 2 q
#: blocks and 2 kv blocks of 64 rows, "about 493,000").  No figure is published for rope,
#: gelu, silu, rmsnorm, copy_offset or the other attention kernels.
PUBLISHED_DYNAMIC_INSTRUCTIONS = {
    "linear": 15_484,
    "linear_no_transpose": 149_780,
    "layernorm": 325_968,
    "modulate": 7_516,
    "residual_gate": 7_516,
    "concat": 1_370,
    "flash_attention": 493_000,
}

#: M_MM instructions the published programs execute at the default sizes.
PUBLISHED_M_MM = {"linear_no_transpose": 8_192, "flash_attention": 8_192}

#: Simulated cycles of the published programs at the default sizes (flash_attention: "roughly
#: one million", of which its 8,192 M_MM are 524,288).
PUBLISHED_CYCLES = {"flash_attention": 1_000_000}

#: The kernels of `--quick` (what the test suite runs so the script cannot rot).
QUICK = ("softmax", "linear")

#: (name, format, width) of each table column; a negative width left-aligns.
COLUMNS = (
    ("kernel", "{}", -22),
    ("sizes", "{}", -58),
    ("check", "{}", 5),
    ("cycles", "{:,}", 11),
    ("roofline", "{:,}", 10),
    ("limit", "{}", 6),
    ("ratio", "{:.2f}", 7),
    ("dynamic", "{:,}", 9),
    ("static", "{:,}", 7),
    ("m_mm", "{:,}", 6),
    ("compile_s", "{:.2f}", 9),
    ("published", "{:,}", 9),
    ("vs_published", "{:.2f}", 12),
    ("published_m_mm", "{:,}", 14),
    ("published_cycles", "{:,}", 16),
    ("vs_published_cycles", "{:.2f}", 19),
)


def measure(
    spec: KernelSpec, overrides: dict, hbm_format: str, target: Target = DEFAULT_TARGET
) -> dict:
    """One row: the kernel at its default sizes on `target` with `overrides`."""
    sizes = {**spec.default_sizes(target), **overrides}
    row: dict = {"kernel": spec.name, "sizes": sizes}
    try:
        report = run_library_kernel(spec, overrides, target=target.spec, hbm_format=hbm_format)
    except BadInput as error:
        return {**row, "error": str(error)}
    defaults = not overrides and target == DEFAULT_TARGET
    published = PUBLISHED_DYNAMIC_INSTRUCTIONS.get(spec.name) if defaults else None
    published_cycles = PUBLISHED_CYCLES.get(spec.name) if defaults else None
    return {
        **row,
        "check": "pass" if report.passed else "FAIL",
        "cycles": report.stats.cycles,
        "roofline": report.bound.cycles,
        "limit": report.bound.limit,
        "ratio": report.roofline_ratio,
        "dynamic": report.stats.instructions,
        "static": report.static_instructions,
        "m_mm": report.stats.per_opcode.get("M_MM", 0),
        "compile_s": report.build_seconds,
        "published": published,
        "vs_published": report.stats.instructions / published if published else None,
        "published_m_mm": PUBLISHED_M_MM.get(spec.name) if defaults else None,
        "published_cycles": published_cycles,
        "vs_published_cycles": (
            report.stats.cycles / published_cycles if published_cycles else None
        ),
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
    p.add_argument("--target", default=None, help="preset name or plena_settings.toml")
    p.add_argument("--hbm-format", choices=("mxfp8", "fp32"), default="mxfp8")
    p.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK)} at the defaults")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    kernels = all_kernels()
    if args.quick:
        args.kernel, args.defaults_only = list(QUICK), True
    if unknown := sorted(set(args.kernel or ()) - set(kernels)):
        p.error(f"unknown kernel {', '.join(unknown)} (kernels: {', '.join(kernels)})")
    try:
        target = get_target(args.target)
    except TargetError as error:
        p.error(str(error))
    rows = [
        measure(spec, dict(overrides), args.hbm_format, target)
        for name, spec in kernels.items()
        if not args.kernel or name in args.kernel
        for overrides in ({}, *(() if args.defaults_only else spec.sizes_to_test(target)))
    ]
    sys.stdout.write(json.dumps(rows, indent=2) + "\n" if args.json else format_table(rows))
    return 0 if all(row.get("check") == "pass" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
