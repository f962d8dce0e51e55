"""`plena-sim`: run a PLENA program on the simulator and write the emulator's dump files.

    plena-sim PROGRAM [--target NAME|TOML] [--hbm FILE] [--fpsram FILE] [--intsram FILE]
              [--vram FILE] [--hbm-format mxfp8|fp32] [--out-dir DIR] [--json]
              [--show-vram ADDR:ROWS] [--max-instructions N] [--max-cycles N] [--quiet]
              [--timing-only]

PROGRAM is assembly text (`.asm`, or any file that is not hex words) or a `.mem` file of
`0x%08X` words, one or more per line.  The preloads use the published formats
(`plena-isa-tvm.md` A5.2): `--hbm` a raw HBM image copied to address 0 (little-endian float32
values with `--hbm-format fp32`), `--fpsram` fp16, `--intsram` u32, `--vram` bf16 rows.

After a completed run, `--out-dir` (default: the current directory) receives vram_dump.bin,
mram_dump.bin, fpsram_dump.bin, intsram_dump.bin, hbm_dump.bin (address 0 to the end of what
was loaded or written) and stats.json; stdout gets a short summary, or with `--json` the
statistics object.  `--show-vram ADDR:ROWS` also prints ROWS VRAM rows from element address
ADDR (the program's result, as the machine holds it).

`--timing-only` computes the statistics alone -- the same as a full run's, without any
value (`docs/simulator.md`, "Timing-only runs") -- and writes only stats.json.

`--max-instructions N` / `--max-cycles N` stop the run (0: no limit; by default the
instruction budget comes from the program's loop tree, `plena_mlir/sim/budget.py`).  A run
longer than two seconds draws a progress bar on stderr when stderr is a terminal, unless
`--quiet`.  Ctrl-C stops the run and prints the statistics so far (exit status 130).

Bad input of any kind is one `plena-sim: error: ...` line on stderr and exit status 1 (2 for
a command-line usage error or a run that used up its budget); an aborted or stopped run
writes no dumps.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import parse_mem
from plena_mlir.isa.instruction import Instruction, IsaError
from plena_mlir.sim import image
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.budget import Budget
from plena_mlir.sim.errors import (
    BudgetExceeded,
    MachineFault,
    SimulationError,
    SimulationInterrupted,
)
from plena_mlir.sim.progress import ProgressBar
from plena_mlir.sim.stats import Stats, format_summary
from plena_mlir.target import Target, TargetError, get_target, settings_note

PROG = "plena-sim"
_MEM_WORD = re.compile(r"0x[0-9A-Fa-f]{8}")
_HEX_TOKEN = re.compile(r"(0[xX])?[0-9A-Fa-f]+")


class CliError(Exception):
    """Bad input: printed as one `plena-sim: error:` line, exit status `status`."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, instead of usage + message
        self.exit(2, f"{PROG}: error: {message} (see {PROG} --help)\n")


def _arguments() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Run a PLENA program on the simulator and write dumps.")
    p.add_argument("program", metavar="PROGRAM", help="assembly text or a .mem file")
    p.add_argument("--target", default=None, help="preset name or plena_settings.toml")
    p.add_argument("--hbm", type=Path, help="HBM image copied to address 0")
    p.add_argument("--fpsram", type=Path, help="FPRAM preload (fp16 little-endian)")
    p.add_argument("--intsram", type=Path, help="INTRAM preload (u32 little-endian)")
    p.add_argument("--vram", type=Path, help="VRAM preload (bf16 little-endian rows)")
    p.add_argument("--hbm-format", choices=("mxfp8", "fp32"), default="mxfp8")
    p.add_argument("--out-dir", type=Path, default=Path("."), help="where dumps are written")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.add_argument(
        "--show-vram",
        metavar="ADDR:ROWS",
        type=_vram_window,
        help="print ROWS VRAM rows starting at element address ADDR after the run",
    )
    p.add_argument("--max-instructions", type=_count, metavar="N",
                   help="stop after N instructions (0: no limit; default: from the loop tree)")
    p.add_argument("--max-cycles", type=_count, metavar="N",
                   help="stop once the run takes more than N cycles (0: no limit, the default)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--timing-only", action="store_true",
                   help="the statistics without computing values (writes only stats.json)")
    return p


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a non-negative integer")
    return int(text)


