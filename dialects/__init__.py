"""The plena-mlir dialects: `tile` (what a kernel author writes), `lane` (lanes made explicit)
and `plena` (the ISA).

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

    def get_lane() -> Dialect:
        from plena_mlir.dialects.lane import Lane

        return Lane

    return {"plena": get_plena, "tile": get_tile, "lane": get_lane}
