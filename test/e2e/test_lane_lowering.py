"""Lane IR through plena-allocate-memory, convert-lane-to-plena, plena-optimize-scalar and
plena-allocate-registers on the simulator, every element compared with the lane interpreter
in rounded mode (fp32 and mxfp8 HBM).

The kernels are hand-written lane IR (what plena-expand-lanes produces): per-head rmsnorm
with a broadcast weight, per-head softmax rows on a row_stack buffer, masked row ops on
col_pack, fp_lane scalar chains, copies between layouts, a head offset into a wider output.
"""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects import get_all_dialects
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp, TensorType
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from plena_mlir.passes.allocate_registers import AllocateRegistersPass
from plena_mlir.passes.convert_lane_to_plena import KERNEL_ATTR_NAME, ConvertLaneToPlenaPass
from plena_mlir.passes.optimize_scalar import OptimizeScalarPass
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser

from plena_mlir.backend.emit import module_instructions
from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_kernel
from plena_mlir.interp import interpret_kernel
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.pipeline import CompiledKernel
from plena_mlir.sim.stats import Stats

FORMATS = ["fp32", "mxfp8"]


def _parse(text: str) -> ModuleOp:
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    ctx.load_dialect(Arith)
    ctx.load_dialect(Scf)
    module = Parser(ctx, text).parse_module()
    module.verify()
    return module


def _compile(module: ModuleOp) -> CompiledKernel:
    """The lane kernel from plena-allocate-memory on (the passes before it produce lane IR)."""
    module = module.clone()
    kernel = next(op for op in module.body.block.ops if isinstance(op, KernelOp))
    tensors = {
        name.data: arg.type.get_shape()
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    }
    for compile_pass in (
        AllocateMemoryPass(),
        ConvertLaneToPlenaPass(),
        OptimizeScalarPass(),
        AllocateRegistersPass(),
    ):
        compile_pass.apply(Context(), module)
        module.verify()
    interface = module.attributes[KERNEL_ATTR_NAME]
    assert isinstance(interface, DictionaryAttr)
    pool = FpramPool.of(module)
    assert pool is not None
    ints = {
        key: {k: v.value.data for k, v in interface.data[key].data.items()}
        for key in ("hbm_addresses", "fpram_arguments")
    }
    return CompiledKernel(
        name=interface.data["name"].data,
        target=target_of(module),
        program=module_instructions(module),
        tensors=tensors,
        hbm_addresses=ints["hbm_addresses"],
        fpram_arguments=ints["fpram_arguments"],
        fpram_preload=list(pool.constants),
        module=module,
    )


def _check(
    text: str,
    inputs: dict[str, np.ndarray],
    outputs: tuple[str, ...],
    hbm_format: str,
    **scalars: float,
) -> tuple[dict[str, np.ndarray], Stats]:
    """Compile and simulate the kernel; every element of each output compared with the lane
    interpreter in rounded mode.  The simulated outputs and statistics."""
    module = _parse(text)
    name = next(op for op in module.body.block.ops if isinstance(op, KernelOp)).sym_name.data
    simulated, stats = run_kernel(_compile(module), {**inputs, **scalars}, hbm_format)
    expected = interpret_kernel(
        module, name, inputs, mode="rounded", hbm_format=hbm_format, **scalars
    )
    for output in outputs:
        assert np.isfinite(expected[output]).all()
        result = compare(simulated[output], expected[output], hbm_format)
        assert result.passed, f"{output}: {result.describe()}"
    return simulated, stats


def _normal(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, scale, shape)).astype(np.float32)


COL = "!lane.buffer<4x64x16xbf16, vram, col_pack>"
MRAM = "!lane.buffer<4x64x16xbf16, mram, col_pack>"
ROW = "!lane.buffer<4x1x16xbf16, vram, col_pack>"
SLABS = "!lane.buffer<4x64x64xbf16, vram, row_stack>"
FP = "!lane.buffer<4x64xf32, fpram, fp_lane>"


# ---------------------------------------------------------------------------------------------
# per-head rmsnorm: y = x / sqrt(mean(x^2) + eps) * w, 128 rows x 8 heads x 16
# ---------------------------------------------------------------------------------------------

