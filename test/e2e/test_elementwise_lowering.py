"""The on-chip copies and VRAM fills of convert-lane-to-plena, run on the simulator and
compared with the tile interpreter's rounded mode (the meaning of the ops) element by
element: VRAM -> VRAM copies with column offsets, VRAM <-> FPRAM (S_MAP_*), FPRAM -> FPRAM,
and tile.fill of a VRAM buffer that holds inf and NaN."""

import numpy as np
import pytest
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.interp import interpret_kernel
from plena_mlir.pipeline import compile_kernel


def _check(module, name, inputs, hbm_format):
    compiled = compile_kernel(module)
    outputs, _ = run_kernel(compiled, inputs, hbm_format)
    expected = interpret_kernel(module, name, inputs, mode="rounded", hbm_format=hbm_format)
    for output in ("y",):
        result = compare(outputs[output], expected[output], hbm_format)
        assert result.passed, result.describe()
    return outputs


def _swap_halves():
    """y = [x[:, 64:] | x[:, :64]] through VRAM -> VRAM copies with column offsets, then the
    right half of the result scaled by 2 through a second buffer."""
    with KernelBuilder("swap", grid={"block": 2}) as k:
        x, y = k.tensor("x", (128, 128)), k.tensor("y", (128, 128))
        row0 = k.axis("block") * 64
        t, u = k.alloc((64, 128), name="t"), k.alloc((64, 128), name="u")
        k.copy(x[row0, 0], t)
        k.copy(t[0, 64], u[0, 0], src_sizes=(64, 64))
        k.copy(t[0, 0], u[0, 64], src_sizes=(64, 64))
        k.copy(u, y[row0, 0])
    return k.module


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_vram_to_vram_copies_with_column_offsets(hbm_format) -> None:
    x = np.random.default_rng(1).normal(0, 1, (128, 128)).astype(np.float32)
    y = _check(_swap_halves(), "swap", {"x": x}, hbm_format)["y"]
    if hbm_format == "fp32":
        assert np.allclose(y[:, :64], x[:, 64:], rtol=2**-8)
        assert np.allclose(y[:, 64:], x[:, :64], rtol=2**-8)


def _through_fpram():
    """Each row of x into FPRAM (S_MAP_FP_V), times 3 per entry, copied within FPRAM, back
    into a VRAM row (S_MAP_V_FP) at a dynamic row offset, plus x."""
    with KernelBuilder("through_fpram") as k:
        x, y = k.tensor("x", (64, 128)), k.tensor("y", (64, 128))
        t, u = k.alloc((64, 128), name="t"), k.alloc((64, 128), name="u")
        row, copy = k.alloc((128,), "fpram", name="row"), k.alloc((128,), "fpram", name="copy")
        k.copy(x[0, 0], t)
        for r in k.range(0, 64, 1, name="r"):
            k.copy(t[r, 0], row, src_sizes=(1, 128))
            row *= 3.0
            k.copy(row, copy)
            k.copy(copy, u[r, 0], dst_sizes=(1, 128))
        u += t
        k.copy(u, y[0, 0])
    return k.module


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_vram_fpram_round_trip(hbm_format) -> None:
    x = np.random.default_rng(2).normal(0, 1, (64, 128)).astype(np.float32)
    y = _check(_through_fpram(), "through_fpram", {"x": x}, hbm_format)["y"]
    if hbm_format == "fp32":
        assert np.allclose(y, 4 * x, rtol=2**-6, atol=1e-3)


def _fill_over_garbage():
    """t = exp(1000 * x) (inf and, times -inf, NaN), then t = 0.75 filled, y = t + x."""
    with KernelBuilder("fill") as k:
        x, y = k.tensor("x", (64, 192)), k.tensor("y", (64, 192))
        t, s = k.alloc((64, 192), name="t"), k.alloc((64, 192), name="s")
        k.copy(x[0, 0], s)
        k.mul_scalar(t, s, 1000.0)
        k.exp(t, t)
        k.mul(t, t, s)
        k.fill(t, 0.75)
        t += s
        k.copy(t, y[0, 0])
    return k.module


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_vram_fill_overwrites_inf_and_nan(hbm_format) -> None:
    x = np.random.default_rng(3).normal(0, 1, (64, 192)).astype(np.float32)
    y = _check(_fill_over_garbage(), "fill", {"x": x}, hbm_format)["y"]
    assert np.isfinite(y).all()
    if hbm_format == "fp32":
        assert np.allclose(y, x + 0.75, rtol=2**-7, atol=2**-7)


def test_vram_fill_of_a_one_row_buffer() -> None:
    with KernelBuilder("fill_row") as k:
        x, y = k.tensor("x", (16, 64)), k.tensor("y", (16, 64))
        t, row = k.alloc((16, 64), name="t"), k.alloc((1, 64), name="row")
        k.copy(x[0, 0], t)
        k.fill(row, -2.0)
        t += row
        k.copy(t, y[0, 0])
    x = np.random.default_rng(4).normal(0, 1, (16, 64)).astype(np.float32)
    y = _check(k.module, "fill_row", {"x": x}, "fp32")["y"]
    assert np.allclose(y, x - 2.0, rtol=2**-7, atol=2**-6)


def test_fpram_destination_of_a_partial_row_is_a_diagnostic() -> None:
    with KernelBuilder("partial") as k:
        x = k.tensor("x", (16, 64))
        t, m = k.alloc((16, 64), name="t"), k.alloc((16,), "fpram", name="m")
        k.copy(x[0, 0], t)
        k.copy(t[0, 0], m, src_sizes=(1, 16))
    with pytest.raises(DiagnosticException, match="tile.copy: VRAM -> FPRAM moves whole rows"):
        compile_kernel(k.module)


def test_vram_destination_narrower_than_a_row_inside_the_buffer_is_a_diagnostic() -> None:
    with KernelBuilder("narrow") as k:
        x = k.tensor("x", (16, 128))
        t, u = k.alloc((16, 128), name="t"), k.alloc((16, 128), name="u")
        k.copy(x[0, 0], t)
        k.copy(t[0, 0], u[0, 0], src_sizes=(16, 16))
    with pytest.raises(DiagnosticException, match="must end at the buffer's last column"):
        compile_kernel(k.module)


def test_column_offset_inside_a_vram_row_is_a_diagnostic() -> None:
    with KernelBuilder("shift") as k:
        x = k.tensor("x", (16, 128))
        t, u = k.alloc((16, 128), name="t"), k.alloc((16, 64), name="u")
        k.copy(x[0, 0], t)
        k.copy(t[0, 16], u, src_sizes=(16, 64))
    with pytest.raises(DiagnosticException, match="static multiple of VLEN"):
        compile_kernel(k.module)
