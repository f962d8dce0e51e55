"""plena-expand-lanes (identity form), plena-assign-layout and the plena-compile pipeline:
the recorded layouts stand for the same address math as `plena_mlir.ir.addresses`, they can be read
back, and the pipeline has the design's order."""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import AllocOp, KernelOp, TensorType
from plena_mlir.dialects.tile.layout_attrs import (
    BshdLayoutAttr,
    RowMajorLayoutAttr,
    TiledLayoutAttr,
)
from plena_mlir.passes import get_all_passes
from plena_mlir.passes.assign_layout import AssignLayoutPass
from plena_mlir.passes.expand_lanes import ExpandLanesPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.layout_choice import (
    BUFFER_LAYOUT_ATTR,
    assigned_buffer_layout,
    assigned_tensor_layouts,
)
from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.ir.addresses import buffer_layout
from plena_mlir.kernels import all_kernels, rmsnorm, softmax
from plena_mlir.pipeline import COMPILE_PIPELINE, compile_kernel, expand_compile


def assign(module: ModuleOp) -> ModuleOp:
    for layout_pass in (InferMemoryPass(), ExpandLanesPass(), AssignLayoutPass()):
        layout_pass.apply(Context(), module)
    return module


def allocs(module: ModuleOp) -> list[AllocOp]:
    return [op for op in module.walk() if isinstance(op, AllocOp)]


def kernel_of(module: ModuleOp) -> KernelOp:
    return next(op for op in module.walk() if isinstance(op, KernelOp))


@pytest.mark.parametrize("name", sorted(all_kernels()))
def test_every_library_kernel_reads_back_the_layout_its_buffers_have(name: str) -> None:
    spec = all_kernels()[name]
    module = assign(spec.build(spec.resolve()))
    target = target_of(module)
    for alloc in allocs(module):
        layout = assigned_buffer_layout(alloc.result, target)
        assert layout == buffer_layout(alloc.result.type, target)
    kernel = kernel_of(module)
    assert set(assigned_tensor_layouts(kernel)) == {
        name.data
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    }


def test_the_tiled_attribute_is_the_column_block_layout_element_by_element() -> None:
    module = assign(softmax.build(128, 192))
    (s, *_) = allocs(module)
    attr = s.attributes[BUFFER_LAYOUT_ATTR]
    assert attr == TiledLayoutAttr(3, 64, 64)
    layout = assigned_buffer_layout(s.result, target_of(module))
    blocks, rows, width = (attr.value(f) for f in ("blocks", "rows", "width"))
    offsets = {(i, j): layout.offset(i, j) for i in range(64) for j in range(192)}
    for (i, j), offset in offsets.items():
        assert offset == (j // width) * rows * width + i * width + j % width
    assert sorted(offsets.values()) == list(range(blocks * rows * width))


def test_reading_a_layout_before_the_pass_or_a_wrong_one_is_a_diagnostic() -> None:
    module = softmax.build(64, 64)
    InferMemoryPass().apply(Context(), module)
    s = allocs(module)[0]
    target = target_of(module)
    with pytest.raises(DiagnosticException, match="has no layout: run plena-assign-layout"):
        assigned_buffer_layout(s.result, target)
    AssignLayoutPass().apply(Context(), module)
    s.attributes[BUFFER_LAYOUT_ATTR] = TiledLayoutAttr(2, 64, 64)
    with pytest.raises(DiagnosticException, match=r"is not one it can have on plena-tvm"):
        assigned_buffer_layout(s.result, target)


def test_per_head_slices_of_a_lane_kernel_make_its_tensors_bshd() -> None:
    module = rmsnorm.build(64, 128, head_dim=16)
    for compile_pass in (InferMemoryPass(), ExpandLanesPass(), AssignLayoutPass()):
        compile_pass.apply(Context(), module)
    assert assigned_tensor_layouts(kernel_of(module)) == {
        "x": BshdLayoutAttr(8, 16),
        "w": RowMajorLayoutAttr(),
        "y": BshdLayoutAttr(8, 16),
    }


def test_the_pipeline_has_the_design_order_and_plena_opt_expands_it() -> None:
    assert COMPILE_PIPELINE.split(",") == [
        "plena-infer-memory",
        "plena-expand-lanes",
        "plena-assign-layout",
        "plena-select-gemm",
        "plena-allocate-memory",
        "convert-lane-to-plena",
        "plena-optimize-scalar",
        "plena-allocate-registers",
    ]
    assert all(name in get_all_passes() for name in COMPILE_PIPELINE.split(","))
    assert expand_compile("plena-compile") == COMPILE_PIPELINE
    assert expand_compile("canonicalize,plena-compile") == f"canonicalize,{COMPILE_PIPELINE}"
    options = "plena-allocate-memory{vram-base=4096}"
    assert expand_compile(options) == options
    with pytest.raises(DiagnosticException, match="plena-compile takes no options"):
        expand_compile("plena-compile{x=1}")


# ---------------------------------------------------------------------------------------------
# plena-expand-lanes
# ---------------------------------------------------------------------------------------------


def test_a_kernel_without_a_lane_axis_is_unchanged() -> None:
    module = softmax.build(128, 64)
    InferMemoryPass().apply(Context(), module)
    before = str(module)
    ExpandLanesPass().apply(Context(), module)
    assert str(module) == before


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_heads_of_mlen_columns_run_as_grid_instances_and_match_the_golden(
    hbm_format: str,
) -> None:
    module = rmsnorm.build(128, 256, head_dim=64)
    assert kernel_of(module).lane == "head"
    rng = np.random.default_rng(7)
    inputs = {
        "x": rng.normal(0.0, 2.0, rmsnorm.tensor_shape(128, 256, 64)).astype(np.float32),
        "w": rng.normal(1.0, 0.5, 64).astype(np.float32),
    }
    compiled = compile_kernel(module)
    outputs, _ = run_kernel(compiled, {**inputs, "eps": 1e-6}, hbm_format)
    golden = rmsnorm.golden(inputs, 1e-6, 64, hbm_format=hbm_format)
    result = compare(outputs["y"], golden["y"], hbm_format)
    assert result.passed, result.describe()


def test_narrow_heads_of_a_2d_tensor_ask_for_a_head_dimension() -> None:
    with KernelBuilder("scale_heads", grid={"head": 8}, lane="head") as k:
        x, y = k.tensor("x", (64, 128)), k.tensor("y", (64, 128))
        t = k.alloc((64, 16), name="t")
        k.copy(x[0, k.axis("head") * 16], t)
        t *= 2.0
        k.copy(t, y[0, k.axis("head") * 16])
    with pytest.raises(
        DiagnosticException,
        match=r"^plena-expand-lanes: tile\.copy #1 of @scale_heads: the head index %head is "
        r"used in dimension 1 of the HBM src \(64x128\), which is not a head dimension: "
        r"declare the tensor with a head dimension",
    ):
        compile_kernel(k.module)