RMSNORM = f"""
tile.kernel @rmsnorm grid(%rb = 2, %g = 2) args(%X : !tile.tensor<128x8x16xf32>,
    %W : !tile.tensor<16xf32>,
    %Y : !tile.tensor<128x8x16xf32>,
    %eps : f32) {{
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %inv_d = arith.constant 6.250000e-02 : f32
  %r0 = arith.muli %rb, %c64 : index
  %h0 = arith.muli %g, %c4 : index
  %x = lane.alloc : {COL}
  %sq = lane.alloc : {COL}
  %w = lane.alloc : {ROW}
  %ss = lane.alloc : {FP}
  lane.copy %X[%r0, lanes %h0, 0] to %x : !tile.tensor<128x8x16xf32> to {COL}
  lane.copy %W to %w : !tile.tensor<16xf32> to {ROW}
  lane.mul %sq, %x, %x : {COL}
  lane.for_lanes %l = 4 {{
    lane.row_sum %ss, %sq lane %l : {FP}, {COL}
    lane.fp_mul %ss, %ss, %inv_d lane %l : {FP}, {FP}, f32
    lane.fp_add %ss, %ss, %eps lane %l : {FP}, {FP}, f32
    lane.fp_sqrt %ss, %ss lane %l : {FP}
    lane.fp_reci %ss, %ss lane %l : {FP}
    lane.row_mul %x, %x, %ss lane %l : {COL}, {COL}, {FP}
  }}
  lane.mul %x, %x, %w : {COL}, {COL}, {ROW}
  lane.copy %x to %Y[%r0, lanes %h0, 0] : {COL} to !tile.tensor<128x8x16xf32>
}}
"""


@pytest.mark.parametrize("hbm_format", FORMATS)
def test_rmsnorm_per_head_with_broadcast_weight(hbm_format) -> None:
    x = _normal(1, (128, 8, 16))
    w = _normal(2, (16,)) + 1.0
    y, stats = _check(RMSNORM, {"X": x, "W": w}, ("Y",), hbm_format, eps=1e-6)
    if hbm_format == "fp32":
        golden = x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-6) * w
        assert np.allclose(y["Y"], golden, rtol=2**-5, atol=2**-6)


@pytest.mark.parametrize("hbm_format", FORMATS)
def test_rmsnorm_into_heads_8_to_15_of_16(hbm_format) -> None:
    """The head offset: group g writes heads 8 + 4g .. 8 + 4g + 3 of a 16-head output (a
    dynamic head offset in the DMA), the other heads stay zero."""
    text = (
        RMSNORM.replace("%Y : !tile.tensor<128x8x16xf32>", "%Y : !tile.tensor<128x16x16xf32>")
        .replace(
            "lane.copy %x to %Y[%r0, lanes %h0, 0] : {COL} to !tile.tensor<128x8x16xf32>".replace(
                "{COL}", COL
            ),
            f"lane.copy %x to %Y[%r0, lanes %ho, 0] : {COL} to !tile.tensor<128x16x16xf32>",
        )
        .replace(
            "%h0 = arith.muli %g, %c4 : index",
            "%h0 = arith.muli %g, %c4 : index\n  %c8 = arith.constant 8 : index\n"
            "  %ho = arith.addi %h0, %c8 : index",
        )
    )
    assert "%ho, 0] :" in text
    x = _normal(3, (128, 8, 16))
    w = _normal(4, (16,))
    y, _ = _check(text, {"X": x, "W": w}, ("Y",), hbm_format, eps=1e-6)
    assert (y["Y"][:, :8] == 0).all()
    assert np.abs(y["Y"][:, 8:]).max() > 0.5


# ---------------------------------------------------------------------------------------------
# per-head softmax rows on row_stack slabs, with the multi-lane ops that run slab by slab
# ---------------------------------------------------------------------------------------------

