"""plena-expand-lanes on narrow heads: the expanded kernel means the same as the original.

For each kernel (one head per program instance, heads of HLEN = 16 columns, 8 heads = two
groups of L = 4 lanes), the `tile` interpreter on the original and the lane interpreter on the
expanded kernel give bit-identical outputs in rounded mode, with fp32 and mxfp8 HBM; and the
structure is what the lane dialect needs: no tile op left, every per-lane op inside one lane
loop, no multi-lane op inside one.
"""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects import lane, tile
from plena_mlir.dialects.lane import ForLanesOp, MultiLane, PerLane
from plena_mlir.dialects.plena import Plena, target_of
from plena_mlir.dialects.tile.layout_attrs import BshdLayoutAttr
from plena_mlir.passes.assign_layout import AssignLayoutPass
from plena_mlir.passes.expand_lanes import ExpandLanesPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.layout_choice import assigned_buffer_layout, assigned_tensor_layouts
from plena_mlir.interp import interpret_kernel
from plena_mlir.ir.addresses import buffer_layout
from plena_mlir.kernels import all_kernels
from plena_mlir.lanes.heads import head_copies
from plena_mlir.lanes.packing import assign_lane_layouts
from plena_mlir.target import DEFAULT_TARGET

Q8 = "!tile.tensor<1x128x8x16xf32>"
COL = "!tile.buffer<64x16xbf16, vram>"
MCOL = "!tile.buffer<64x16xbf16, mram>"
SCORES = "!tile.buffer<64x64xbf16, vram>"
FP = "!tile.buffer<64xf32, fpram>"
HEAD = "sizes [1, 64, 1, 16]"


def _kernel(name: str, args: str, body: str, grid: str = "%qb = 2, %head = 8 lane") -> str:
    return f"tile.kernel @{name} grid({grid}) args({args}) {{\n{body}\n}}"


RMSNORM = _kernel(
    "rmsnorm",
    "%x : !tile.tensor<128x8x16xf32>, %y : !tile.tensor<128x8x16xf32>, %inv_n : f32",
    f"""
  %c64 = arith.constant 64 : index
  %row0 = arith.muli %qb, %c64 : index
  %t = tile.alloc : {COL}
  %sq = tile.alloc : {COL}
  %out = tile.alloc : {COL}
  %inv = tile.alloc : {FP}
  tile.copy %x[%row0, %head, 0] sizes [64, 1, 16] to %t : !tile.tensor<128x8x16xf32> to {COL}
  tile.mul %sq, %t, %t : {COL}
  tile.reduce_sum %inv, %sq : {FP}, {COL}
  tile.fp_mul %inv, %inv, %inv_n : {FP}, {FP}, f32
  tile.fp_sqrt %inv, %inv : {FP}
  tile.fp_reci %inv, %inv : {FP}
  tile.mul_scalar %out, %t, %inv : {COL}, {COL}, {FP}
  tile.copy %out to %y[%row0, %head, 0] sizes [64, 1, 16] : {COL} to !tile.tensor<128x8x16xf32>""",
)

# Q·Kᵀ (lane.btmm), a row_stack softmax, P·V (per-lane lane.gemm), the output written at a
# head offset into a wider tensor.
ATTENTION = _kernel(
    "attention",
    f"%Q : {Q8}, %K : {Q8}, %V : {Q8}, %O : !tile.tensor<1x128x16x16xf32>, %scale : f32",
    f"""
  %c64 = arith.constant 64 : index
  %c8 = arith.constant 8 : index
  %row0 = arith.muli %qb, %c64 : index
  %oh = arith.addi %head, %c8 : index
  %q = tile.alloc : {COL}
  %k = tile.alloc : {MCOL}
  %v = tile.alloc : {MCOL}
  %s = tile.alloc : {SCORES}
  %o = tile.alloc : {COL}
  %m = tile.alloc : {FP}
  %l = tile.alloc : {FP}
  tile.copy %Q[0, %row0, %head, 0] {HEAD} to %q : {Q8} to {COL}
  tile.copy %K[0, %row0, %head, 0] {HEAD} to %k : {Q8} to {MCOL}
  tile.copy %V[0, %row0, %head, 0] {HEAD} to %v : {Q8} to {MCOL}
  tile.gemm %s[m, n] = %q[m, k] * %k[n, k] : {SCORES}, {COL}, {MCOL}
  tile.mul_scalar %s, %s, %scale : {SCORES}, {SCORES}, f32
  tile.reduce_max %m, %s : {FP}, {SCORES}
  tile.sub_scalar %s, %s, %m : {SCORES}, {SCORES}, {FP}
  tile.exp %s, %s : {SCORES}
  tile.reduce_sum %l, %s : {FP}, {SCORES}
  tile.fp_reci %l, %l : {FP}
  tile.gemm %o[m, n] = %s[m, k] * %v[k, n] : {COL}, {SCORES}, {MCOL}
  tile.mul_scalar %o, %o, %l : {COL}, {COL}, {FP}
  tile.copy %o to %O[0, %row0, %oh, 0] {HEAD} : {COL} to !tile.tensor<1x128x16x16xf32>""",
)

