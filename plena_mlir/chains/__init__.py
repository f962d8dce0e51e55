"""Chains of library kernels sharing HBM tensors (issue 5): the SingleStreamBlock, ...

Each module has `SPECS`, its `ChainSpec`s (`plena_mlir.chains.spec`); `all_chains()` collects
them by name.  A chain's module is linked into one program by `link_chain`
(`plena_mlir.pipeline`) and run by `run_chain` (`plena_mlir.driver.run`).
"""

import importlib
import pkgutil

from plena_mlir.chains.spec import ChainSpec


def all_chains() -> dict[str, ChainSpec]:
    """Every chain by name, in name order."""
    specs: dict[str, ChainSpec] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for spec in getattr(module, "SPECS", ()):
            assert spec.name not in specs, f"two chains named {spec.name}"
            specs[spec.name] = spec
    return dict(sorted(specs.items()))
