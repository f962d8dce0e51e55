"""The `lane` dialect: layouts, the buffer type, the multi-/per-lane traits, builders, effects,
verifiers against the target, and its docs."""

import itertools
import re
from io import StringIO
from pathlib import Path

import pytest
from plena_mlir.dialects import get_all_dialects, tile
from plena_mlir.dialects.lane import (
    LANE_OPS,
    AddOp,
    AllocOp,
    BtmmOp,
    CopyOp,
    FillOp,
    ForLanesOp,
    GemmOp,
    Lane,
    LaneBufferType,
    LaneLayout,
    MultiLane,
    PerLane,
    RowMaxOp,
    RowMulOp,
    enclosing_lane_loop,
    physical_index,
    physical_shape,
)
from plena_mlir.dialects.plena import Plena
from xdsl.context import Context
from xdsl.dialects.arith import Arith, ConstantOp
from xdsl.dialects.builtin import Builtin, FloatAttr, IndexType, ModuleOp, bf16, f32
from xdsl.ir import Block, Region
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import MemoryEffectKind, get_effects
from xdsl.utils.exceptions import VerifyException

from plena_mlir.isa.opcodes import TVM_ISA

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "dialects" / "lane.md"

COL_PACK = LaneBufferType((4, 64, 16), bf16, "vram", "col_pack")
ROW_STACK = LaneBufferType((4, 64, 64), bf16, "vram", "row_stack")
K_TILE = LaneBufferType((4, 64, 16), bf16, "mram", "col_pack")
FP_LANE = LaneBufferType((4, 64), f32, "fpram", "fp_lane")


def _parse(text: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Arith, tile.Tile, Lane, Plena):
        ctx.load_dialect(dialect)
    module = Parser(ctx, text).parse_module()
    module.verify()
    return module


def _print(op) -> str:
    out = StringIO()
    Printer(stream=out).print_op(op)
    return out.getvalue()


def _ops(module: ModuleOp, op_type: type) -> list:
    return [op for op in module.walk() if isinstance(op, op_type)]


# ---------------------------------------------------------------------------------------------
# layouts: which element goes where
# ---------------------------------------------------------------------------------------------


def test_col_pack_puts_the_lanes_side_by_side_in_one_row():
    shape = (4, 64, 16)
    assert physical_shape(LaneLayout.COL_PACK, shape) == (64, 64)
    assert physical_index(LaneLayout.COL_PACK, shape, (0, 0, 0)) == (0, 0)
    assert physical_index(LaneLayout.COL_PACK, shape, (2, 5, 3)) == (5, 35)  # row 5, 2*16 + 3
    assert physical_index(LaneLayout.COL_PACK, shape, (3, 63, 15)) == (63, 63)


def test_row_stack_stacks_head_major_slabs_with_the_lane_stride_of_the_write_out():
    assert physical_shape(LaneLayout.ROW_STACK, (4, 64, 64)) == (256, 64)
    assert physical_index(LaneLayout.ROW_STACK, (4, 64, 64), (2, 5, 3)) == (133, 3)
    # decode (one row per lane): lane l is row l, as M_BMV_WO writes it (reference pitfall 3)
    assert [
        physical_index(LaneLayout.ROW_STACK, (4, 1, 64), (lane, 0, 0)) for lane in range(4)
    ] == [
        (0, 0),
        (1, 0),
        (2, 0),
        (3, 0),
    ]


def test_fp_lane_and_flat():
    assert physical_shape(LaneLayout.FP_LANE, (4, 64)) == (256,)
    assert physical_index(LaneLayout.FP_LANE, (4, 64), (3, 7)) == (199,)
    assert physical_shape(LaneLayout.FLAT, (64, 64)) == (64, 64)
    assert physical_index(LaneLayout.FLAT, (64, 64), (1, 2)) == (1, 2)


@pytest.mark.parametrize(
    ("layout", "shape"),
    [
        (LaneLayout.COL_PACK, (4, 3, 16)),
        (LaneLayout.ROW_STACK, (4, 3, 8)),
        (LaneLayout.FP_LANE, (4, 5)),
        (LaneLayout.FLAT, (3, 8)),
    ],
)
def test_every_layout_is_a_bijection_onto_its_physical_buffer(layout, shape):
    physical = physical_shape(layout, shape)
    positions = {
        physical_index(layout, shape, index)
        for index in itertools.product(*(range(d) for d in shape))
    }
    assert len(positions) == len(list(itertools.product(*(range(d) for d in physical))))
    assert all(all(0 <= p < d for p, d in zip(pos, physical, strict=True)) for pos in positions)