# Online softmax over two KV blocks in an scf.for (a mixed body: its own lane loops), a
# whole-tile add between per-lane runs, and a loop holding only per-lane ops.
FLASH = _kernel(
    "flash",
    f"%Q : {Q8}, %K : {Q8}, %V : {Q8}, %O : {Q8}, %scale : f32",
    f"""
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %neg_inf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %row0 = arith.muli %qb, %c64 : index
  %q = tile.alloc : {COL}
  %k = tile.alloc : {MCOL}
  %v = tile.alloc : {MCOL}
  %s = tile.alloc : {SCORES}
  %pv = tile.alloc : {COL}
  %o = tile.alloc : {COL}
  %m_old = tile.alloc : {FP}
  %m_new = tile.alloc : {FP}
  %alpha = tile.alloc : {FP}
  %rs = tile.alloc : {FP}
  %l = tile.alloc : {FP}
  tile.copy %Q[0, %row0, %head, 0] {HEAD} to %q : {Q8} to {COL}
  tile.fill %m_old, %neg_inf : {FP}, f32
  tile.fill %l, %zero : {FP}, f32
  tile.fill %o, %zero : {COL}, f32
  scf.for %kv = %c0 to %c2 step %c1 {{
    %kv0 = arith.muli %kv, %c64 : index
    tile.copy %K[0, %kv0, %head, 0] {HEAD} to %k : {Q8} to {MCOL}
    tile.copy %V[0, %kv0, %head, 0] {HEAD} to %v : {Q8} to {MCOL}
    tile.gemm %s[m, n] = %q[m, k] * %k[n, k] : {SCORES}, {COL}, {MCOL}
    tile.mul_scalar %s, %s, %scale : {SCORES}, {SCORES}, f32
    tile.reduce_max %m_new, %s : {FP}, {SCORES}
    tile.fp_max %m_new, %m_new, %m_old : {FP}
    tile.sub_scalar %s, %s, %m_new : {SCORES}, {SCORES}, {FP}
    tile.exp %s, %s : {SCORES}
    tile.fp_sub %alpha, %m_old, %m_new : {FP}
    tile.fp_exp %alpha, %alpha : {FP}
    tile.reduce_sum %rs, %s : {FP}, {SCORES}
    tile.fp_mul %l, %l, %alpha : {FP}
    tile.fp_add %l, %l, %rs : {FP}
    tile.mul_scalar %o, %o, %alpha : {COL}, {COL}, {FP}
    tile.gemm %pv[m, n] = %s[m, k] * %v[k, n] : {COL}, {SCORES}, {MCOL}
    tile.add %o, %o, %pv : {COL}
    tile.copy %m_new to %m_old : {FP} to {FP}
  }}
  scf.for %i = %c0 to %c2 step %c1 {{
    tile.fp_mul %l, %l, %scale : {FP}, {FP}, f32
  }}
  tile.fp_reci %l, %l : {FP}
  tile.mul_scalar %o, %o, %l : {COL}, {COL}, {FP}
  tile.copy %o to %O[0, %row0, %head, 0] {HEAD} : {COL} to {Q8}""",
)

