"""s_concat and s_split (plena_mlir/kernels/seq_concat_split.py): the goldens are the exact
concatenation / split of the inputs as the machine holds them, the interpreter agrees, the
compiled program produces them bit for bit moving every row exactly once, and sizes the
machine cannot copy are ValueErrors naming the kernel."""

import numpy as np
import pytest

from plena_mlir.driver.run import run_kernel
from plena_mlir.interp import interpret_kernel
from plena_mlir.kernels import all_kernels
from plena_mlir.kernels.seq_concat_split import KERNELS, Plan, build, golden, make_inputs
from plena_mlir.numerics.formats import round_bf16
from plena_mlir.numerics.rounding import hbm_input
from plena_mlir.pipeline import compile_kernel
from plena_mlir.target import DEFAULT_TARGET

HBM_FORMATS = ("fp32", "mxfp8")
SIZES = [
    {"a_rows": 128, "b_rows": 128, "hd": 128},
    {"a_rows": 64, "b_rows": 192, "hd": 256},
    {"a_rows": 384, "b_rows": 128, "hd": 512},
]


def _held(hbm_format: str):
    """x as HBM holds it and VRAM copies it: MX values are bf16 values, fp32 rounds to bf16."""
    return lambda x: hbm_input(x, hbm_format) if hbm_format == "mxfp8" else round_bf16(x)


def _copied(kernel: str, inputs: dict, a_rows: int, hold=np.asarray) -> dict:
    """The outputs: the inputs, each as `hold` gives it, concatenated or split at a_rows."""
    if kernel == "s_concat":
        return {"y": np.concatenate([hold(inputs["a"]), hold(inputs["b"])])}
    x = hold(inputs["x"])
    return {"a": x[:a_rows], "b": x[a_rows:]}


def _assert_outputs(outputs: dict, expected: dict) -> None:
    assert outputs.keys() >= expected.keys()
    for name, value in expected.items():
        assert outputs[name].shape == value.shape
        np.testing.assert_array_equal(outputs[name], value, err_msg=f"output {name}")


@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("kernel", KERNELS)
def test_golden_is_the_exact_copy_of_the_held_inputs_and_the_interpreter(kernel, sizes):
    inputs = make_inputs(kernel, sizes, np.random.default_rng(sizes["a_rows"]))
    module = build(kernel, **sizes)
    exact = interpret_kernel(module, kernel, inputs)
    _assert_outputs(exact, _copied(kernel, inputs, sizes["a_rows"]))
    for hbm_format in HBM_FORMATS:
        expected = _copied(kernel, inputs, sizes["a_rows"], _held(hbm_format))
        result = golden(kernel, inputs, sizes, DEFAULT_TARGET, hbm_format)
        assert result.keys() == expected.keys()
        _assert_outputs(result, expected)
        rounded = interpret_kernel(module, kernel, inputs, mode="rounded", hbm_format=hbm_format)
        _assert_outputs(rounded, expected)


@pytest.mark.parametrize("hbm_format", HBM_FORMATS)
@pytest.mark.parametrize("kernel", KERNELS)
def test_the_machine_copies_every_row_exactly_once(kernel, hbm_format):
    """Two instances of 3 + 1 tiles (hd 512): bit-exact outputs and the minimum number of
    DMAs, (a_rows + b_rows) * hd / (16 rows * 64 columns) loads and as many stores (an
    instance repeating the whole copy, the published kernel's bug, would double them)."""
    sizes = {"a_rows": 384, "b_rows": 128, "hd": 512}
    assert Plan.of(kernel, **sizes) == Plan(tile_rows=64, instances=2)
    inputs = make_inputs(kernel, sizes, np.random.default_rng(1))
    outputs, stats = run_kernel(compile_kernel(build(kernel, **sizes)), inputs, hbm_format)
    _assert_outputs(outputs, _copied(kernel, inputs, sizes["a_rows"], _held(hbm_format)))
    dmas = (384 + 128) * 512 // (16 * 64)
    assert stats.per_opcode["H_PREFETCH_V"] == stats.per_opcode["H_STORE_V"] == dmas


@pytest.mark.parametrize(
    ("sizes", "plan"),
    [
        ({"a_rows": 128, "b_rows": 128, "hd": 128}, Plan(128, 1)),
        ({"a_rows": 64, "b_rows": 192, "hd": 256}, Plan(64, 1)),
        ({"a_rows": 1024, "b_rows": 1024, "hd": 128}, Plan(256, 4)),
        ({"a_rows": 128, "b_rows": 64, "hd": 1024}, Plan(64, 1)),
    ],
)
def test_the_tile_is_the_largest_common_row_block_that_fits(sizes, plan):
    assert Plan.of("s_concat", **sizes) == plan


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"a_rows": 100}, r"a_rows \(100\) must be a positive multiple of 64 on plena-tvm"),
        ({"b_rows": 0}, r"b_rows \(0\) must be a positive multiple of 64 on plena-tvm"),
        ({"hd": 96}, r"hd \(96\) must be a positive multiple of 64 on plena-tvm \(VLEN"),
    ],
)
def test_sizes_the_machine_cannot_copy_are_rejected(kernel, sizes, message):
    with pytest.raises(ValueError, match=f"^{kernel}: {message}"):
        build(kernel, **{"a_rows": 128, "b_rows": 128, "hd": 128, **sizes})
    spec = all_kernels()[kernel]
    with pytest.raises(ValueError, match=message):
        spec.build(spec.resolve(sizes))


def test_inputs_with_mismatched_hd_are_rejected():
    sizes = {"a_rows": 64, "b_rows": 64, "hd": 64}
    inputs = {"a": np.zeros((64, 64), np.float32), "b": np.zeros((64, 128), np.float32)}
    with pytest.raises(ValueError, match=r"s_concat: input b is \(64, 128\).*need \(64, 64\)"):
        golden("s_concat", inputs, sizes)
    with pytest.raises(ValueError, match=r"s_split: input x is \(64, 64\).*need \(128, 64\)"):
        golden("s_split", {"x": inputs["a"]}, sizes)


def test_an_unknown_kernel_is_rejected():
    with pytest.raises(ValueError, match="unknown kernel 'concat'"):
        build("concat")
