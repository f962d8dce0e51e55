"""Start-up time of the tools: plena-opt beside xdsl-opt on an empty module, and the others.

    python benchmarks/startup.py [--repeat N] [--quick] [--json]

Each command runs `--repeat` times (default 10) as a user types it, from the console scripts
of this Python's environment; the table reports the median wall time and the median CPU time
of the child process, and each command's CPU time over that of `xdsl-opt` on the same empty
module (CPU time, which other load on the machine disturbs less than wall time).  The
start-up goal: plena-opt within 1.3x of xdsl-opt.  `--quick` runs each command twice.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def commands(empty: Path) -> dict[str, list[str]]:
    return {
        "xdsl-opt empty.mlir": [str(BIN / "xdsl-opt"), str(empty)],
        "plena-opt empty.mlir": [str(BIN / "plena-opt"), str(empty)],
        "plena-sim --help": [str(BIN / "plena-sim"), "--help"],
        "plena-run --help": [str(BIN / "plena-run"), "--help"],
    }


def measure(argv: list[str], repeat: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of the child) of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = os.times()
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user + after.children_system
                    - before.children_user - before.children_system)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=10, help="runs per command (median)")
    p.add_argument("--quick", action="store_true", help="two runs per command")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    repeat = 2 if args.quick else args.repeat
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.mlir"
        empty.write_text("builtin.module {}\n")
        rows = []
        for name, command in commands(empty).items():
            wall, cpu = measure(command, repeat)
            rows.append({"command": name, "wall_seconds": wall, "cpu_seconds": cpu})
    baseline = rows[0]["cpu_seconds"]
    for row in rows:
        row["vs_xdsl_opt"] = row["cpu_seconds"] / baseline
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    print(f"{'command':<22} {'wall s':>7} {'cpu s':>7} {'vs xdsl-opt':>11}")
    for row in rows:
        print(f"{row['command']:<22} {row['wall_seconds']:>7.3f} {row['cpu_seconds']:>7.3f} "
              f"{row['vs_xdsl_opt']:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