# GQA: 8 query heads over 4 kv heads (kv head = h % 4), decoded one query row at a time
# (lane.btmv), the scores of one row per lane mapped to FPRAM and back.
K4 = "!tile.tensor<1x64x4x16xf32>"
QROW = "!tile.buffer<1x16xbf16, vram>"
SROW = "!tile.buffer<1x64xbf16, vram>"
GQA_DECODE = _kernel(
    "gqa_decode",
    f"%Q : !tile.tensor<1x1x8x16xf32>, %K : {K4}, %V : {K4}, "
    "%O : !tile.tensor<1x1x8x16xf32>, %scale : f32",
    f"""
  %c4 = arith.constant 4 : index
  %kvh = arith.remsi %head, %c4 : index
  %q = tile.alloc : {QROW}
  %k = tile.alloc : {MCOL}
  %v = tile.alloc : {MCOL}
  %s = tile.alloc : {SROW}
  %o = tile.alloc : {QROW}
  %m = tile.alloc : !tile.buffer<1xf32, fpram>
  %p = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %Q[0, 0, %head, 0] sizes [1, 1, 1, 16] to %q : !tile.tensor<1x1x8x16xf32> to {QROW}
  tile.copy %K[0, 0, %kvh, 0] {HEAD} to %k : {K4} to {MCOL}
  tile.copy %V[0, 0, %kvh, 0] {HEAD} to %v : {K4} to {MCOL}
  tile.gemm %s[m, n] = %q[m, k] * %k[n, k] : {SROW}, {QROW}, {MCOL}
  tile.mul_scalar %s, %s, %scale : {SROW}, {SROW}, f32
  tile.copy %s to %p : {SROW} to !tile.buffer<64xf32, fpram>
  tile.fp_exp %p, %p : !tile.buffer<64xf32, fpram>
  tile.copy %p to %s : !tile.buffer<64xf32, fpram> to {SROW}
  tile.reduce_sum %m, %s : !tile.buffer<1xf32, fpram>, {SROW}
  tile.fp_reci %m, %m : !tile.buffer<1xf32, fpram>
  tile.gemm %o[m, n] = %s[m, k] * %v[k, n] : {QROW}, {SROW}, {MCOL}
  tile.mul_scalar %o, %o, %m : {QROW}, {QROW}, !tile.buffer<1xf32, fpram>
  tile.copy %o to %O[0, 0, %head, 0] sizes [1, 1, 1, 16] : {QROW} to !tile.tensor<1x1x8x16xf32>""",
    grid="%head = 8 lane",
)

# rmsnorm with a weight row shared by the heads (`out *= weight`, a 1 x 16 row): the weight is
# loaded by lane.copy's broadcast form into a col_pack buffer, every lane the same.
RMSNORM_WEIGHT = (
    RMSNORM.replace("@rmsnorm", "@rmsnorm_weight")
    .replace("%inv_n : f32", "%inv_n : f32, %w : !tile.tensor<16xf32>")
    .replace(
        "  tile.copy %out to %y",
        "  %weight = tile.alloc : !tile.buffer<1x16xbf16, vram>\n"
        "  tile.copy %w[0] to %weight : !tile.tensor<16xf32> to !tile.buffer<1x16xbf16, vram>\n"
        "  tile.mul %out, %out, %weight : !tile.buffer<64x16xbf16, vram>, "
        "!tile.buffer<64x16xbf16, vram>, !tile.buffer<1x16xbf16, vram>\n"
        "  tile.copy %out to %y",
    )
)

KERNELS = {
    "rmsnorm": RMSNORM,
    "rmsnorm_weight": RMSNORM_WEIGHT,
    "attention": ATTENTION,
    "flash": FLASH,
    "gqa_decode": GQA_DECODE,
}


def parse(text: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Arith, Scf, tile.Tile, lane.Lane, Plena):
        ctx.load_dialect(dialect)
    return Parser(ctx, text).parse_module()


def expand(text: str) -> ModuleOp:
    module = parse(text)
    ExpandLanesPass().apply(Context(), module)
    module.verify()
    return module


