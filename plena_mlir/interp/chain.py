"""`interpret_chain`: run a `tile.chain` call by call in NumPy, the golden of a linked chain.

    values = interpret_chain(module, {"x": x}, mode="rounded", hbm_format="mxfp8", alpha=0.5)
    values["out"], values["h"]      # every chain tensor argument and intermediate after it

The chain's HBM tensors start as the `inputs` (as HBM holds them: `Numerics.hbm_input`) or
zeros.  Each `tile.call`, in order, runs `interpret_kernel` on its callee (alone in a module
carrying the chain module's `plena.target`) with every tensor the call binds, reshaped to
the kernel argument's shape (a `tile.view` relabels its source's bytes), and its f32
arguments (an `arith.constant` the chain binds, or a chain f32 argument from `scalars`).
The tensors the kernel writes go back to the chain's tensors as `interpret_kernel` returns
them: quantised by the kernel's HBM store, so every hand-off is quantised once, as on the
machine.  Which arguments a call reads and writes, and what a view is a view of, come from
`plena_mlir.linking.chain_reading.read_chain` (a DiagnosticException for an intermediate
read before any call writes it).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp, TensorType
from plena_mlir.interp.run import KernelInputError, initial_hbm, interpret_kernel
from plena_mlir.linking.chain_reading import ChainCall, find_chain, kernel_module, read_chain
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.numerics.rounding import Mode, Numerics
from plena_mlir.target import Target


def interpret_chain(
    module: ModuleOp,
    inputs: Mapping[str, np.ndarray],
    *,
    mode: Mode = "exact",
    target: Target | None = None,
    hbm_format: HbmFormat = "fp32",
    **scalars: float,
) -> dict[str, np.ndarray]:
    """Every tensor of the one `tile.chain` of `module` (its tensor arguments in argument
    order, then its intermediates) after running its calls in order (module docstring).

    `inputs` gives chain tensor arguments by name (the others start as zeros); `scalars`
    every chain f32 argument; `mode`, `target` (default: the module's) and `hbm_format` as
    for `interpret_kernel`.  KernelInputError for inputs that do not fit the chain, naming
    the stage for a kernel's."""
    chain = read_chain(find_chain(module))
    numerics = Numerics(mode, target or target_of(module), hbm_format)
    if unknown := sorted(set(inputs) - {t.name for t in chain.arguments}):
        raise KernelInputError(f"@{chain.name} has no tensor argument {', '.join(unknown)} "
                               f"(tensors: {', '.join(t.name for t in chain.arguments)})")
    if unknown := sorted(set(scalars) - set(chain.scalars)):
        raise KernelInputError(f"@{chain.name} has no scalar argument {', '.join(unknown)}")
    if missing := [name for name in chain.scalars if name not in scalars]:
        raise KernelInputError(f"@{chain.name} needs the f32 scalar argument '{missing[0]}'")
    types = {name: tensor.typ for name, tensor in chain.tensors.items()}
    values = initial_hbm(types, inputs, numerics, "chain argument")
    modules: dict[KernelOp, ModuleOp] = {}
    for call in chain.calls:
        if call.kernel not in modules:
            modules[call.kernel] = kernel_module(call.kernel)
        _interpret_call(call, modules[call.kernel], values, scalars, mode, target, hbm_format)
    return values


def _interpret_call(
    call: ChainCall,
    module: ModuleOp,
    values: dict[str, np.ndarray],
    scalars: Mapping[str, float],
    mode: Mode,
    target: Target | None,
    hbm_format: HbmFormat,
) -> None:
    """Run `call`'s kernel on the chain's `values` and store the tensors it writes there."""
    shapes = {
        name.data: arg.type.get_shape()
        for name, arg in zip(call.kernel.arg_names.data, call.kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    }
    tensors = {arg: values[tensor].reshape(shapes[arg]) for arg, tensor in call.tensors.items()}
    arguments = {**call.constants, **{arg: scalars[name] for arg, name in call.scalars.items()}}
    try:
        hbm = interpret_kernel(module, call.kernel.sym_name.data, tensors, mode=mode,
                               target=target, hbm_format=hbm_format, **arguments)
    except KernelInputError as e:
        raise KernelInputError(f"{call.where}: {e}") from None
    for arg in call.access.writes:
        tensor = call.tensors[arg]
        values[tensor] = hbm[arg].reshape(values[tensor].shape)
