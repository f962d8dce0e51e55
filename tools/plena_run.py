"""`plena-run`: compile a kernel (or link a chain), simulate it, check it against its
golden, report the cost.

    plena-run KERNEL [--size NAME=VALUE ...] [--NAME VALUE ...] [--scalar NAME=VALUE ...]
              [--target NAME|TOML] [--hbm-format mxfp8|fp32] [--seed N] [--emit-asm FILE]
              [--max-instructions N] [--max-cycles N] [--quiet] [--timing-only] [--json]
    plena-run CHAIN [--stages] [--size NAME=VALUE ...] [--NAME VALUE ...] [same options]
    plena-run FILE.mlir [--stages] [--scalar NAME=VALUE ...] [same options]
    plena-run --list [--json]

KERNEL is a kernel of `plena_mlir.kernels` (`--list` shows them with their sizes).  Sizes
start at the kernel's defaults; `--size rows=128 cols=192` or, per size, `--rows 128`
override them (`-` and `_` are the same in names: `--q-blocks 2`, `--size q_blocks=2`; flags
take true/false).  The kernel is built for the sizes, compiled with `compile_kernel`, given
inputs from `spec.make_inputs` with `--seed` (default 0), run on the simulator with
`run_kernel` (HBM in `--hbm-format`, default mxfp8 like the machine) and every output is
compared with the kernel's golden by `plena_mlir.driver.compare`.  `--scalar eps=1e-5` replaces the
value of an f32 scalar argument.

CHAIN is a chain of `plena_mlir.chains` (`ssb`, the SingleStreamBlock; `--list` shows
them): built for its sizes (the same `--size` / `--NAME` options), linked into one program
with `link_chain`, run with `run_chain` and its block output compared, every element, with
the chain's golden.  `--stages` links every intermediate at its own address and compares
every stage's outputs too, naming the stage.  The report adds per stage its cycles and share
of the run and its kernel's roofline bound, and the link time (`plena_mlir/driver/chain_check.py`).

FILE.mlir holds one `tile.kernel` (in the generic or custom syntax).  Its sizes are the
tensor shapes, so `--size` does not apply; every f32 scalar argument needs `--scalar`.  The
tensors the kernel reads (a `tile.copy` source) get standard-normal float32 values from the
seed, in argument order; the others start as zeros, as HBM does.  The reference is the tile
interpreter in rounded mode (`interpret_kernel(..., mode="rounded")`, the same rounding
points the goldens model), and every tensor the kernel writes is compared.  A FILE.mlir
holding several kernels and one `tile.chain` runs as a chain (`--stages` applies): linked,
run with `run_chain`, inputs for the chain tensor arguments read before any call writes
them, `--scalar` for its f32 arguments, and the chain interpreter (`interpret_chain`, rounded
mode) as the reference (`driver.chain_check.run_chain_file`).

The report: per output the comparison, then pass/fail, simulated cycles, the roofline lower
bound (`plena_mlir.analysis.roofline`) and cycles / bound, dynamic and static instruction counts,
compile and simulation time.  `--json` prints it as one object (keys: kernel, source, sizes,
target, hbm_format, seed, passed, max_abs_error, mean_abs_error, outputs, cycles,
dynamic_instructions, static_instructions, roofline_cycles, roofline_ratio, roofline,
compile_seconds, simulate_seconds).  `--emit-asm FILE` writes the program's assembly (with
the compiler's comments) before it runs; `plena-sim` runs it.

`--timing-only` simulates for the statistics alone: the same cycles, instructions, opcode
counts and HBM bytes as a full simulation, without computing any value, so nothing is
compared (the report says so; exit status 0).

`--max-instructions N` / `--max-cycles N` bound the simulation (0: no limit; by default the
instruction budget comes from the program's loop tree, `plena_mlir/sim/budget.py`; a chain's
stages share the budget).  A simulation longer than two seconds draws a progress bar on
stderr when stderr is a terminal, unless `--quiet`.  Ctrl-C stops the simulation and prints
its statistics so far (exit status 130).

Exit status: 0 when every output matches, 1 when one does not, 2 for bad input (unknown
kernel, chain or size, impossible sizes, unreadable or malformed .mlir, a compiler diagnostic, an
aborted simulation, a simulation that used up its budget), which is one `plena-run: error:`
line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from plena_mlir.chains import all_chains
from plena_mlir.chains.spec import ChainSpec
from plena_mlir.driver.bad_input import BadInput, checked
from plena_mlir.driver.chain_check import run_library_chain
from plena_mlir.driver.kernel_check import run_library_kernel, run_mlir_file
from plena_mlir.driver.report import RunReport, format_size, format_sizes
from plena_mlir.driver.run import SimOptions
from plena_mlir.driver.run_options import resolve_target
from plena_mlir.kernels import all_kernels
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.sim.budget import Budget
from plena_mlir.sim.errors import SimulationInterrupted
from plena_mlir.sim.progress import ProgressBar
from plena_mlir.sim.stats import format_summary
from plena_mlir.target import DEFAULT_TARGET, Target

PROG = "plena-run"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, instead of usage + message
        raise BadInput(f"{message} (see {PROG} --help)")


def _arguments(
    spec: KernelSpec | ChainSpec | None, machine: Target = DEFAULT_TARGET, add_help: bool = True
) -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        add_help=add_help,
        description="Compile a kernel (or link a chain), simulate it, check it against its "
        "golden and report its cycles against the roofline.",
    )
    p.add_argument("kernel", nargs="?", metavar="KERNEL|CHAIN|FILE.mlir",
                   help="a kernel or chain of the library (see --list) or a .mlir file")
    p.add_argument("--list", action="store_true",
                   help="list the kernels and chains and their sizes")
    p.add_argument("--stages", action="store_true",
                   help="a chain: one address per intermediate, check every stage's outputs")
    p.add_argument("--size", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="override a size of the kernel")
    p.add_argument("--scalar", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="the value of an f32 scalar argument")
    p.add_argument("--target", default=None, help="preset name or plena_settings.toml")
    p.add_argument("--hbm-format", choices=("mxfp8", "fp32"), default="mxfp8")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the generated inputs")
    p.add_argument("--emit-asm", type=Path, metavar="FILE", help="write the program's assembly")
    p.add_argument("--max-instructions", type=_count, metavar="N",
                   help="stop the simulation after N instructions (0: no limit; default: from "
                   "the program's loop tree)")
    p.add_argument("--max-cycles", type=_count, metavar="N",
                   help="stop the simulation once it takes more than N cycles (0: no limit, "
                   "the default)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timing-only", action="store_true",
                   help="simulate for the statistics alone, without values; compare nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    if spec is not None:
        sizes = p.add_argument_group(f"sizes of {spec.name} on {machine.name}")
        for name, default in spec.default_sizes(machine).items():
            spellings = dict.fromkeys([f"--{name.replace('_', '-')}", f"--{name}"])
            try:
                sizes.add_argument(*spellings, dest=f"size:{name}", metavar="VALUE",
                                   help=f"default {format_size(default)}")
            except argparse.ArgumentError:  # a size named like an option: use --size
                continue
    return p


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse `argv`, with `--NAME` options for the sizes of the kernel it names."""
    known, _ = _arguments(None, add_help=False).parse_known_args(argv)
    spec = _library().get(known.kernel) if known.kernel else None
    if spec is None:
        return _arguments(None).parse_args(argv)
    return _arguments(spec, resolve_target(known.target)).parse_args(argv)