def _inputs(module: ModuleOp, seed: int) -> dict[str, np.ndarray]:
    kernel = next(op for op in module.walk() if isinstance(op, tile.KernelOp))
    rng = np.random.default_rng(seed)
    return {
        name.data: rng.normal(0.0, 1.5, arg.type.get_shape()).astype(np.float32)
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, tile.TensorType)
    }


SCALARS = {"rmsnorm": {"inv_n": 1 / 16}, "rmsnorm_weight": {"inv_n": 1 / 16}}


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_expanded_kernel_is_bit_identical_to_the_per_head_kernel(name: str, hbm_format: str):
    text = KERNELS[name]
    original = parse(text)
    expanded = expand(text)
    inputs = _inputs(original, seed=len(name))
    scalars = SCALARS.get(name, {"scale": 0.25})
    per_head, lanes = (
        interpret_kernel(m, name, inputs, mode="rounded", hbm_format=hbm_format, **scalars)
        for m in (original, expanded)
    )
    for tensor, expected in per_head.items():
        assert np.isfinite(lanes[tensor]).all()
        np.testing.assert_array_equal(lanes[tensor], expected, err_msg=tensor)
    written = [t for t in per_head if not np.array_equal(per_head[t], inputs.get(t, 0 * 0))]
    assert written  # the kernel wrote an output: the comparison is not of zeros


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_no_tile_op_remains_and_lane_ops_stand_where_their_trait_says(name: str):
    module = expand(KERNELS[name])
    kernel = next(op for op in module.walk() if isinstance(op, tile.KernelOp))
    assert kernel.lane is None
    for op in kernel.body.walk():
        assert not isinstance(op, tile.TileOp), op.name
        inside = lane.enclosing_lane_loop(op) is not None
        if op.has_trait(PerLane):
            assert inside, op.name
        if op.has_trait(MultiLane):
            assert not inside, op.name


def test_the_grid_counts_lane_groups():
    module = expand(ATTENTION)
    kernel = next(op for op in module.walk() if isinstance(op, tile.KernelOp))
    assert kernel.grid == {"qb": 2, "head": 2}


def _loops(module: ModuleOp) -> list[ForLanesOp]:
    return [op for op in module.walk() if isinstance(op, ForLanesOp)]


def test_a_whole_tile_op_between_per_lane_ops_stays_outside_the_lane_loop():
    """Published bug 1 (output off by exactly L): `o += pv` runs once for all lanes, between
    the lane loop that computes pv and the next one."""
    module = expand(FLASH)
    (add,) = [op for op in module.walk() if isinstance(op, lane.AddOp)]
    assert lane.enclosing_lane_loop(add) is None
    before = add.prev_op
    assert isinstance(before, ForLanesOp)
    assert any(isinstance(op, lane.GemmOp) for op in before.body.block.ops)


def test_every_per_lane_op_of_a_run_is_in_one_loop():
    """Published bug 2's counterpart: no per-lane op is emitted once outside the loop, and a
    run of consecutive per-lane ops (and the loop of only per-lane ops) is one loop."""
    module = expand(FLASH)
    loops = _loops(module)
    per_lane = [op for op in module.walk() if op.has_trait(PerLane)]
    assert all(lane.enclosing_lane_loop(op) in loops for op in per_lane)
    # kv loop: {max, fp_max, row_sub} | exp | {fp_sub .. gemm}; after it {scf.for, reci, mul}
    assert [len(list(loop.body.block.ops)) for loop in loops] == [3, 7, 3]


def test_out_of_place_masked_op_gets_a_copy_before_the_loop_and_runs_in_place():
    module = expand(RMSNORM)
    (row_mul,) = [op for op in module.walk() if isinstance(op, lane.RowMulOp)]
    assert row_mul.dst is row_mul.src
    (loop,) = _loops(module)
    copy = loop.prev_op
    assert isinstance(copy, lane.CopyOp)
    assert copy.dst is row_mul.dst and copy.src.name_hint == "t"


# ---------------------------------------------------------------------------------------------
# diagnostics
# ---------------------------------------------------------------------------------------------


def _error(text: str) -> str:
    with pytest.raises(DiagnosticException) as info:
        expand(text)
    return str(info.value)


