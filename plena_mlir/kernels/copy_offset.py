"""`copy_offset`: write x's heads into a head slice of a wider output, optionally through one
element-wise op:

    y[:, o_head_offset*head_dim : (o_head_offset + heads)*head_dim] = f(x)

x is rows x (heads * head_dim), y rows x (o_heads * head_dim); the other columns of y are left
as they were.  The kernels, one per f (the published probe's `compute`):

| kernel                  | f(x)        | per tile                     |
|-------------------------|-------------|------------------------------|
| copy_offset             | x           | none: HBM -> VRAM -> HBM     |
| copy_offset_const_mul   | SCALE * x   | V_MUL_VF (SCALE an FPRAM constant, fp16) |
| copy_offset_exp         | exp(x)      | V_EXP_V                      |
| copy_offset_reci        | 1 / x       | V_RECI_V                     |

The published probe routes its optional op through FPRAM row by row (S_MAP_* and S_*_FP);
here it is one vector op on the tile.  Which head offsets a store can honour:
`elementwise.Heads` (the first column written a multiple of VLEN).
"""

from collections.abc import Mapping

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.kernels import elementwise, row_tiles
from plena_mlir.kernels.elementwise import VRAM
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.numerics.hbm_format import HbmFormat
from plena_mlir.target import DEFAULT_TARGET, Target

SCALE = 0.7  # const_mul's factor (fp16 0.7 = 0.7001953125 on the machine)
COMPUTES = ("copy", "const_mul", "exp", "reci")


def default_sizes(target: Target) -> dict[str, int]:
    """The element-wise defaults (2L heads of HLEN) written to heads 2L .. 4L-1 of a 4L-head
    output (on plena-tvm 8 heads into heads 8..15 of 16)."""
    lanes = target.lanes
    return {**elementwise.default_sizes(target), "o_heads": 4 * lanes, "o_head_offset": 2 * lanes}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Besides the defaults: heads 0 .. of the 4L-head output, the output as wide as x, and L
    heads of 2 HLEN into a 3L-head output from head 3L/2 (the first column 3 VLEN) over three
    row blocks."""
    lanes = target.lanes
    return (
        {"o_head_offset": 0},
        {"o_heads": 2 * lanes, "o_head_offset": 0},
        {"rows": 3 * row_tiles.row_block(target), "heads": lanes, "head_dim": 2 * target.hlen,
         "o_heads": 3 * lanes, "o_head_offset": 3 * lanes // 2},
    )


def build(target: Target = DEFAULT_TARGET, compute: str = "copy", **sizes: int) -> ModuleOp:
    """The tile IR of f = `compute` on `target` for `sizes` (`elementwise.SIZE_NAMES`; a
    size not given takes its default there, `default_sizes`)."""
    if compute not in COMPUTES:
        raise ValueError(f"copy_offset: compute '{compute}' is not one of {', '.join(COMPUTES)}")
    name = "copy_offset" if compute == "copy" else f"copy_offset_{compute}"
    shape = elementwise.Heads.given(name, sizes, target, default_sizes(target))

    def apply(k, b):
        x = b["x"]
        if compute == "const_mul":
            x *= SCALE
        elif compute == "exp":
            k.exp(x, x)
        elif compute == "reci":
            k.reci(x, x)
        return x

    return elementwise.build(shape, ["x"], [], apply)


def golden(
    inputs: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
    compute: str = "copy",
    target: Target = DEFAULT_TARGET,
    hbm_format: HbmFormat = "fp32",
) -> dict[str, np.ndarray]:
    """The machine's result: x as VRAM holds it (bf16), f computed in f32 (SCALE in fp16) and
    written back as bf16, stored into y's head slice."""
    n, v = elementwise.loaded(inputs, target, hbm_format)
    x = v["x"]
    with np.errstate(over="ignore", divide="ignore"):  # inf results, as on the machine
        f = {
            "copy": lambda: x,
            "const_mul": lambda: n.store(VRAM, x * n.fp(SCALE)),
            "exp": lambda: n.store(VRAM, np.exp(x)),
            "reci": lambda: n.store(VRAM, np.reciprocal(x)),
        }[compute]()
    return elementwise.stored(n, f, inputs, sizes)


def _spec(compute: str, summary: str) -> KernelSpec:
    return KernelSpec(
        name="copy_offset" if compute == "copy" else f"copy_offset_{compute}",
        summary=f"y[:, heads o_head_offset..] = {summary} (x rows x heads x head_dim, y "
        "o_heads wide)",
        sizes=default_sizes,
        build_module=lambda **sizes: build(compute=compute, **sizes),
        make_inputs=elementwise.make_inputs(["x"], []),
        golden=lambda inputs, sizes, target, fmt: golden(inputs, sizes, compute, target, fmt),
        test_sizes=test_sizes,
    )


SPECS = (
    _spec("copy", "x"),
    _spec("const_mul", f"{SCALE} * x"),
    _spec("exp", "exp(x)"),
    _spec("reci", "1 / x"),
)