def test_an_index_outside_the_buffer_is_an_error():
    with pytest.raises(IndexError, match="out of bounds"):
        physical_index(LaneLayout.COL_PACK, (4, 64, 16), (4, 0, 0))


# ---------------------------------------------------------------------------------------------
# the buffer type
# ---------------------------------------------------------------------------------------------


def test_buffer_type_accessors():
    assert COL_PACK.lanes == 4
    assert COL_PACK.lane_shape == (64, 16)
    assert COL_PACK.layout is LaneLayout.COL_PACK
    assert COL_PACK.space is tile.MemorySpace.VRAM
    assert COL_PACK.physical == tile.BufferType((64, 64), bf16, "vram")
    assert ROW_STACK.physical == tile.BufferType((256, 64), bf16, "vram")
    assert FP_LANE.physical == tile.BufferType((256,), f32, "fpram")
    flat = LaneBufferType((64,), f32, "fpram", "flat")
    assert flat.lanes == 1 and flat.lane_shape == (64,)


def test_buffer_types_compare_by_layout_too():
    assert COL_PACK == LaneBufferType((4, 64, 16), bf16, "vram", LaneLayout.COL_PACK)
    assert COL_PACK != LaneBufferType((4, 64, 16), bf16, "vram", "row_stack")
    assert str(COL_PACK) == "!lane.buffer<4x64x16xbf16, vram, col_pack>"


@pytest.mark.parametrize(
    ("shape", "space", "layout", "message"),
    [
        ((4, 64), "fpram", "col_pack", "a col_pack buffer lives in vram or mram, not in fpram"),
        ((4, 64, 64), "mram", "row_stack", "a row_stack buffer lives in vram, not in mram"),
        ((4, 64, 64), "fpram", "fp_lane", "fp_lane buffer in fpram has rank 2"),
        ((64, 64), "fpram", "flat", "flat buffer in fpram has rank 1"),
        ((4, 64, 16), "vram", "bshd", "unknown lane layout 'bshd'"),
    ],
)
def test_bad_buffer_types_are_rejected_with_the_reason(shape, space, layout, message):
    with pytest.raises(VerifyException, match=re.escape(message)):
        LaneBufferType(shape, bf16, space, layout)


def test_the_lane_count_comes_from_the_modules_target():
    """With HLEN 32 a 64-wide row holds 2 heads: 2-lane buffers and loops are right, 4 wrong."""
    two_lanes = """
    builtin.module attributes {plena.target = #plena.target<"plena-tvm", {hlen = 32}>} {
      %q = lane.alloc : !lane.buffer<2x64x32xbf16, vram, col_pack>
      lane.for_lanes %l = 2 {
      }
    }
    """
    _parse(two_lanes)
    with pytest.raises(VerifyException, match="has 4 lanes but target 'plena-tvm' packs"):
        _parse(two_lanes.replace("2x64x32", "4x64x16"))


# ---------------------------------------------------------------------------------------------
# traits: multi-lane or per-lane, by definition
# ---------------------------------------------------------------------------------------------

MULTI_LANE = {
    "lane.alloc",
    "lane.copy",
    "lane.fill",
    "lane.btmm",
    "lane.btmv",
    "lane.add",
    "lane.sub",
    "lane.mul",
    "lane.exp",
    "lane.reci",
    "lane.add_scalar",
    "lane.sub_scalar",
    "lane.rsub_scalar",
    "lane.mul_scalar",
}


def test_every_op_but_the_loop_is_either_multi_lane_or_per_lane():
    for op in LANE_OPS:
        if op is ForLanesOp:
            assert not op.has_trait(MultiLane) and not op.has_trait(PerLane)
            continue
        multi, per = op.has_trait(MultiLane), op.has_trait(PerLane)
        assert multi != per, f"{op.name} must be exactly one of multi-lane and per-lane"
        assert multi == (op.name in MULTI_LANE), f"{op.name} is classified wrongly"


def test_per_lane_ops_name_their_lane_and_multi_lane_ops_do_not():
    for op in LANE_OPS:
        names = [name for name, _ in op.get_irdl_definition().operands]
        assert ("lane" in names) == op.has_trait(PerLane), op.name


