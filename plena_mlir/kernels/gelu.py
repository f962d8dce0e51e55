"""`gelu`: the tanh form, element-wise over rows x (heads * head_dim):

    y = 0.5 * x * (1 + tanh(u)),   u = sqrt(2/pi) * (x + 0.044715 * x^3)

There is no tanh instruction; the exact identity 0.5 * (1 + tanh(u)) = sigmoid(2u) gives

    y = x / (1 + exp(-2u)),   -2u = x * (C0 + C1 * x^2),
    C0 = -2 * sqrt(2/pi),  C1 = C0 * 0.044715

computed per tile with the instructions plena-tvm has (C0 and C1 are FPRAM constants, so
fp16):

    t = x * x;  t = t * C1;  t = t + C0;  t = t * x;  t = exp(t);  t = t + 1;  t = 1 / t;
    y = t * x
"""

import math
from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.kernels import elementwise
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.sim.hbm import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

C0 = -2.0 * math.sqrt(2.0 / math.pi)
C1 = C0 * 0.044715


def build(rows: int = 128, heads: int = 8, head_dim: int = 16) -> ModuleOp:
    cols = elementwise.columns("gelu", rows, heads, head_dim)

    def compute(k, b):
        x = b["x"]
        t = k.alloc(x.type.get_shape(), name="t")
        k.mul(t, x, x)
        t *= C1
        t += C0
        t *= x
        k.exp(t, t)
        t += 1.0
        k.reci(t, t)
        t *= x
        return t

    return elementwise.build("gelu", rows, cols, ["x"], [], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: fp16 constants C0, C1 and 1, every step in f32 and written to
    VRAM as bf16."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    x = v["x"]
    t = n.store(VRAM, x * x)
    t = n.store(VRAM, t * n.fp(C1))
    t = n.store(VRAM, t + n.fp(C0))
    t = n.store(VRAM, t * x)
    with np.errstate(over="ignore"):  # exp(-2u) overflows to inf for x << 0, as on the machine
        t = n.store(VRAM, np.exp(t))
    t = n.store(VRAM, t + n.fp(1.0))
    t = n.store(VRAM, np.reciprocal(t))
    return {"y": n.store("hbm", n.store(VRAM, t * x))}


SPECS = (
    KernelSpec(
        name="gelu",
        summary="y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) over rows x "
        "(heads * head_dim)",
        sizes=elementwise.SIZES,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x"], [], scale=3.0),
        golden=lambda inputs, sizes, target, hbm_format: golden(inputs, target, hbm_format),
        test_sizes=({"rows": 64, "heads": 4, "head_dim": 64}, {"rows": 192, "heads": 16}),
    ),
)
