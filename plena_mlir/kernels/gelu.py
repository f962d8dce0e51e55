"""`gelu`: the tanh form, element-wise over rows x (heads * head_dim):

    y = 0.5 * x * (1 + tanh(u)),   u = sqrt(2/pi) * (x + 0.044715 * x^3)

There is no tanh instruction; the exact identity 0.5 * (1 + tanh(u)) = sigmoid(2u) gives

    y = x / (1 + exp(-2u)),   -2u = x * (C0 + C1 * x^2),
    C0 = -2 * sqrt(2/pi),  C1 = C0 * 0.044715

computed per tile with the instructions plena-tvm has (C0 and C1 are FPRAM constants, so
fp16), the tail `x / (1 + exp(t))` being `elementwise.sigmoid_times`:

    t = x * x;  t = t * C1;  t = t + C0;  t = t * x;  t = exp(t);  t = t + 1;  t = 1 / t;
    y = t * x

y may be a head slice of a wider output (`o_heads`, `o_head_offset`: `elementwise.Heads`).
"""

import math
from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.kernels import elementwise
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

C0 = -2.0 * math.sqrt(2.0 / math.pi)
C1 = C0 * 0.044715


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """The tile IR on `target` for `sizes` (`elementwise.SIZE_NAMES`; a size not given takes
    its default there)."""
    shape = elementwise.Heads.given("gelu", sizes, target)

    def compute(k, b):
        x = b["x"]
        t = k.alloc(x.type.get_shape(), name="t")
        k.mul(t, x, x)
        t *= C1
        t += C0
        t *= x
        return elementwise.sigmoid_times(k, t, x)

    return elementwise.build(shape, ["x"], [], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
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
    return elementwise.stored(n, elementwise.sigmoid_times_golden(n, t, x), inputs, sizes)


SPECS = (
    KernelSpec(
        name="gelu",
        summary="y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) over rows x "
        "(heads * head_dim), into heads o_head_offset.. of an o_heads-head y",
        sizes=elementwise.default_sizes,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x"], [], scale=3.0),
        golden=golden,
        test_sizes=elementwise.test_sizes,
    ),
)
