"""The chains of `plena_mlir.chains` (the SingleStreamBlock) linked, simulated and measured.

    python benchmarks/chains.py [--chain NAME ...] [--target NAME|FILE.toml]
                                [--size NAME=VALUE ...] [--hbm-format mxfp8|fp32] [--quick]
                                [--json]

For every chain at its default sizes on the target (or those `--size` sets), run exactly as
`plena-run CHAIN --stages` runs it
(`run_library_chain`: linked with an address per intermediate, every stage's outputs and the
block output checked against the golden), the figures: total simulated cycles against the
roofline of the whole chain, link (compile) time and simulation wall time, and per stage its
cycles, share of the run, its kernel's roofline bound and cycles / bound.  Each stage is also
compiled on its own (`compile_kernel`) and run on the golden's inputs to that stage: the
`alone` column is its cycles there, so `linked - alone` is what linking costs the stage, and
the summed compile times of the kernels compare with the link time.  `--json` prints the rows
as a JSON list (one object per chain, `stages` one object per stage).  `--quick` runs each
chain at its smallest sizes (`QUICK_SIZES`), what the test suite runs so the script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from plena_mlir.chains import all_chains
from plena_mlir.chains.spec import ChainSpec
from plena_mlir.driver.chain_check import run_library_chain
from plena_mlir.driver.report import RunReport, format_stage_table
from plena_mlir.driver.run import run_kernel
from plena_mlir.linking.kernel_access import tensor_access
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.pipeline import compile_kernel
from plena_mlir.target import DEFAULT_TARGET, Target, TargetError, get_target

#: Per chain, the sizes of `--quick`: the smallest that still tile every stage.
QUICK_SIZES = {"ssb": {"tokens": 64, "heads": 4, "mlp": 128}}


def alone(
    spec: ChainSpec, overrides: dict, hbm_format: HbmFormat, target: Target, seed: int = 0
) -> dict[str, dict]:
    """Per stage: its kernel compiled on its own (seconds) and run on the golden's inputs to
    the stage (cycles)."""
    sizes = spec.resolve(overrides, target)
    inputs = spec.make_inputs(sizes, np.random.default_rng(seed), target)
    figures = {}
    for call in spec.stages(sizes, target):
        start = time.perf_counter()
        compiled = compile_kernel(call.module)
        compile_seconds = time.perf_counter() - start
        if not figures:  # every tensor of the chain, as HBM holds it after the stages
            values = {**inputs, **spec.golden(inputs, sizes, compiled.target, hbm_format)}
        read = tensor_access(call.kernel_op).reads
        kernel_inputs = {
            arg: bound if isinstance(bound, float)
            else values[bound].reshape(call.argument_shapes[arg])
            for arg, bound in call.args.items()
            if isinstance(bound, float) or arg in read
        }
        _, stats = run_kernel(compiled, kernel_inputs, hbm_format)
        figures[call.stage] = {"cycles": stats.cycles, "compile_seconds": compile_seconds}
    return figures


def measure(
    spec: ChainSpec, overrides: dict, hbm_format: HbmFormat, target: Target = DEFAULT_TARGET
) -> tuple[RunReport, dict]:
    report = run_library_chain(
        spec, overrides, target=target.spec, hbm_format=hbm_format, stages=True
    )
    row = report.to_json()
    separate = alone(spec, overrides, hbm_format, target)
    for stage in row["stages"]:
        stage["alone_cycles"] = separate[stage["name"]]["cycles"]
        stage["alone_compile_seconds"] = separate[stage["name"]]["compile_seconds"]
    row["alone_compile_seconds"] = sum(s["compile_seconds"] for s in separate.values())
    return report, row


def format_row(report: RunReport, row: dict) -> str:
    lines = report.format_text().splitlines()
    table = format_stage_table(report.stages).splitlines()
    width = len(table[0])
    lines = lines[: len(lines) - len(table)]
    lines.append(f"{table[0]}  {'alone':>9}  {'linked-alone':>12}")
    lines.append("-" * (width + 25))
    for text, stage in zip(table[2:], row["stages"], strict=True):
        extra = stage["cycles"] - stage["alone_cycles"]
        lines.append(f"{text}  {stage['alone_cycles']:>9,}  {extra:>12,}")
    lines.append(f"kernels compiled one by one: {row['alone_compile_seconds']:.2f} s in all")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chain", action="append", help="only this chain (repeatable)")
    p.add_argument("--hbm-format", choices=("mxfp8", "fp32"), default="mxfp8")
    p.add_argument("--quick", action="store_true", help="each chain at its smallest sizes")
    p.add_argument("--target", default=None, help="preset name or plena_settings.toml")
    p.add_argument("--size", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="override a size of the chain")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    chains = all_chains()
    try:
        target = get_target(args.target)
    except TargetError as error:
        p.error(str(error))
    sizes = {}
    for item in args.size:
        name, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            p.error(f"--size: '{item}' is not NAME=INTEGER")
        sizes[name.replace("-", "_")] = int(value)
    if unknown := sorted(set(args.chain or ()) - set(chains)):
        p.error(f"unknown chain {', '.join(unknown)} (chains: {', '.join(chains)})")
    measured = [
        measure(spec, QUICK_SIZES.get(name, {}) if args.quick else sizes, args.hbm_format, target)
        for name, spec in chains.items()
        if not args.chain or name in args.chain
    ]
    rows = [row for _, row in measured]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(format_row(report, row) for report, row in measured))
    return 0 if all(report.passed for report, _ in measured) else 1


if __name__ == "__main__":
    sys.exit(main())
