"""`ChainSpec`: a chain of library kernels sharing HBM tensors, and its golden.

A chain is described once, as a `ChainPlan`: its tensor arguments (host-visible inputs and
outputs), its intermediates (HBM tensors the linker places) and its stages in order, each a
`Call` of a library kernel (`plena_mlir.kernels`) at given sizes with every kernel argument
bound to a chain tensor by name, or an f32 argument to a value.  A kernel argument whose
shape differs from its tensor's (same element count) sees the tensor through a `tile.view`:
the same bytes relabelled, as the same-element-count reshape is byte-identical in HBM.

From the plan, `ChainSpec` derives the two things that must agree:

- `build(sizes, target)`: the chain module, written with `ChainBuilder` (the callee kernels and one
  `tile.chain` calling them in order);
- `golden(inputs, sizes, target, hbm_format)`: every tensor each stage writes, composed from
  the kernels' own goldens.  The hand-off rule: a stage's golden output is the value its
  tensor holds in HBM (each kernel golden ends with the HBM store's quantisation), and the
  next stage's golden reads exactly that array, reshaped to its argument's shape like the
  view.  Re-reading it as an HBM input quantises it again, which leaves values an HBM store
  wrote unchanged (they are already MX values with the same block scales), so every
  hand-off is quantised exactly once, as in the chain.

    spec = all_chains()["ssb"]
    sizes = spec.resolve({}, target)
    module = spec.build(sizes, target)
    inputs = spec.make_inputs(sizes, np.random.default_rng(0), target)
    expected = spec.golden(inputs, sizes, target, "mxfp8")   # {tensor name: array}
    for stage in spec.stages(sizes, target): stage.name, stage.kernel, stage.writes
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.dialects.tile import KernelOp, TensorType
from plena_mlir.frontend.chain_builder import ChainBuilder
from plena_mlir.kernels import all_kernels
from plena_mlir.kernels.spec import Inputs, KernelSizeError, Sizes, resolve_sizes
from plena_mlir.linking.kernel_access import tensor_access
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Call:
    """One stage: library kernel `kernel` at `sizes` (overrides of its defaults), each
    argument bound to a chain tensor (its name) or, for an f32 argument, a value."""

    stage: str
    kernel: str
    sizes: Sizes
    args: Mapping[str, str | float]
    target: Target = DEFAULT_TARGET

    @cached_property
    def kernel_sizes(self) -> dict[str, int]:
        return all_kernels()[self.kernel].resolve(self.sizes, self.target)

    @cached_property
    def module(self) -> ModuleOp:
        """The kernel's tile IR at its sizes (a module holding the one tile.kernel)."""
        return all_kernels()[self.kernel].build(self.kernel_sizes, self.target)

    @cached_property
    def kernel_op(self) -> KernelOp:
        return next(op for op in self.module.body.block.ops if isinstance(op, KernelOp))

    @cached_property
    def argument_shapes(self) -> dict[str, Shape]:
        """Shape of each tensor argument of the kernel, by name."""
        kernel = self.kernel_op
        return {
            name.data: tuple(arg.type.get_shape())
            for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
            if isinstance(arg.type, TensorType)
        }

    @property
    def writes(self) -> tuple[str, ...]:
        """The chain tensors the stage writes, in kernel argument order."""
        written = tensor_access(self.kernel_op).writes
        return tuple(str(self.args[a]) for a in self.argument_shapes if a in written)


@dataclass(frozen=True)
class ChainPlan:
    """A chain at given sizes: its tensors and its stages in order."""

    arguments: Mapping[str, Shape]
    """The chain's tensor arguments (inputs and outputs), in argument order."""
    intermediates: Mapping[str, Shape]
    """HBM tensors written and read only inside the chain (placed by the linker)."""
    calls: tuple[Call, ...]

    def shape(self, tensor: str) -> Shape:
        return {**self.arguments, **self.intermediates}[tensor]


