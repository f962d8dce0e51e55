"""`KernelSpec`: what `plena-run`, the e2e tests and the benchmarks need to know of a kernel.

Each kernel module of `plena_mlir.kernels` exports `SPECS`, a tuple of the specs it defines;
`plena_mlir.kernels.all_kernels()` collects them.  A spec is the kernel's name, its default
sizes on a target (the smallest that exercise its tiling there; on plena-tvm the published
compiler's test sizes), how to build its `tile` IR for given sizes and target, how to make
seeded inputs, and its golden (the machine's rounding points):

    spec = all_kernels()["softmax"]
    sizes = spec.resolve({"cols": 128}, target)       # defaults, overridden and checked
    module = spec.build(sizes, target)                # records target as plena.target
    inputs = spec.make_inputs(sizes, np.random.default_rng(0), target)
    expected = spec.golden(inputs, sizes, target, "mxfp8")    # {output name: array}

`target` defaults to the default target everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

#: A kernel's sizes: parameter name -> value (ints, and bools for flags such as `bias`).
Sizes = Mapping[str, int]
#: Inputs by argument name: arrays for tensors, floats for f32 scalar arguments.
Inputs = Mapping[str, np.ndarray | float]


class KernelSizeError(ValueError):
    """Sizes a kernel does not have or cannot be built with."""


def resolve_sizes(
    name: str, defaults: Sizes, overrides: Mapping[str, int] | None = None
) -> dict[str, int]:
    """`defaults` with `overrides` applied; KernelSizeError naming `name` (a kernel or chain)
    for a size it does not have."""
    overrides = dict(overrides or {})
    if unknown := sorted(set(overrides) - set(defaults)):
        raise KernelSizeError(
            f"{name} has no size {', '.join(unknown)} (sizes: "
            f"{', '.join(f'{k}={v}' for k, v in defaults.items())})"
        )
    return {**defaults, **overrides}


@dataclass(frozen=True)
class KernelSpec:
    name: str
    summary: str
    """One line: what the kernel computes."""
    sizes: Sizes | Callable[[Target], Sizes]
    """The default sizes, every parameter `build` takes: fixed, or a function of the target."""
    build_module: Callable[..., ModuleOp]
    """`build_module(**sizes, target=target)`: the kernel's tile IR for the target (ValueError
    for impossible sizes)."""
    make_inputs: Callable[[Sizes, np.random.Generator, Target], dict[str, np.ndarray | float]]
    """Seeded inputs for the sizes on the target: every input tensor and f32 scalar."""
    golden: Callable[[Inputs, Sizes, Target, HbmFormat], dict[str, np.ndarray]]
    """The expected value of every output tensor, at the machine's rounding points."""
    test_sizes: tuple[Sizes, ...] | Callable[[Target], tuple[Sizes, ...]] = ()
    """Further sizes the e2e tests run besides the defaults (overrides of the defaults):
    fixed, or a function of the target."""

    def default_sizes(self, target: Target = DEFAULT_TARGET) -> dict[str, int]:
        """The default sizes on `target`."""
        return dict(self.sizes(target) if callable(self.sizes) else self.sizes)

    def sizes_to_test(self, target: Target = DEFAULT_TARGET) -> tuple[Sizes, ...]:
        """The further sizes the tests run on `target` (overrides of its defaults)."""
        return tuple(self.test_sizes(target) if callable(self.test_sizes) else self.test_sizes)

    def resolve(
        self, overrides: Mapping[str, int] | None = None, target: Target = DEFAULT_TARGET
    ) -> dict[str, int]:
        """The default sizes on `target` with `overrides` applied; KernelSizeError for
        unknown names."""
        return resolve_sizes(self.name, self.default_sizes(target), overrides)

    def build(self, sizes: Sizes, target: Target = DEFAULT_TARGET) -> ModuleOp:
        """The tile IR for `sizes` on `target` (KernelSizeError when the kernel cannot have
        them)."""
        try:
            return self.build_module(**sizes, target=target)
        except ValueError as error:
            raise KernelSizeError(str(error)) from None