def _size_overrides(
    spec: KernelSpec | ChainSpec, args: argparse.Namespace, machine: Target
) -> dict[str, int]:
    """The sizes given with --size and --NAME, converted to the type of their default on
    `machine`."""
    given = [item.partition("=")[::2] for item in args.size]
    for item in args.size:
        if "=" not in item:
            raise BadInput(f"--size: '{item}' is not NAME=VALUE")
    given += [(key.removeprefix("size:"), value) for key, value in vars(args).items()
              if key.startswith("size:") and value is not None]
    overrides: dict[str, int] = {}
    defaults = spec.default_sizes(machine)
    for raw_name, text in given:
        name = raw_name.replace("-", "_")
        default = defaults.get(name)
        overrides[name] = text if default is None else _size_value(name, text, default)
    spec.resolve(overrides, machine)  # KernelSizeError naming every unknown and known size
    return overrides


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a non-negative integer")
    return int(text)


_seed = _count


def _size_value(name: str, text: str, default: object) -> int:
    if isinstance(default, bool):
        words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if text.lower() not in words:
            raise BadInput(f"size {name} is a flag: give true or false, not '{text}'")
        return words[text.lower()]
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"size {name} must be an integer, not '{text}'") from None


def _scalar_values(items: Sequence[str]) -> dict[str, float]:
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            if not sep:
                raise ValueError
            values[name] = float(text)
        except ValueError:
            raise BadInput(f"--scalar: '{item}' is not NAME=NUMBER") from None
    return values