@dataclass(frozen=True)
class ChainSpec:
    name: str
    summary: str
    """One line: what the chain computes."""
    sizes: Sizes | Callable[[Target], Sizes]
    """The default sizes, every parameter `plan` takes: fixed, or a function of the target."""
    plan: Callable[..., ChainPlan]
    """`plan(**sizes, target=target)`: the chain's tensors and stages (each call made for the
    target; ValueError for impossible sizes)."""
    make_inputs: Callable[[Sizes, np.random.Generator, Target], dict[str, np.ndarray]]
    """Seeded values of every input tensor argument."""

    def default_sizes(self, target: Target = DEFAULT_TARGET) -> dict[str, int]:
        """The default sizes on `target`."""
        return dict(self.sizes(target) if callable(self.sizes) else self.sizes)

    def resolve(
        self, overrides: Mapping[str, int] | None = None, target: Target = DEFAULT_TARGET
    ) -> dict[str, int]:
        """The default sizes on `target` with `overrides` applied; KernelSizeError for
        unknown names."""
        return resolve_sizes(self.name, self.default_sizes(target), overrides)

    def planned(self, sizes: Sizes, target: Target = DEFAULT_TARGET) -> ChainPlan:
        """The plan at `sizes` on `target` (KernelSizeError when the chain or a kernel cannot
        have them)."""
        try:
            plan = self.plan(**sizes, target=target)
        except ValueError as error:
            raise KernelSizeError(str(error)) from None
        for call in plan.calls:
            try:
                call.argument_shapes  # noqa: B018  (builds the kernel: its size errors now)
            except ValueError as error:
                raise KernelSizeError(f"{self.name}, stage {call.stage}: {error}") from None
        return plan

    def stages(self, sizes: Sizes, target: Target = DEFAULT_TARGET) -> tuple[Call, ...]:
        """The stages in order (`.stage`, `.kernel`, `.writes`, `.module`)."""
        return self.planned(sizes, target).calls

    def build(self, sizes: Sizes, target: Target = DEFAULT_TARGET) -> ModuleOp:
        """The chain module for `target`: the callee kernels and the `tile.chain`
        (ChainBuilder)."""
        plan = self.planned(sizes, target)
        cb = ChainBuilder(self.name, target)
        tensors = {name: cb.tensor(name, shape) for name, shape in plan.arguments.items()}
        tensors |= {name: cb.intermediate(name, shape) for name, shape in
                    plan.intermediates.items()}
        views = {}
        for call in plan.calls:
            bindings = {}
            for arg, bound in call.args.items():
                if isinstance(bound, float):
                    bindings[arg] = bound
                    continue
                shape = call.argument_shapes[arg]
                if shape == plan.shape(bound):
                    bindings[arg] = tensors[bound]
                else:
                    if (bound, shape) not in views:
                        views[bound, shape] = cb.view(tensors[bound], shape)
                    bindings[arg] = views[bound, shape]
            cb.call(call.module, stage=call.stage, **bindings)
        return cb.module

    def golden(
        self, inputs: Inputs, sizes: Sizes, target: Target, hbm_format: HbmFormat
    ) -> dict[str, np.ndarray]:
        """Every tensor a stage writes, by name (intermediates and outputs, in stage order),
        as HBM holds it after the chain: the kernels' goldens composed (module docstring)."""
        plan = self.planned(sizes, target)
        spec_of = all_kernels()
        values: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in inputs.items()}
        written: dict[str, np.ndarray] = {}
        for call in plan.calls:
            read = tensor_access(call.kernel_op).reads
            kernel_inputs: dict[str, np.ndarray | float] = {}
            for arg, bound in call.args.items():
                if isinstance(bound, float):
                    kernel_inputs[arg] = bound
                elif arg in read:
                    kernel_inputs[arg] = values[bound].reshape(call.argument_shapes[arg])
            with np.errstate(all="ignore"):  # inf and NaN are results, as on the machine
                outputs = spec_of[call.kernel].golden(
                    kernel_inputs, call.kernel_sizes, target, hbm_format
                )
            for arg, value in outputs.items():
                tensor = str(call.args[arg])
                values[tensor] = written[tensor] = value.reshape(plan.shape(tensor))
        return written
