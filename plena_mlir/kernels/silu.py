"""`silu`: y = x * sigmoid(x) = x / (1 + exp(-x)), element-wise over rows x (heads * head_dim).

Per tile (plena-tvm has V_EXP_V and V_RECI_V, no division and no negation), the tail
`x / (1 + exp(t))` being `elementwise.sigmoid_times`:

    t = x * -1;  t = exp(t);  t = t + 1;  t = 1 / t;  y = t * x

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
    shape = elementwise.Heads.given("silu", sizes, target)

    def compute(k, b):
        x = b["x"]
        t = k.alloc(x.type.get_shape(), name="t")
        k.mul_scalar(t, x, -1.0)
        return elementwise.sigmoid_times(k, t, x)

    return elementwise.build(shape, ["x"], [], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: every step in f32 and written to VRAM as bf16."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    x = v["x"]
    t = n.store(VRAM, x * n.fp(-1.0))
    return elementwise.stored(n, elementwise.sigmoid_times_golden(n, t, x), inputs, sizes)


SPECS = (
    KernelSpec(
        name="silu",
        summary="y = x * sigmoid(x) over rows x (heads * head_dim), into heads "
        "o_head_offset.. of an o_heads-head y",
        sizes=elementwise.default_sizes,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x"], [], scale=3.0),
        golden=golden,
        test_sizes=elementwise.test_sizes,
    ),
)
