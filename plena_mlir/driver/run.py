"""`run_kernel`: run a `CompiledKernel` on the simulator, tensors in and out by name.

    compiled = compile_kernel(softmax.build(128, 64))
    outputs, stats = run_kernel(compiled, {"x": x}, hbm_format="mxfp8")

Tensors not given start as zeros; f32 scalar arguments are given as floats in `inputs`
(`{"eps": 1e-6}`) and written to their FPRAM entries with the constant pool.  HBM:

- "fp32": each tensor is written with `sim.hbm.write_tensor` at its planned address
  (fp32 HBM addresses elements, so the same program runs unquantised);
- "mxfp8": the tensors form the HBM image `build_hbm_image` writes (element rows, then the
  scale rows from the element bytes rounded up to a row: the SCALE the program uses), and
  outputs are decoded from that layout (`read_hbm_tensor`).

Returns every tensor argument after the run, and the simulator's statistics.
`loaded_simulator(compiled, inputs, hbm_format)` is the simulator before the run (what the
throughput benchmark times `Simulator.run` on).

A linked chain (`link_chain`) runs with `run_kernel` as one program, or with `run_chain`
stage by stage on the same machine, which also gives each stage's statistics:

    run = run_chain(link_chain(module), {"x": x}, hbm_format="mxfp8")
    run.outputs["out"], run.stats.cycles, run.stage_stats["linear_q"].cycles

Both take `SimOptions`: the run's `budget` (`plena_mlir.sim.budget.Budget`; a chain's stages
share it) and a `progress` bar.  A stopped run raises `BudgetExceeded` or
`SimulationInterrupted` with the statistics so far (a chain's: its stages' so far, summed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from plena_mlir.numerics.hbm_format import HbmFormat, image_footprint
from plena_mlir.pipeline import CompiledKernel, Stage
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.budget import Budget
from plena_mlir.sim.errors import BudgetExceeded, SimulationError, SimulationInterrupted
from plena_mlir.sim.image import build_hbm_image, read_hbm_tensor
from plena_mlir.sim.progress import ProgressBar
from plena_mlir.sim.stats import Stats, sequential
from plena_mlir.target import Target


class KernelInputError(ValueError):
    """Inputs that do not match the compiled kernel's arguments."""


@dataclass(frozen=True)
class SimOptions:
    """How a kernel or chain is simulated: within `budget` (None: the default budget), with
    a `progress` bar (None: none), and with `timing_only` the statistics without any value
    (then no tensor is read back: the outputs are empty)."""

    budget: Budget | None = None
    progress: ProgressBar | None = None
    timing_only: bool = False


def run_kernel(
    compiled: CompiledKernel,
    inputs: Mapping[str, np.ndarray | float],
    hbm_format: HbmFormat = "fp32",
    options: SimOptions | None = None,
) -> tuple[dict[str, np.ndarray], Stats]:
    """Run `compiled` on `inputs`: every tensor argument after the run, and the statistics."""
    options = options or SimOptions()
    sim = loaded_simulator(compiled, inputs, hbm_format, options.timing_only)
    stats = sim.run(compiled.program, options.budget, options.progress, options.timing_only)
    if options.timing_only:
        return {}, stats
    read = _reader(sim, compiled.target)
    return {
        name: read(compiled.hbm_addresses[name], shape) for name, shape in compiled.tensors.items()
    }, stats


@dataclass(frozen=True)
class ChainRun:
    """A linked chain's run: every chain tensor argument after it, and every intermediate
    when no two share HBM bytes (always so when linked with reuse_intermediates=False, else
    a reused tensor would show its successor); the whole run's statistics (the stages'
    summed) and each stage's."""

    outputs: dict[str, np.ndarray]
    stats: Stats
    stage_stats: dict[str, Stats]