SLAB = "!lane.buffer<4x1x64xbf16, vram, row_stack>"
SOFTMAX = f"""
tile.kernel @softmax grid(%g = 2) args(%S : !tile.tensor<8x64x64xf32>,
    %B : !tile.tensor<8x1x64xf32>,
    %V : !tile.tensor<1x64xf32>,
    %P : !tile.tensor<8x64x64xf32>,
    %scale : f32) {{
  %c4 = arith.constant 4 : index
  %quarter = arith.constant 2.500000e-01 : f32
  %h0 = arith.muli %g, %c4 : index
  %s = lane.alloc : {SLABS}
  %u = lane.alloc : {SLABS}
  %b = lane.alloc : {SLAB}
  %bb = lane.alloc : {SLAB}
  %v = lane.alloc : !lane.buffer<1x64xbf16, vram, flat>
  %vs = lane.alloc : !lane.buffer<64xf32, fpram, flat>
  %m = lane.alloc : {FP}
  %d = lane.alloc : {FP}
  lane.copy %S[lanes %h0, 0, 0] to %s : !tile.tensor<8x64x64xf32> to {SLABS}
  lane.copy %B[lanes %h0, 0, 0] to %b : !tile.tensor<8x1x64xf32> to {SLAB}
  lane.copy %V[0, 0] to %bb : !tile.tensor<1x64xf32> to {SLAB}
  lane.copy %V to %v : !tile.tensor<1x64xf32> to !lane.buffer<1x64xbf16, vram, flat>
  lane.copy %v to %vs : !lane.buffer<1x64xbf16, vram, flat> to !lane.buffer<64xf32, fpram, flat>
  lane.add %s, %s, %b : {SLABS}, {SLABS}, {SLAB}
  lane.sub %s, %s, %bb : {SLABS}, {SLABS}, {SLAB}
  lane.mul_scalar %s, %s, %vs : {SLABS}, {SLABS}, !lane.buffer<64xf32, fpram, flat>
  lane.rsub_scalar %s, %s, %scale : {SLABS}, {SLABS}, f32
  lane.fill %u, %quarter : {SLABS}, f32
  lane.mul %s, %s, %u : {SLABS}
  lane.for_lanes %l = 4 {{
    lane.row_max %m, %s lane %l : {FP}, {SLABS}
    lane.row_sub %s, %s, %m lane %l : {SLABS}, {SLABS}, {FP}
  }}
  lane.exp %s, %s : {SLABS}
  lane.for_lanes %l = 4 {{
    lane.row_sum %d, %s lane %l : {FP}, {SLABS}
    lane.fp_reci %d, %d lane %l : {FP}
    lane.row_mul %u, %s, %d lane %l : {SLABS}, {SLABS}, {FP}
  }}
  lane.copy %u to %P[lanes %h0, 0, 0] : {SLABS} to !tile.tensor<8x64x64xf32>
}}
"""


@pytest.mark.parametrize("hbm_format", FORMATS)
def test_softmax_rows_on_row_stack(hbm_format) -> None:
    s = _normal(5, (8, 64, 64), 2.0)
    b = _normal(6, (8, 1, 64))
    v = _normal(7, (1, 64))
    p, _ = _check(SOFTMAX, {"S": s, "B": b, "V": v}, ("P",), hbm_format, scale=0.5)
    if hbm_format == "fp32":
        assert np.allclose(p["P"].sum(axis=-1), 1.0, atol=2**-4)


# ---------------------------------------------------------------------------------------------
# FPRAM chains per lane, copies between layouts, a one-row col_pack broadcast
# ---------------------------------------------------------------------------------------------

