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


def build(
    rows: int = 128, heads: int = 8, head_dim: int = 16, o_heads: int = 8, o_head_offset: int = 0,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    shape = elementwise.Heads("residual_gate", rows, heads, head_dim, o_heads, o_head_offset)

    def compute(k, b):
        x, r, gate = b["x"], b["r"], b["gate"]
        r *= gate
        r += x
        return r

    return elementwise.build(shape, ["x", "r"], ["gate"], compute, target)


def golden(
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int] = elementwise.SIZES,
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
        sizes=elementwise.SIZES,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x", "r"], ["gate"]),
        golden=golden,
        test_sizes=elementwise.TEST_SIZES,
    ),
)
