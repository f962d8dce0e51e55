"""Simulator throughput: simulated instructions per CPU second, full and timing-only runs.

    python benchmarks/sim_throughput.py [--repeat N] [--only NAME ...] [--quick]

Workloads (plena-tvm, mxfp8 HBM):

* scalar: S_ADDI_INT / S_ADD_INT integer updates in a hardware loop;
* vector: V_ADD_VV, V_MUL_VF, V_EXP_V, V_SUB_VV on VRAM rows in a hardware loop;
* gemm:   two M_MM per output block, M_MM_WO, column steps across a tile;
* ssb-1024: the SingleStreamBlock (`plena-run ssb`) at 1024 tokens, linked, as one program;
* fa-1024: flash_attention at sequence 1024 (q_blocks = kv_blocks = 16);
* ssb-4096, fa-16384 (q_blocks = kv_blocks = 256, 1.8e9 instructions): timing-only alone
  (a full run would take minutes to hours).

Each program is built (and compiled) once and its inputs loaded (`loaded_simulator`) outside
the measurement; what is measured is `Simulator.run` (decode included), in CPU seconds
(`time.process_time`), the median of `--repeat` runs on fresh simulators.  The table shows
instructions, cycles, both modes' seconds and instructions per second, and the speed-up of
timing-only.  `--quick` is one run of every workload at small sizes (what the test suite
runs so the script cannot rot).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from plena_mlir.chains import all_chains
from plena_mlir.driver.run import loaded_simulator
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import compile_kernel, link_chain
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


@dataclass(frozen=True)
class Workload:
    """A program and a fresh simulator ready to run it (`load(timing_only)`)."""

    program: object
    load: Callable[[bool], Simulator]
    full: bool = True


def synthetic(build: Callable[[int], str], iterations: int) -> Callable[[bool], Workload]:
    def make(quick: bool) -> Workload:
        def load(timing_only: bool) -> Simulator:
            sim = Simulator(PLENA_TVM)
            sim.load_vram(np.linspace(-1, 1, 4 * PLENA_TVM.vlen, dtype=np.float32).reshape(4, -1))
            sim.state.fp[1] = 0.5
            return sim

        return Workload(build(max(1, iterations // 20 if quick else iterations)), load)

    return make


def kernel(name: str, sizes: dict, quick_sizes: dict, full: bool = True):
    def make(quick: bool) -> Workload:
        spec = all_kernels().get(name) or all_chains()[name]
        resolved = spec.resolve(quick_sizes if quick else sizes, PLENA_TVM)
        module = spec.build(resolved, PLENA_TVM)
        compiled = link_chain(module) if name in all_chains() else compile_kernel(module)
        inputs = spec.make_inputs(resolved, np.random.default_rng(0), PLENA_TVM)
        return Workload(
            compiled.program,
            lambda timing_only: loaded_simulator(compiled, inputs, "mxfp8", timing_only),
            full,
        )

    return make


SSB_QUICK = {"tokens": 64, "heads": 4, "mlp": 128}
WORKLOADS: dict[str, Callable[[bool], Workload]] = {
    "scalar": synthetic(scalar_program, 250_000),
    "vector": synthetic(vector_program, 40_000),
    "gemm": synthetic(gemm_program, 1_000),
    "ssb-1024": kernel("ssb", {"tokens": 1024}, SSB_QUICK),
    "fa-1024": kernel("flash_attention", {"q_blocks": 16, "kv_blocks": 16},
                      {"q_blocks": 2, "kv_blocks": 2}),
    "ssb-4096": kernel("ssb", {"tokens": 4096}, SSB_QUICK, full=False),
    "fa-16384": kernel("flash_attention", {"q_blocks": 256, "kv_blocks": 256},
                       {"q_blocks": 4, "kv_blocks": 4}, full=False),
}


def measure(workload: Workload, timing_only: bool, repeat: int) -> tuple[int, int, float]:
    """(instructions, cycles, median CPU seconds of `Simulator.run`)."""
    times, stats = [], None
    for _ in range(repeat):
        sim = workload.load(timing_only)
        start = time.process_time()
        stats = sim.run(workload.program, timing_only=timing_only)
        times.append(time.process_time() - start)
    return stats.instructions, stats.cycles, statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (median)")
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), help="these workloads")
    parser.add_argument("--quick", action="store_true", help="one run at small sizes")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(f"{'workload':<9} {'instructions':>14} {'cycles':>14} {'full s':>8} "
          f"{'full instr/s':>13} {'timing s':>9} {'timing instr/s':>15} {'speed-up':>9}")
    for name in args.only or WORKLOADS:
        workload = WORKLOADS[name](args.quick)
        instructions, cycles, fast = measure(workload, True, args.repeat)
        if workload.full:
            full_instructions, full_cycles, full = measure(workload, False, args.repeat)
            assert (full_instructions, full_cycles) == (instructions, cycles), name
            full_cols = f"{full:>8.2f} {instructions / full:>13,.0f}"
            speedup = f"{full / fast:>8.0f}x" if fast else f"{'-':>9}"
        else:
            full_cols, speedup = f"{'-':>8} {'-':>13}", f"{'-':>9}"
        rate = f"{instructions / fast:>15,.0f}" if fast else f"{'-':>15}"
        print(f"{name:<9} {instructions:>14,} {cycles:>14,} {full_cols} {fast:>9.3f} {rate} "
              f"{speedup}", flush=True)


if __name__ == "__main__":
    main()
