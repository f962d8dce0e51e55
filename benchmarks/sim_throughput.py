"""Simulator throughput: simulated instructions per second on three loop-heavy programs.

    python benchmarks/sim_throughput.py [--repeat N] [--scale F] [--quick]

Workloads (plena-tvm target, each a hardware loop around a short body):

* scalar: S_ADDI_INT / S_ADD_INT integer updates;
* vector: V_ADD_VV, V_MUL_VF, V_EXP_V, V_SUB_VV on VRAM rows;
* gemm:   two M_MM per output block, M_MM_WO, column steps across a tile.

Each program runs `--repeat` times on a fresh `Simulator`; the table reports the median wall
time of `Simulator.run` (decode included) and simulated instructions per second.  `--quick`
is one run at 1/20 of the loop counts (what the test suite runs so the script cannot rot).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from plena_mlir.sim.api import Simulator
from plena_mlir.target import PLENA_TVM


def scalar_program(iterations: int) -> str:
    return f"""
        C_LOOP_START gp1, {iterations}
        S_ADDI_INT gp2, gp2, 1
        S_ADD_INT  gp3, gp3, gp2
        S_ADDI_INT gp4, gp4, 3
        S_ADD_INT  gp5, gp5, gp4
        S_ADDI_INT gp6, gp6, 7
        S_ADD_INT  gp7, gp7, gp6
        S_ADDI_INT gp8, gp8, 1
        C_LOOP_END gp1
    """


def vector_program(iterations: int) -> str:
    return f"""
        S_ADDI_INT gp10, gp0, 0
        S_ADDI_INT gp11, gp0, 64
        S_ADDI_INT gp12, gp0, 128
        S_ADDI_INT gp13, gp0, 192
        C_LOOP_START gp1, {iterations}
        V_ADD_VV gp12, gp10, gp11, 0
        V_MUL_VF gp12, gp12, f1, 0
        V_EXP_V  gp13, gp12, 0
        V_SUB_VV gp13, gp13, gp10, 0
        C_LOOP_END gp1
    """


def gemm_program(iterations: int) -> str:
    columns = PLENA_TVM.mlen // PLENA_TVM.blen
    return f"""
        S_ADDI_INT gp11, gp0, 0
        C_LOOP_START gp1, {iterations}
        S_ADDI_INT gp10, gp0, 0
        S_ADDI_INT gp12, gp0, 4096
        C_LOOP_START gp2, {columns}
        M_MM 0, gp10, gp11
        M_MM 0, gp10, gp11
        M_MM_WO gp12, gp0, 0
        S_ADDI_INT gp10, gp10, {PLENA_TVM.blen}
        S_ADDI_INT gp12, gp12, {PLENA_TVM.blen}
        C_LOOP_END gp2
        C_LOOP_END gp1
    """


WORKLOADS = {
    "scalar": (scalar_program, 250_000),
    "vector": (vector_program, 40_000),
    "gemm": (gemm_program, 1_000),
}


def measure(program: str, repeat: int) -> tuple[int, int, float]:
    """(instructions, simulated cycles, median seconds) of running `program` `repeat` times."""
    times, stats = [], None
    for _ in range(repeat):
        sim = Simulator(PLENA_TVM)
        sim.load_vram(np.linspace(-1, 1, 4 * PLENA_TVM.vlen, dtype=np.float32).reshape(4, -1))
        sim.state.fp[1] = 0.5
        start = time.perf_counter()
        stats = sim.run(program)
        times.append(time.perf_counter() - start)
    return stats.instructions, stats.cycles, statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per workload (median)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the loop counts")
    parser.add_argument("--quick", action="store_true", help="one run at 1/20 of the counts")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.scale = 1, 0.05
    if args.repeat < 1 or args.scale <= 0:
        parser.error("--repeat must be at least 1 and --scale positive")
    print(f"{'workload':<8} {'instructions':>13} {'cycles':>12} {'median s':>9} {'instr/s':>12}")
    for name, (build, iterations) in WORKLOADS.items():
        count = max(1, int(iterations * args.scale))
        instructions, cycles, seconds = measure(build(count), args.repeat)
        rate = instructions / seconds
        print(f"{name:<8} {instructions:>13,} {cycles:>12,} {seconds:>9.3f} {rate:>12,.0f}")


if __name__ == "__main__":
    main()
