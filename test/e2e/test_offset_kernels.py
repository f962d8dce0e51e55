"""Head-offset kernels on the simulator: gelu, silu, modulate, residual_gate and copy_offset
write heads o_head_offset.. of a wider output whose other heads hold earlier data.  The heads
written match the golden (every element, `plena_mlir.driver.compare`), and every other element is
bit for bit what HBM held before: a store never clobbers a neighbouring head.  Offsets a
store cannot honour are build errors; a misaligned store that bypasses that check faults in
the simulator instead of writing a wrong result."""

import numpy as np
import pytest

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.kernels import all_kernels, copy_offset
from plena_mlir.kernels.spec import KernelSizeError
from plena_mlir.numerics.rounding import hbm_input
from plena_mlir.pipeline import compile_kernel
from plena_mlir.sim.errors import SimulationError
from plena_mlir.target import DEFAULT_TARGET

OFFSET_KERNELS = [
    "gelu", "silu", "modulate", "residual_gate", *(s.name for s in copy_offset.SPECS)
]


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize(
    "overrides",
    [
        {"o_heads": 16, "o_head_offset": 8},
        {"o_heads": 16, "o_head_offset": 4},
        {"o_heads": 16, "o_head_offset": 0},
        {"rows": 64, "heads": 4, "head_dim": 32, "o_heads": 10, "o_head_offset": 6},
    ],
    ids=lambda o: "-".join(f"{k}{v}" for k, v in o.items()),
)
@pytest.mark.parametrize("name", OFFSET_KERNELS)
def test_heads_land_in_their_slice_and_the_rest_is_untouched(name, overrides, hbm_format):
    spec = all_kernels()[name]
    sizes = spec.resolve(overrides)
    inputs = spec.make_inputs(sizes, np.random.default_rng(sizes["o_head_offset"]), DEFAULT_TARGET)
    compiled = compile_kernel(spec.build(sizes))
    outputs, _ = run_kernel(compiled, inputs, hbm_format)
    golden = spec.golden(inputs, sizes, compiled.target, hbm_format)["y"]
    first = sizes["o_head_offset"] * sizes["head_dim"]
    inside = np.zeros(golden.shape[1], bool)
    inside[first : first + sizes["heads"] * sizes["head_dim"]] = True
    result = compare(outputs["y"][:, inside], golden[:, inside], hbm_format)
    assert result.passed, result.describe()
    before = hbm_input(inputs["y"], hbm_format)
    assert np.array_equal(outputs["y"][:, ~inside], before[:, ~inside])
    assert not np.array_equal(outputs["y"][:, inside], before[:, inside])


@pytest.mark.parametrize("name", OFFSET_KERNELS)
def test_an_offset_a_store_cannot_honour_is_a_size_error(name):
    """Heads 2..9 of a 16-head output start at column 32: not a whole VRAM row of HBM."""
    spec = all_kernels()[name]
    with pytest.raises(KernelSizeError, match="must be a multiple of 64"):
        spec.build(spec.resolve({"o_heads": 16, "o_head_offset": 2}))


def test_a_misaligned_store_faults_rather_than_writing_a_wrong_result():
    """What the kernels' check prevents: the same store written by hand, at column 32."""
    with KernelBuilder("shifted", grid={"block": 1}) as k:
        x, y = k.tensor("x", (64, 64)), k.tensor("y", (64, 128))
        t = k.alloc((64, 64), name="t")
        k.copy(x[0, 0], t)
        k.copy(t, y[0, 32])
    compiled = compile_kernel(k.module)
    x = np.ones((64, 64), np.float32)
    for hbm_format in ("fp32", "mxfp8"):
        with pytest.raises(SimulationError, match="H_STORE_V.*not 64-byte aligned"):
            run_kernel(compiled, {"x": x}, hbm_format)