def test_head_count_not_a_multiple_of_the_lanes():
    text = ATTENTION.replace("%head = 8 lane", "%head = 6 lane")
    assert _error(text) == (
        "plena-expand-lanes: tile.kernel @attention: the lane axis %head has 6 heads, not a "
        "multiple of the 4 lanes (MLEN/HLEN = 64/16 on target 'plena-tvm') that share a row"
    )


def test_head_index_in_a_column_offset_asks_for_a_head_dimension():
    text = _kernel(
        "k",
        "%x : !tile.tensor<64x128xf32>",
        f"""
  %c16 = arith.constant 16 : index
  %col = arith.muli %head, %c16 : index
  %t = tile.alloc : {COL}
  tile.copy %x[0, %col] to %t : !tile.tensor<64x128xf32> to {COL}""",
    )
    assert "dimension 1 of the HBM src (64x128), which is not a head dimension" in _error(text)


def test_gqa_modulus_must_keep_a_group_of_heads_together():
    text = GQA_DECODE.replace("%c4 = arith.constant 4", "%c4 = arith.constant 2")
    assert "needs a constant c that is a multiple of the 4 lanes" in _error(text)


def test_head_index_outside_an_hbm_offset():
    text = _kernel(
        "k",
        "%x : !tile.tensor<1x64x8x16xf32>",
        f"""
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %t = tile.alloc : {COL}
  tile.copy %x[0, 0, %head, 0] {HEAD} to %t : !tile.tensor<1x64x8x16xf32> to {COL}
  scf.for %i = %c0 to %head step %c1 {{
    tile.exp %t, %t : {COL}
  }}""",
    )
    assert "scf.for #1 of @k uses the head index %head" in _error(text)


def test_unpackable_buffer_names_it_and_why():
    text = _kernel(
        "k",
        "%x : !tile.tensor<1x64x8x32xf32>",
        """
  %t = tile.alloc : !tile.buffer<64x32xbf16, vram>
  %u = tile.alloc : !tile.buffer<64x16xbf16, vram>
  tile.copy %x[0, 0, %head, 0] sizes [1, 64, 1, 32] to %t : !tile.tensor<1x64x8x32xf32>
      to !tile.buffer<64x32xbf16, vram>""",
    )
    assert _error(text) == (
        "plena-expand-lanes: the buffer %t (64x32xbf16, vram) cannot be lane-packed: it holds "
        "one head per lane (loaded from HBM through the head index by tile.copy #1 of @k), "
        "and a lane of a vram buffer is HLEN = 16 columns (col_pack) or MLEN = 64 (row_stack) "
        "wide, not 32"
    )


def test_layout_conflict_names_both_buffers():
    """A lane-independent MLEN-wide tile (a mask) added to the row_stack scores."""
    text = ATTENTION.replace(
        "  tile.exp %s, %s",
        f"  %mask = tile.alloc : {SCORES}\n  tile.fill %mask, %scale : {SCORES}, f32\n"
        f"  tile.add %s, %s, %mask : {SCORES}\n  tile.exp %s, %s",
    )
    assert _error(text) == (
        "plena-expand-lanes: tile.add #1 of @attention: layout conflict: an element-wise op "
        "reads and writes the same positions of every operand, but %s (64x64xbf16, vram) is "
        "row_stack (written by tile.gemm #1 of @attention from the lane-dependent %q "
        "(64x16xbf16, vram)) and %mask (64x64xbf16, vram) is flat (it is lane-independent: "
        "the same for every head)"
    )


# ---------------------------------------------------------------------------------------------
# plena-assign-layout on lane kernels
# ---------------------------------------------------------------------------------------------