STACK16 = "!lane.buffer<4x16x64xbf16, vram, row_stack>"
FP1024 = "!lane.buffer<4x1024xf32, fpram, fp_lane>"
COL16 = "!lane.buffer<4x16x16xbf16, vram, col_pack>"
FP16 = "!lane.buffer<4x16xf32, fpram, fp_lane>"
CHAINS = f"""
tile.kernel @chains grid(%g = 2) args(%A : !tile.tensor<8x16x64xf32>,
    %B : !tile.tensor<16x8x16xf32>,
    %C : !tile.tensor<8x16x64xf32>,
    %D : !tile.tensor<16x8x16xf32>,
    %floor : f32) {{
  %c4 = arith.constant 4 : index
  %half = arith.constant 5.000000e-01 : f32
  %one = arith.constant 1.000000e+00 : f32
  %h0 = arith.muli %g, %c4 : index
  %a = lane.alloc : {STACK16}
  %fa = lane.alloc : {FP1024}
  %fc = lane.alloc : {FP1024}
  %t = lane.alloc : !lane.buffer<1024xf32, fpram, flat>
  %k = lane.alloc : !lane.buffer<1xf32, fpram, flat>
  %b = lane.alloc : {COL16}
  %b1 = lane.alloc : {ROW}
  %fb = lane.alloc : {FP16}
  lane.copy %A[lanes %h0, 0, 0] to %a : !tile.tensor<8x16x64xf32> to {STACK16}
  lane.copy %a to %fa : {STACK16} to {FP1024}
  lane.fill %t, %half : !lane.buffer<1024xf32, fpram, flat>, f32
  lane.fill %k, %one : !lane.buffer<1xf32, fpram, flat>, f32
  lane.for_lanes %l = 4 {{
    lane.fp_mul %fc, %fa, %t lane %l : {FP1024}, {FP1024}, !lane.buffer<1024xf32, fpram, flat>
    lane.fp_max %fc, %fc, %floor lane %l : {FP1024}, {FP1024}, f32
    lane.fp_sub %fc, %fc, %k lane %l : {FP1024}, {FP1024}, !lane.buffer<1xf32, fpram, flat>
    lane.fp_exp %fc, %fc lane %l : {FP1024}
    lane.fp_add %fc, %fc, %fa lane %l : {FP1024}
  }}
  lane.copy %fc to %a : {FP1024} to {STACK16}
  lane.copy %a to %C[lanes %h0, 0, 0] : {STACK16} to !tile.tensor<8x16x64xf32>
  lane.copy %B[0, lanes %h0, 0] to %b : !tile.tensor<16x8x16xf32> to {COL16}
  lane.copy %B[3, lanes %h0, 0] to %b1 : !tile.tensor<16x8x16xf32> to {ROW}
  lane.copy %b1 to %fb : {ROW} to {FP16}
  lane.for_lanes %l = 4 {{
    lane.fp_mul %fb, %fb, %fb lane %l : {FP16}
    lane.fp_sqrt %fb, %fb lane %l : {FP16}
  }}
  lane.copy %fb to %b1 : {FP16} to {ROW}
  lane.add %b, %b, %b1 : {COL16}, {COL16}, {ROW}
  lane.for_lanes %l = 4 {{
    lane.row_rsub %b, %b, %floor lane %l : {COL16}, {COL16}, f32
    lane.row_add %b, %b, %fb lane %l : {COL16}, {COL16}, {FP16}
  }}
  lane.copy %b to %D[0, lanes %h0, 0] : {COL16} to !tile.tensor<16x8x16xf32>
}}
"""


@pytest.mark.parametrize("hbm_format", FORMATS)
def test_fp_lane_chains_and_layout_copies(hbm_format) -> None:
    a = _normal(8, (8, 16, 64))
    b = _normal(9, (16, 8, 16))
    _check(CHAINS, {"A": a, "B": b}, ("C", "D"), hbm_format, floor=-0.5)


# ---------------------------------------------------------------------------------------------
# Q·Kᵀ of 8 heads: col_pack loads into VRAM and MRAM, lane.btmm, a per-lane store
# ---------------------------------------------------------------------------------------------

SCORES = f"""
tile.kernel @scores grid(%g = 2) args(%Q : !tile.tensor<1x64x8x16xf32>,
    %K : !tile.tensor<1x64x8x16xf32>,
    %S : !tile.tensor<1x8x64x64xf32>) {{
  %c4 = arith.constant 4 : index
  %h0 = arith.muli %g, %c4 : index
  %q = lane.alloc : {COL}
  %k = lane.alloc : {MRAM}
  %s = lane.alloc : {SLABS}
  lane.copy %Q[0, 0, lanes %h0, 0] to %q : !tile.tensor<1x64x8x16xf32> to {COL}
  lane.copy %K[0, 0, lanes %h0, 0] to %k : !tile.tensor<1x64x8x16xf32> to {MRAM}
  lane.btmm %s = %q * %k : {SLABS}, {COL}, {MRAM}
  lane.copy %s to %S[0, lanes %h0, 0, 0] : {SLABS} to !tile.tensor<1x8x64x64xf32>
}}
"""


@pytest.mark.parametrize("hbm_format", FORMATS)
def test_scores_col_pack_dma_into_vram_and_mram(hbm_format) -> None:
    q = _normal(10, (1, 64, 8, 16))
    k = _normal(11, (1, 64, 8, 16))
    s, _ = _check(SCORES, {"Q": q, "K": k}, ("S",), hbm_format)
    if hbm_format == "fp32":
        golden = np.einsum("bqhd,bkhd->bhqk", q, k)
        assert np.allclose(s["S"], golden, rtol=2**-5, atol=2**-4)