def _vram_window(text: str) -> tuple[int, int]:
    addr, sep, rows = text.partition(":")
    try:
        window = (int(addr, 0), int(rows, 0) if sep else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not ADDR:ROWS") from None
    if window[0] < 0 or window[1] < 1:
        raise argparse.ArgumentTypeError(f"'{text}': ADDR must be >= 0 and ROWS >= 1")
    return window


def format_vram(sim: Simulator, addr: int, rows: int) -> str:
    """VRAM rows as text, one `row N (addr A):` header per row, values as bf16 decimals."""
    try:
        values = sim.read_vram(addr, rows)
    except ValueError as e:
        raise CliError(f"--show-vram: {e}") from None
    vlen = sim.target.vlen
    out = []
    for i, row in enumerate(values):
        a = addr + i * vlen
        out.append(f"VRAM row {a // vlen} (address {a}):")
        for j in range(0, vlen, 8):
            out.append("  " + " ".join(f"{v:9.4g}" for v in row[j : j + 8]))
    return "\n".join(out) + "\n"


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CliError(f"cannot read {what} '{path}': {e.strerror}") from None


def _is_mem(path: Path, text: str) -> bool:
    if path.suffix == ".mem":
        return True
    if path.suffix == ".asm":
        return False
    tokens = text.split()
    return bool(tokens) and all(_HEX_TOKEN.fullmatch(t) for t in tokens)


def load_program(path: Path, target: Target) -> list[Instruction] | list[int]:
    """The program in `path`: assembly parsed for `target`, or the words of a .mem file."""
    try:
        text = _read(path, "program").decode()
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a text file (assembly or .mem words expected)") from None
    if not _is_mem(path, text):
        return parse_asm(text, target, filename=str(path))
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in line.split():
            if not _MEM_WORD.fullmatch(token):
                raise CliError(
                    f"{path}:{lineno}: '{token}' is not a 32-bit word written as 0x%08X "
                    "(truncated or garbled .mem file)"
                )
    return parse_mem(text, str(path))


def _preload(sim: Simulator, args: argparse.Namespace) -> None:
    """Load the preload files in the emulator's order: HBM, FPRAM, INTRAM, VRAM."""
    t = sim.target
    loaders = (
        (args.hbm, "HBM image", sim.hbm.load_image),
        (args.fpsram, "FPRAM preload", lambda d: sim.load_fpram(image.parse_fpram_preload(d, t))),
        (args.intsram, "INTRAM preload",
         lambda d: sim.load_intram(image.parse_intram_preload(d, t))),
        (args.vram, "VRAM preload", lambda d: sim.load_vram(image.parse_vram_preload(d, t))),
    )
    for path, what, load in loaders:
        if path is not None:
            try:
                load(_read(path, what))
            except MachineFault as e:
                raise CliError(f"{path}: {e}") from None


def write_dumps(sim: Simulator, out_dir: Path, stats_json: dict, with_memories: bool) -> None:
    """The dump files of plena-isa-tvm.md A5.3 (plus intsram_dump.bin) unless not
    `with_memories`, and stats.json."""
    st = sim.state
    files = {
        "vram_dump.bin": lambda: image.vram_dump(st.vram),
        "mram_dump.bin": lambda: image.mram_dump(st.mram),
        "fpsram_dump.bin": lambda: image.fpram_dump(st.fpram, sim.target.fp_format),
        "intsram_dump.bin": lambda: image.intram_dump(st.intram),
        "hbm_dump.bin": sim.hbm.dump,
    } if with_memories else {}
    files["stats.json"] = lambda: (json.dumps(stats_json, indent=2) + "\n").encode()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out_dir / name).write_bytes(data())
    except OSError as e:
        raise CliError(f"cannot write dumps to '{out_dir}': {e.strerror}") from None


def run(args: argparse.Namespace) -> None:
    if args.timing_only and args.show_vram is not None:
        raise CliError("--show-vram needs the values a --timing-only run does not compute",
                       status=2)
    try:
        target = get_target(args.target)
        note = settings_note(args.target)
    except TargetError as e:
        raise CliError(str(e)) from None
    program = load_program(Path(args.program), target)
    sim = Simulator(target, args.hbm_format)
    _preload(sim, args)
    progress = None if args.quiet else ProgressBar.on_stderr()
    try:
        stats = sim.run(program, Budget(args.max_instructions, args.max_cycles), progress,
                        args.timing_only)
    except BudgetExceeded as e:
        raise CliError(f"{args.program}: {e}", status=2) from None
    except SimulationError as e:
        raise CliError(f"{args.program}: simulation aborted at {e}") from None
    finally:
        if progress is not None:
            progress.close()
    stats_json = stats.to_json() | ({"target_settings": note} if note else {})
    write_dumps(sim, args.out_dir, stats_json, with_memories=not args.timing_only)
    if args.show_vram is not None:
        sys.stdout.write(format_vram(sim, *args.show_vram))
    _print_stats(stats, args.json, note)


def _print_stats(stats: Stats, as_json: bool, note: str | None = None) -> None:
    """The statistics as JSON or as the summary, with a settings file's used keys."""
    if as_json:
        stats_json = stats.to_json() | ({"target_settings": note} if note else {})
        sys.stdout.write(json.dumps(stats_json, indent=2) + "\n")
    else:
        sys.stdout.write((f"target: {note}\n" if note else "") + format_summary(stats))


def main(argv: list[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    try:
        run(args)
    except CliError as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return e.status
    except (IsaError, TargetError) as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 1
    except SimulationInterrupted as e:
        _print_stats(e.stats, args.json)
        sys.stderr.write(f"{PROG}: interrupted at pc {e.pc} ({e.instruction}) after "
                         f"{e.stats.instructions:,} instructions: the statistics so far\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
