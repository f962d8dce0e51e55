"""Compile time: CPU seconds of the whole pipeline, per kernel and per pass, and chain links.

    python benchmarks/compile_time.py [--kernel NAME ...] [--chain NAME ...] [--repeat N]
                                      [--quick] [--json]

For every library kernel at its default sizes (or those named with `--kernel`), the best of
`--repeat` runs (default 3) of `compile_kernel` in CPU seconds (`time.process_time`), and
the same for each pass of the pipeline applied in order to a fresh copy of the module; for
every chain (or those named with `--chain`) the CPU seconds of `link_chain`.  The programs
are the same whichever way they are timed.  `--quick` measures softmax and no chain, once
(what the test suite runs so the script cannot rot).  Goals of the compile-time issue:
flash_attention <= 0.45 s, the SSB link <= 1.2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.chains import all_chains
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel, compile_passes, link_chain


def cpu_seconds(work: Callable[[], object], repeat: int) -> float:
    """The least CPU time of `repeat` runs of `work` (the least is the least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def per_pass(module: ModuleOp, repeat: int) -> dict[str, float]:
    """CPU seconds of each pass of the compile pipeline, applied in order (best of `repeat`)."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        current = module.clone()
        for compile_pass in compile_passes(AllocateMemoryPass()):
            start = time.process_time()
            compile_pass.apply(Context(), current)
            seconds = time.process_time() - start
            best[compile_pass.name] = min(best.get(compile_pass.name, seconds), seconds)
    return best


def kernel_row(name: str, repeat: int) -> dict:
    spec = all_kernels()[name]
    module = spec.build(spec.resolve())
    compile_kernel(module)  # warm: first use of every pattern and table
    return {
        "kernel": name,
        "compile_seconds": cpu_seconds(lambda: compile_kernel(module), repeat),
        "passes": per_pass(module, repeat),
    }


def chain_row(name: str, repeat: int) -> dict:
    spec = all_chains()[name]
    module = spec.build(spec.resolve())
    return {"chain": name, "link_seconds": cpu_seconds(lambda: link_chain(module), repeat)}


def format_rows(kernels: list[dict], chains: list[dict]) -> str:
    passes = list(kernels[0]["passes"]) if kernels else []
    short = [p.removeprefix("plena-").removeprefix("convert-") for p in passes]
    header = f"{'kernel':<22} {'compile s':>9}  " + "  ".join(f"{s:>14}" for s in short)
    lines = [header, "-" * len(header)]
    for row in kernels:
        cells = "  ".join(f"{row['passes'][p]:>14.3f}" for p in passes)
        lines.append(f"{row['kernel']:<22} {row['compile_seconds']:>9.3f}  {cells}")
    lines += [f"chain {row['chain']:<16} {row['link_seconds']:>9.3f}  (link)" for row in chains]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kernel", action="append", help="only this kernel (repeatable)")
    p.add_argument("--chain", action="append", help="only this chain (repeatable)")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (best of)")
    p.add_argument("--quick", action="store_true", help="softmax only, once, no chain")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    kernels, chains = all_kernels(), all_chains()
    if unknown := sorted(set(args.kernel or ()) - set(kernels)):
        p.error(f"unknown kernel {', '.join(unknown)} (kernels: {', '.join(kernels)})")
    if unknown := sorted(set(args.chain or ()) - set(chains)):
        p.error(f"unknown chain {', '.join(unknown)} (chains: {', '.join(chains)})")
    if args.quick:
        args.kernel, args.chain, args.repeat = ["softmax"], [], 1
    kernel_rows = [kernel_row(name, args.repeat) for name in args.kernel or kernels]
    chosen_chains = chains if args.chain is None else args.chain
    chain_rows = [chain_row(name, args.repeat) for name in chosen_chains]
    if args.json:
        sys.stdout.write(json.dumps({"kernels": kernel_rows, "chains": chain_rows}, indent=2))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_rows(kernel_rows, chain_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
