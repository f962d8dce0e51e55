"""`silu`: y = x * sigmoid(x) = x / (1 + exp(-x)), element-wise over rows x (heads * head_dim).

Per tile (plena-tvm has V_EXP_V and V_RECI_V, no division and no negation):

    t = x * -1;  t = exp(t);  t = t + 1;  t = 1 / t;  y = t * x
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
    cols = elementwise.columns("silu", rows, heads, head_dim)

    def compute(k, b):
        x = b["x"]
        t = k.alloc(x.type.get_shape(), name="t")
        k.mul_scalar(t, x, -1.0)
        k.exp(t, t)
        t += 1.0
        k.reci(t, t)
        t *= x
        return t

    return elementwise.build("silu", rows, cols, ["x"], [], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: every step in f32 and written to VRAM as bf16."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    x = v["x"]
    t = n.store(VRAM, x * n.fp(-1.0))
    with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0, as on the machine
        t = n.store(VRAM, np.exp(t))
    t = n.store(VRAM, t + n.fp(1.0))
    t = n.store(VRAM, np.reciprocal(t))
    return {"y": n.store("hbm", n.store(VRAM, t * x))}


SPECS = (
    KernelSpec(
        name="silu",
        summary="y = x * sigmoid(x) over rows x (heads * head_dim)",
        sizes=elementwise.SIZES,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x"], [], scale=3.0),
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=({"rows": 64, "heads": 4, "head_dim": 64}, {"rows": 192, "heads": 16}),
    ),
)
