"""The plena-mlir passes.  `get_all_passes()` maps pass names to lazy factories."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    def get_allocate_registers() -> type[ModulePass]:
        from plena_mlir.passes.allocate_registers import AllocateRegistersPass

        return AllocateRegistersPass

    return {"plena-allocate-registers": get_allocate_registers}
