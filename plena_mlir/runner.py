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
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from plena_mlir.pipeline import CompiledKernel
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.sim.image import build_hbm_image, read_hbm_tensor
from plena_mlir.sim.stats import Stats


class KernelInputError(ValueError):
    """Inputs that do not match the compiled kernel's arguments."""


def run_kernel(
    compiled: CompiledKernel,
    inputs: Mapping[str, np.ndarray | float],
    hbm_format: HbmFormat = "fp32",
) -> tuple[dict[str, np.ndarray], Stats]:
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
    stats = sim.run(compiled.program)
    if hbm_format == "mxfp8":
        image = sim.hbm.dump()
        outputs = {
            name: read_hbm_tensor(image, compiled.hbm_addresses[name], shape, target)
            for name, shape in compiled.tensors.items()
        }
    else:
        outputs = {
            name: sim.hbm.read_tensor(compiled.hbm_addresses[name], shape)
            for name, shape in compiled.tensors.items()
        }
    return outputs, stats
