"""`modulate`: adaLN modulation y = (1 + scale) * x + shift, element-wise over rows x
(heads * head_dim), with `scale` and `shift` one value per column (broadcast over the rows).

The published kernel takes `scale + 1` from the host; this one takes `scale` and adds the 1
on chip, once per instance on the one-row scale vector:

    s = scale + 1;  t = x * s;  t = t + shift

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
    shape = elementwise.Heads.given("modulate", sizes, target)

    def compute(k, b):
        x, scale, shift = b["x"], b["scale"], b["shift"]
        scale += 1.0
        x *= scale
        x += shift
        return x

    return elementwise.build(shape, ["x"], ["scale", "shift"], compute)


def golden(
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: bf16 1 + scale, bf16 product, bf16 sum."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    scale = n.store(VRAM, v["scale"] + n.fp(1.0))
    y = n.store(VRAM, n.store(VRAM, v["x"] * scale) + v["shift"])
    return elementwise.stored(n, y, inputs, sizes)


SPECS = (
    KernelSpec(
        name="modulate",
        summary="y = (1 + scale) * x + shift, scale and shift per column, over rows x "
        "(heads * head_dim), into heads o_head_offset.. of an o_heads-head y",
        sizes=elementwise.default_sizes,
        build_module=build,
        make_inputs=elementwise.make_inputs(["x"], ["scale", "shift"]),
        golden=golden,
        test_sizes=elementwise.test_sizes,
    ),
)