def _kernel_with_lane_loop() -> tuple[ModuleOp, ForLanesOp, dict]:
    """A module with buffers and an empty lane loop, built with the Python builders."""
    allocs = {
        "o": AllocOp(COL_PACK),
        "s": AllocOp(ROW_STACK),
        "k": AllocOp(K_TILE),
        "m": AllocOp(FP_LANE),
    }
    zero = ConstantOp(FloatAttr(0.0, f32))
    loop = ForLanesOp(4)
    module = ModuleOp([*allocs.values(), zero, loop])
    for name, op in allocs.items():
        op.result.name_hint = name
    zero.result.name_hint = "zero"
    values = {name: op.result for name, op in allocs.items()} | {"zero": zero.result}
    return module, loop, values


def test_builders_make_the_ops_of_the_printed_form():
    module, loop, v = _kernel_with_lane_loop()
    lane = loop.lane
    loop.body.block.add_ops(
        [
            RowMaxOp.create_from({"acc": v["m"], "src": v["s"], "lane": lane}, ["accumulate"]),
            RowMulOp.create_from({"dst": v["o"], "src": v["o"], "scalar": v["m"], "lane": lane}),
            GemmOp(v["o"], v["s"], v["k"], lane, "mk,kn->mn", accumulate=True),
        ]
    )
    module.body.block.add_ops(
        [FillOp.create_from({"dst": v["m"], "value": v["zero"]}), BtmmOp(v["s"], v["o"], v["k"])]
    )
    module.verify()
    text = _print(module)
    assert "lane.for_lanes %lane = 4 {" in text
    assert "lane.row_max %m, %s lane %lane accumulate : " in text
    assert "lane.gemm %o[m, n] += %s[m, k] * %k[k, n] lane %lane : " in text
    assert "lane.btmm %s = %o * %k : " in text
    assert _print(_parse(text)) == text


def test_an_op_created_later_is_classified_by_its_definition():
    """Reference pitfall 1: a whole-tile add a pass creates inside the lane loop ran L times.
    Here it cannot even verify."""
    module, loop, v = _kernel_with_lane_loop()
    add = AddOp.create_from({"dst": v["o"], "lhs": v["o"], "rhs": v["o"]})
    loop.body.block.add_op(add)
    assert enclosing_lane_loop(add) is loop
    with pytest.raises(VerifyException, match="lane.add is multi-lane"):
        module.verify()


def test_a_per_lane_op_outside_the_loop_does_not_verify():
    module, loop, v = _kernel_with_lane_loop()
    row_max = RowMaxOp.create_from({"acc": v["m"], "src": v["s"], "lane": loop.lane})
    module.body.block.add_op(row_max)
    assert enclosing_lane_loop(row_max) is None
    with pytest.raises(VerifyException, match="lane.row_max is per-lane"):
        module.verify()


def test_the_lane_loop_builder_gives_a_body_taking_the_lane_index():
    body = Region(Block(arg_types=[IndexType()]))
    loop = ForLanesOp(4, body)
    assert loop.lane is body.block.args[0]
    assert loop.count.value.data == 4


# ---------------------------------------------------------------------------------------------
# effects and accessors
# ---------------------------------------------------------------------------------------------

KERNEL = """
tile.kernel @k grid(%g = 2) args(%Q : !tile.tensor<1x64x8x16xf32>, %O : !tile.tensor<1x64x8x16xf32>) {
  %c4 = arith.constant 4 : index
  %h0 = arith.muli %g, %c4 : index
  %q = lane.alloc : !lane.buffer<4x64x16xbf16, vram, col_pack>
  %k = lane.alloc : !lane.buffer<4x64x16xbf16, mram, col_pack>
  %s = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
  %m = lane.alloc : !lane.buffer<4x64xf32, fpram, fp_lane>
  lane.copy %Q[0, 0, lanes %h0, 0] to %q : !tile.tensor<1x64x8x16xf32> to !lane.buffer<4x64x16xbf16, vram, col_pack>
  lane.copy %Q[0, 0, lanes %h0, 0] to %k : !tile.tensor<1x64x8x16xf32> to !lane.buffer<4x64x16xbf16, mram, col_pack>
  lane.btmm %s = %q * %k : !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  lane.for_lanes %l = 4 {
    lane.row_max %m, %s lane %l accumulate : !lane.buffer<4x64xf32, fpram, fp_lane>, !lane.buffer<4x64x64xbf16, vram, row_stack>
    lane.gemm %q[m, n] = %s[m, k] * %k[k, n] lane %l : !lane.buffer<4x64x16xbf16, vram, col_pack>, !lane.buffer<4x64x64xbf16, vram, row_stack>, !lane.buffer<4x64x16xbf16, mram, col_pack>
  }
  lane.copy %q to %O[0, 0, lanes %h0, 0] : !lane.buffer<4x64x16xbf16, vram, col_pack> to !tile.tensor<1x64x8x16xf32>
}
"""  # noqa: E501


