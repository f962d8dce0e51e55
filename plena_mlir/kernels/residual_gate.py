"""`residual_gate`: y = x + gate * r, element-wise over rows x (heads * head_dim), with the
gate one value per column (an adaLN gate, broadcast over the rows) and r the branch output:

    t = r * gate;  t = t + x

y may be a head slice of a wider output (`o_heads`, `o_head_offset`: `elementwise.Heads`).
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.kernels import elementwise
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """The tile IR on `target` for `sizes` (`elementwise.SIZE_NAMES`; a size not given takes
    its default there)."""
    shape = elementwise.Heads.given("residual_gate", sizes, target)

    def compute(k, b):
        x, r, gate = b["x"], b["r"], b["gate"]
        r *= gate
        r += x
        return r

    return elementwise.build(shape, ["x", "r"], ["gate"], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 product, bf16 sum."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    y = n.store(VRAM, n.store(VRAM, v["r"] * v["gate"]) + v["x"])
    return elementwise.stored(n, y, inputs, sizes)


SPECS = (
    KernelSpec(
        name="residual_gate",
        summary="y = x + gate * r, gate per column, over rows x (heads * head_dim), into heads "
        "o_head_offset.. of an o_heads-head y",
        sizes=elementwise.default_sizes,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x", "r"], ["gate"]),
        golden=golden,
        test_sizes=elementwise.test_sizes,
    ),
)
