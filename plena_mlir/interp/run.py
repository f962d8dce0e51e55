"""`interpret_kernel`: run every program instance of a `tile.kernel` in NumPy."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import Float32Type, ModuleOp
from xdsl.interpreter import Interpreter
from xdsl.interpreters.arith import ArithFunctions
from xdsl.interpreters.scf import ScfFunctions

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp, TensorType
from plena_mlir.interp.lane_functions import LaneFunctions
from plena_mlir.interp.tile_functions import TileFunctions
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Mode, Numerics
from plena_mlir.target import Target


class KernelInputError(ValueError):
    """Inputs that do not fit the kernel's arguments."""


def find_kernel(module: ModuleOp, name: str) -> KernelOp:
    """The `tile.kernel @name` of `module`."""
    kernels = [op for op in module.walk() if isinstance(op, KernelOp)]
    for kernel in kernels:
        if kernel.sym_name.data == name:
            return kernel
    known = ", ".join(k.sym_name.data for k in kernels) or "none"
    raise KernelInputError(f"no tile.kernel @{name} in the module (kernels: {known})")


def interpret_kernel(
    module: ModuleOp,
    name: str,
    inputs: Mapping[str, np.ndarray],
    *,
    mode: Mode = "exact",
    target: Target | None = None,
    hbm_format: HbmFormat = "fp32",
    **scalars: float,
) -> dict[str, np.ndarray]:
    """Run kernel `name` on every point of its grid (in row-major order) and return every
    HBM tensor argument after the kernel, by name.

    `inputs` gives tensors by argument name (a tensor not given starts as zeros, as HBM does);
    `scalars` gives every f32 argument.  `mode` is "exact" (float64, no rounding) or
    "rounded" (the machine's rounding points for `target`, default: the module's
    `plena.target`; `hbm_format` "fp32" or "mxfp8"), see `plena_mlir.numerics.rounding`.
    """
    module.verify()
    kernel = find_kernel(module, name)
    numerics = Numerics(mode, target or target_of(kernel), hbm_format)
    hbm = _tensors(kernel, inputs, numerics)
    arguments = [
        hbm[arg_name] if arg_name in hbm else _scalar(kernel, arg_name, scalars)
        for arg_name in (a.data for a in kernel.arg_names.data)
    ]
    scalar_names = {
        n.data
        for n, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, Float32Type)
    }
    unknown = sorted(set(scalars) - scalar_names)
    if unknown:
        raise KernelInputError(f"@{name} has no scalar argument {', '.join(unknown)}")
    interpreter = Interpreter(module)
    interpreter.register_implementations(TileFunctions(numerics))
    interpreter.register_implementations(LaneFunctions(numerics))
    interpreter.register_implementations(ArithFunctions())
    interpreter.register_implementations(ScfFunctions())
    with np.errstate(all="ignore"):  # inf and NaN are results, as on the machine
        for point in itertools.product(*(range(size) for size in kernel.grid.values())):
            interpreter.run_ssacfg_region(kernel.body, (*point, *arguments), f"@{name}{point}")
    return hbm


def _tensors(
    kernel: KernelOp, inputs: Mapping[str, np.ndarray], numerics: Numerics
) -> dict[str, np.ndarray]:
    """The HBM tensors at the start: the inputs as HBM holds them, zeros for the others."""
    types = {
        name.data: arg.type
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    }
    unknown = sorted(set(inputs) - set(types))
    if unknown:
        raise KernelInputError(
            f"@{kernel.sym_name.data} has no tensor argument {', '.join(unknown)} "
            f"(tensors: {', '.join(types)})"
        )
    return initial_hbm(types, inputs, numerics, "kernel argument")


def initial_hbm(
    types: Mapping[str, TensorType],
    inputs: Mapping[str, np.ndarray],
    numerics: Numerics,
    what: str,
) -> dict[str, np.ndarray]:
    """Each tensor of `types` as HBM holds it at the start: its input read as an HBM input,
    zeros when it has none.  KernelInputError for an input of another shape (`what` names
    the tensors in the message: "kernel argument", "chain argument")."""
    hbm: dict[str, np.ndarray] = {}
    for name, typ in types.items():
        shape = typ.get_shape()
        if name not in inputs:
            hbm[name] = np.zeros(shape, dtype=numerics.dtype)
            continue
        value = np.asarray(inputs[name])
        if value.shape != shape:
            raise KernelInputError(
                f"input '{name}' has shape {value.shape}, the {what} is {typ}"
            )
        hbm[name] = numerics.hbm_input(value)
    return hbm


def _scalar(kernel: KernelOp, name: str, scalars: Mapping[str, float]) -> float:
    if name not in scalars:
        raise KernelInputError(f"@{kernel.sym_name.data} needs the f32 scalar argument '{name}'")
    return float(scalars[name])