def test_effects_name_the_buffers_written_and_read():
    module = _parse(KERNEL)
    q, k, s, m = (op.result for op in _ops(module, AllocOp))
    hbm_q, hbm_o = _ops(module, tile.KernelOp)[0].arguments
    load_q, _, store = _ops(module, CopyOp)
    (btmm,) = _ops(module, BtmmOp)
    (row_max,) = _ops(module, RowMaxOp)
    (gemm,) = _ops(module, GemmOp)

    def effects(op):
        return {(e.kind, e.value) for e in get_effects(op)}

    read, write = MemoryEffectKind.READ, MemoryEffectKind.WRITE
    assert effects(load_q) == {(write, q), (read, hbm_q)}
    assert effects(store) == {(write, hbm_o), (read, q)}
    assert effects(btmm) == {(write, s), (read, q), (read, k)}
    assert effects(row_max) == {(write, m), (read, m), (read, s)}  # accumulate reads acc
    assert effects(gemm) == {(write, q), (read, s), (read, k)}


def test_copy_accessors():
    module = _parse(KERNEL)
    load_q, _, store = _ops(module, CopyOp)
    assert load_q.tensor_side == "src" and store.tensor_side == "dst"
    assert load_q.lane_dimension == 2
    offsets = load_q.offsets()
    assert offsets[0] == 0 and offsets[3] == 0 and offsets[2].name_hint == "h0"
    assert _ops(module, GemmOp)[0].einsum == "mk,kn->mn"


# ---------------------------------------------------------------------------------------------
# the op set is what the machine has
# ---------------------------------------------------------------------------------------------


def test_ops_name_the_instructions_they_lower_to():
    for op in LANE_OPS:
        cited = re.findall(r"\b([VSM]_[A-Z_]+)\b", op.__doc__ or "")
        for mnemonic in cited:
            assert mnemonic in TVM_ISA, f"{op.name} cites {mnemonic}, not a plena-tvm instruction"


def test_every_tile_vector_and_scalar_op_has_a_lane_form():
    mirrored = {op.TILE_OP for op in LANE_OPS if hasattr(op, "TILE_OP")}
    for op in (*tile.VECTOR_OPS, *tile.SCALAR_OPS):
        assert op in mirrored, f"{op.name} has no lane counterpart"


def test_the_dialect_is_registered_for_the_tools():
    assert get_all_dialects()["lane"]() is Lane


# ---------------------------------------------------------------------------------------------
# docs and lit coverage
# ---------------------------------------------------------------------------------------------


def test_the_user_doc_describes_every_op_with_an_example():
    doc = DOC.read_text()
    for op in LANE_OPS:
        assert f"`{op.name}`" in doc, f"docs/dialects/lane.md does not describe {op.name}"
        assert f"{op.name} " in doc, f"docs/dialects/lane.md has no IR example of {op.name}"


def test_the_ir_examples_of_the_user_doc_parse_and_verify():
    blocks = re.findall(r"```mlir\n(.*?)```", DOC.read_text(), re.DOTALL)
    kernels = [b for b in blocks if b.lstrip().startswith("tile.kernel")]
    assert kernels, "docs/dialects/lane.md has no complete kernel example"
    for block in kernels:
        _parse(block)


def test_the_lit_tests_cover_every_op():
    lit = ROOT / "test" / "lit" / "dialects" / "lane"
    ops_mlir = (lit / "ops.mlir").read_text()
    for op in LANE_OPS:
        assert f"{op.name} " in ops_mlir, f"test/lit/dialects/lane/ops.mlir lacks {op.name}"
