"""`PLENA_UNIVERSE`: the plena-mlir dialects, passes and targets for any xDSL tool.

Registered as the `xdsl.universe` entry point `plena` (pyproject.toml), so plain `xdsl-opt`
(and `xdsl-run`, `xdsl-gui`) can parse `plena` IR, run `plena-*` passes and emit with
`-t plena-asm` / `-t plena-bin`.  Everything is a lazy factory: loading the universe imports
no dialect.
"""

from xdsl.universe import Universe

from plena_mlir.backend import get_all_targets
from plena_mlir.dialects import get_all_dialects
from plena_mlir.passes import get_all_passes

PLENA_UNIVERSE = Universe(
    all_dialects=get_all_dialects(),
    all_passes=get_all_passes(),
    all_targets=get_all_targets(),
)
