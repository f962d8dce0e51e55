"""The plena-mlir dialects: `plena` (the ISA), and later `tile` and `lane`.

`get_all_dialects()` maps dialect names to lazy factories, the xDSL convention that keeps
tool start-up fast.
"""

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    def get_plena() -> Dialect:
        from plena_mlir.dialects.plena import Plena

        return Plena

    def get_tile() -> Dialect:
        from plena_mlir.dialects.tile import Tile

        return Tile

    return {"plena": get_plena, "tile": get_tile}
