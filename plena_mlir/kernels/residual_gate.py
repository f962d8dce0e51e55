"""`residual_gate`: y = x + gate * r, element-wise over rows x (heads * head_dim), with the
gate one value per column (an adaLN gate, broadcast over the rows) and r the branch output:

    t = r * gate;  t = t + x
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.kernels import elementwise
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target


def build(rows: int = 128, heads: int = 8, head_dim: int = 16) -> ModuleOp:
    cols = elementwise.columns("residual_gate", rows, heads, head_dim)

    def compute(k, b):
        x, r, gate = b["x"], b["r"], b["gate"]
        r *= gate
        r += x
        return r

    return elementwise.build("residual_gate", rows, cols, ["x", "r"], ["gate"], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 product, bf16 sum."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    y = n.store(VRAM, n.store(VRAM, v["r"] * v["gate"]) + v["x"])
    return {"y": n.store("hbm", y)}


SPECS = (
    KernelSpec(
        name="residual_gate",
        summary="y = x + gate * r, gate per column, over rows x (heads * head_dim)",
        sizes=elementwise.SIZES,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x", "r"], ["gate"]),
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=({"rows": 64, "heads": 4, "head_dim": 64}, {"rows": 192, "heads": 16}),
    ),
)
