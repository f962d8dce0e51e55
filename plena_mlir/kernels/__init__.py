"""The kernel library.

Each module has `build(sizes...) -> ModuleOp` (tile IR, written with
`plena_mlir.frontend.kernel_builder`),
`golden(inputs, ...) -> outputs` (a NumPy model of the machine's rounding points, the same as
`interpret_kernel(..., mode="rounded")`) and `SPECS`, its `KernelSpec`s.  `all_kernels()`
collects the specs of every module of this package by name.
"""

import importlib
import pkgutil

from plena_mlir.kernels.spec import KernelSpec


def all_kernels() -> dict[str, KernelSpec]:
    """Every kernel of the library by name, in name order."""
    specs: dict[str, KernelSpec] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for spec in getattr(module, "SPECS", ()):
            assert spec.name not in specs, f"two kernels named {spec.name}"
            specs[spec.name] = spec
    return dict(sorted(specs.items()))