def test_assign_layout_records_the_physical_layout_of_every_lane_buffer():
    module = expand(ATTENTION)
    AssignLayoutPass().apply(Context(), module)
    module.verify()
    target = target_of(module)
    allocs = [op for op in module.walk() if isinstance(op, lane.AllocOp)]
    assert allocs
    for alloc in allocs:
        physical = alloc.result.type.physical
        assert assigned_buffer_layout(alloc.result, target) == buffer_layout(physical, target)
    scores = next(a for a in allocs if a.result.name_hint == "s")
    assert assigned_buffer_layout(scores.result, target).padded_rows == 4 * 64  # 4 slabs
    kernel = next(op for op in module.walk() if isinstance(op, tile.KernelOp))
    assert assigned_tensor_layouts(kernel) == {
        "Q": BshdLayoutAttr(8, 16),
        "K": BshdLayoutAttr(8, 16),
        "V": BshdLayoutAttr(8, 16),
        "O": BshdLayoutAttr(16, 16),
    }


# ---------------------------------------------------------------------------------------------
# the library's lane kernels (attention family, per-head norms: every spec whose kernel packs
# narrow heads into lanes, at each of its sizes)
# ---------------------------------------------------------------------------------------------


def _lane_library_cases() -> list[tuple[str, dict[str, int]]]:
    cases = []
    for name, spec in sorted(all_kernels().items()):
        for sizes in (spec.default_sizes(), *spec.sizes_to_test()):
            resolved = spec.resolve(sizes)
            kernel = next(op for op in spec.build(resolved).walk() if isinstance(op, tile.KernelOp))
            narrow = any(
                isinstance(op, tile.AllocOp)
                and op.result.type.rank == 2
                and op.result.type.get_shape()[1] < target_of(kernel).mlen
                for op in kernel.walk()
            )
            if kernel.lane is not None and narrow:
                cases.append((name, resolved))
    return cases


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
@pytest.mark.parametrize(("name", "sizes"), _lane_library_cases())
def test_library_lane_kernel_expands_to_the_same_outputs(name, sizes, hbm_format):
    spec = all_kernels()[name]
    original = spec.build(sizes)
    InferMemoryPass().apply(Context(), original)
    expanded = spec.build(sizes)
    for compile_pass in (InferMemoryPass(), ExpandLanesPass()):
        compile_pass.apply(Context(), expanded)
    given = spec.make_inputs(sizes, np.random.default_rng(5), DEFAULT_TARGET)
    tensors = {k: v for k, v in given.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in given.items() if not isinstance(v, np.ndarray)}
    kernel_name = next(op for op in original.walk() if isinstance(op, tile.KernelOp)).sym_name
    per_head, lanes = (
        interpret_kernel(
            m, kernel_name.data, tensors, mode="rounded", hbm_format=hbm_format, **scalars
        )
        for m in (original, expanded)
    )
    for tensor, expected in per_head.items():
        np.testing.assert_array_equal(lanes[tensor], expected, err_msg=tensor)


def test_errors_name_the_op_as_the_author_numbered_it():
    """The second copy is named #2 even after the first became a lane.copy."""
    text = ATTENTION.replace(
        f"tile.copy %V[0, %row0, %head, 0] {HEAD} to %v",
        "tile.copy %V[0, %row0, %head, 0] sizes [1, 64, 1, 16] to %v[0, 0]",
    )
    assert _error(text).startswith(
        "plena-expand-lanes: tile.copy #3 of @attention: the on-chip dst is sliced"
    )


def test_a_lane_independent_weight_row_used_with_heads_is_broadcast_col_pack():
    """rmsnorm's `t *= weight`: the weight row is loaded once per group, every lane holding
    the same 16 values (its copy has no `lanes` marker: lane.copy's broadcast form)."""
    text = RMSNORM_WEIGHT
    module = parse(text)
    kernel = next(op for op in module.walk() if isinstance(op, tile.KernelOp))
    target = target_of(kernel)
    head = kernel.grid_indices[kernel.lane_axis.value.data]
    layouts = assign_lane_layouts(kernel, head_copies(kernel, head, target.lanes), target)
    weight = next(
        op.result for op in kernel.walk() if isinstance(op, tile.AllocOp)
        and op.result.name_hint == "weight"
    )
    assert str(layouts.types[weight]) == "!lane.buffer<4x1x16xbf16, vram, col_pack>"
    assert layouts.reasons[weight] == (
        "used by tile.mul #2 of @rmsnorm_weight with the lane-dependent %out (64x16xbf16, vram): "
        "every lane holds the same data (a broadcast)"
    )