def run_chain(
    linked: CompiledKernel,
    inputs: Mapping[str, np.ndarray | float],
    hbm_format: HbmFormat = "fp32",
    options: SimOptions | None = None,
) -> ChainRun:
    """Run a `link_chain` program stage by stage on one machine (its state carries over from
    stage to stage, as in one run of the whole program); inputs as `run_kernel`.  A
    SimulationError names the stage and the pc in the whole program."""
    options = options or SimOptions()
    sim = loaded_simulator(linked, inputs, hbm_format, options.timing_only)
    budget = options.budget or Budget()
    stage_stats: dict[str, Stats] = {}
    for stage in linked.stages:
        try:
            stats = sim.run(linked.program[stage.first : stage.end], budget, options.progress,
                            options.timing_only)
        except (SimulationError, SimulationInterrupted) as e:
            raise _in_stage(e, stage, list(stage_stats.values())) from None
        stage_stats[stage.name] = stats
        budget = budget.spent(stats.instructions, stats.cycles)
    if options.timing_only:
        return ChainRun({}, sequential(list(stage_stats.values())), stage_stats)
    read = _reader(sim, linked.target)
    tensors = {name: (linked.hbm_addresses[name], shape) for name, shape in linked.tensors.items()}
    if _have_own_bytes(linked):
        tensors |= linked.intermediates
    outputs = {name: read(address, shape) for name, (address, shape) in tensors.items()}
    return ChainRun(outputs, sequential(list(stage_stats.values())), stage_stats)


def _in_stage(
    e: SimulationError | SimulationInterrupted, stage: Stage, before: list[Stats]
) -> SimulationError | SimulationInterrupted:
    """`e` of a stage's run as an error of the whole chain: pc in the whole program, the stage
    named, the statistics of the stages before added."""
    pc = e.pc + stage.first
    if isinstance(e, SimulationInterrupted):
        return SimulationInterrupted(pc, e.instruction, sequential([*before, e.stats]))
    reason = f'stage "{stage.name}" (@{stage.kernel}): {e.reason}'
    if not isinstance(e, BudgetExceeded):
        return SimulationError(pc, e.instruction, reason, e.line)
    stopped = BudgetExceeded(pc, e.instruction, reason, e.line)
    stopped.stats = sequential([*before, e.stats])
    return stopped


def loaded_simulator(
    compiled: CompiledKernel,
    inputs: Mapping[str, np.ndarray | float],
    hbm_format: HbmFormat,
    values_unused: bool = False,
) -> Simulator:
    """A simulator holding the inputs in HBM and the constant pool and scalars in FPRAM (the
    inputs only checked when `values_unused`: a timing-only run reads no value)."""
    known = set(compiled.tensors) | set(compiled.fpram_arguments)
    if unknown := sorted(set(inputs) - known):
        raise KernelInputError(
            f"@{compiled.name} has no argument {', '.join(unknown)} (arguments: "
            f"{', '.join(sorted(known))})"
        )
    if missing := sorted(set(compiled.fpram_arguments) - set(inputs)):
        raise KernelInputError(f"@{compiled.name}: no value for the scalar {', '.join(missing)}")
    tensors = {}
    for name, shape in compiled.tensors.items():
        value = np.asarray(inputs.get(name, np.zeros(shape)), dtype=np.float32)
        if value.shape != shape:
            raise KernelInputError(
                f"@{compiled.name}: {name} must have shape {shape}, got {value.shape}"
            )
        tensors[name] = value
    target = compiled.target
    sim = Simulator(target, hbm_format)
    if values_unused:
        return sim
    if hbm_format == "mxfp8":
        image, addresses = build_hbm_image(list(tensors.values()), target)
        assert addresses == [compiled.hbm_addresses[name] for name in tensors]
        sim.hbm.load_image(image)
    else:
        for name, value in tensors.items():
            sim.hbm.write_tensor(compiled.hbm_addresses[name], value)
    preload = list(compiled.fpram_preload)
    for name, entry in compiled.fpram_arguments.items():
        preload += [0.0] * (entry + 1 - len(preload))
        preload[entry] = float(inputs[name])
    sim.load_fpram(preload)
    return sim


def _reader(sim: Simulator, target: Target) -> Callable[[int, tuple[int, ...]], np.ndarray]:
    """Reads a tensor of a shape at an address of the HBM after the run: decoded from the MX
    image (dumped once) or read from the fp32 HBM."""
    if not sim.hbm.is_mxfp8:
        return sim.hbm.read_tensor
    image = sim.hbm.dump()
    return lambda address, shape: read_hbm_tensor(image, address, shape, target)


def _have_own_bytes(linked: CompiledKernel) -> bool:
    """True when no two intermediates share HBM bytes (always so when linked with
    reuse_intermediates=False): then each holds its last value after the run."""
    spans = sorted(
        (address, address + image_footprint(math.prod(shape), linked.target))
        for address, shape in linked.intermediates.values()
    )
    return all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