def format_kernel_list(
    kernels: Mapping[str, KernelSpec | ChainSpec], machine: Target = DEFAULT_TARGET
) -> str:
    """Two lines per kernel (or chain): name and default sizes on `machine`, summary."""
    width = max((len(name) for name in kernels), default=0)
    return "".join(
        f"{name:<{width}}  {format_sizes(spec.default_sizes(machine))}"
        f"\n{'':<{width}}  {spec.summary}\n"
        for name, spec in kernels.items()
    )


def _list(args: argparse.Namespace) -> None:
    kernels, chains = all_kernels(), all_chains()
    machine = resolve_target(args.target)
    if args.json:
        listing = [
            {"name": s.name, "kind": "kernel", "summary": s.summary,
             "sizes": s.default_sizes(machine),
             "test_sizes": [dict(t) for t in s.sizes_to_test(machine)]}
            for s in kernels.values()
        ] + [
            {"name": s.name, "kind": "chain", "summary": s.summary,
             "sizes": s.default_sizes(machine),
             "stages": [
                 {"name": c.stage, "kernel": c.kernel, "writes": list(c.writes)}
                 for c in s.stages(s.default_sizes(machine), machine)
             ]}
            for s in chains.values()
        ]
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
    else:
        sys.stdout.write(format_kernel_list(kernels, machine) + "\nchains:\n"
                         + format_kernel_list(chains, machine))


def _library() -> dict[str, KernelSpec | ChainSpec]:
    """The kernels and the chains by name (the two never share a name)."""
    kernels, chains = all_kernels(), all_chains()
    assert not set(kernels) & set(chains), "a chain named like a kernel"
    return {**kernels, **chains}


def run(args: argparse.Namespace, progress: ProgressBar | None = None) -> RunReport:
    options = {
        "target": args.target,
        "hbm_format": args.hbm_format,
        "seed": args.seed,
        "scalars": _scalar_values(args.scalar),
        "emit_asm": args.emit_asm,
        "simulation": SimOptions(Budget(args.max_instructions, args.max_cycles), progress,
                                 args.timing_only),
    }
    if args.kernel.endswith(".mlir"):
        if args.size:
            raise BadInput("--size applies to library kernels; a .mlir kernel's sizes are its "
                           "tensor shapes")
        return run_mlir_file(Path(args.kernel), stages=args.stages, **options)
    spec = _library().get(args.kernel)
    if spec is None:
        raise BadInput(f"unknown kernel '{args.kernel}' (kernels: {', '.join(all_kernels())}; "
                       f"chains: {', '.join(all_chains())}; a kernel file must end in .mlir)")
    overrides = checked(lambda: _size_overrides(spec, args, resolve_target(args.target)), "")
    if isinstance(spec, ChainSpec):
        return run_library_chain(spec, overrides, stages=args.stages, **options)
    if args.stages:
        raise BadInput(f"--stages applies to chains; {spec.name} is a kernel")
    return run_library_kernel(spec, overrides, **options)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parse(sys.argv[1:] if argv is None else argv)
        if args.list:
            _list(args)
            return 0
        if args.kernel is None:
            raise BadInput("give a KERNEL, a FILE.mlir or --list")
        progress = None if args.quiet else ProgressBar.on_stderr()
        try:
            report = run(args, progress)
        finally:
            if progress is not None:
                progress.close()
    except BadInput as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 2
    except SimulationInterrupted as e:
        sys.stdout.write(format_summary(e.stats))
        sys.stderr.write(f"{PROG}: interrupted at pc {e.pc} ({e.instruction}) after "
                         f"{e.stats.instructions:,} instructions: the statistics so far\n")
        return 130
    sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n" if args.json
                     else report.format_text())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
