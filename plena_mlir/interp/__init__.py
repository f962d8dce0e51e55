"""The NumPy interpreter of the `tile` dialect: the golden path.

`interpret_kernel(module, "name", inputs, mode="exact" | "rounded", **scalars)` runs a kernel
on every point of its grid and returns its HBM tensors.  "exact" gives the mathematical
result (float64); "rounded" models the machine's rounding points (numerics.py), so the
goldens of compiled kernels come from here.  The op semantics are xDSL interpreter functions
(tile_functions.py), the `lane` ops' in lane_functions.py; `scf` and `arith` use xDSL's own.
"""

from plena_mlir.interp.chain import interpret_chain
from plena_mlir.interp.lane_functions import LaneFunctions
from plena_mlir.interp.run import KernelInputError, find_kernel, interpret_kernel
from plena_mlir.interp.tile_functions import TileFunctions
from plena_mlir.numerics.rounding import Mode, Numerics, hbm_input, hbm_store

__all__ = [
    "KernelInputError",
    "LaneFunctions",
    "Mode",
    "Numerics",
    "TileFunctions",
    "find_kernel",
    "hbm_input",
    "interpret_chain",
    "hbm_store",
    "interpret_kernel",
]
