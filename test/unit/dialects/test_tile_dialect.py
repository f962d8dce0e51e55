"""The `tile` dialect: types, kernel, op verifiers, effects, the `?` rule, and its docs."""

import re
from io import StringIO
from pathlib import Path

import pytest
from plena_mlir.dialects import get_all_dialects
from plena_mlir.dialects.tile import (
    TILE_OPS,
    AddOp,
    BufferType,
    CopyOp,
    GemmOp,
    KernelOp,
    MemorySpace,
    ReduceSumOp,
    TensorType,
    Tile,
    resolved_space,
)
from plena_mlir.dialects.tile.memory_ops import default_sizes
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, ModuleOp, bf16, f16, f32
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import MemoryEffectKind, get_effects
from xdsl.utils.exceptions import VerifyException

from plena_mlir.isa.opcodes import TVM_ISA

DOC = Path(__file__).resolve().parents[3] / "docs" / "dialects" / "tile.md"


def _parse(text: str) -> ModuleOp:
    ctx = Context()
    for dialect in (Builtin, Arith, Scf, Tile):
        ctx.load_dialect(dialect)
    module = Parser(ctx, text).parse_module()
    module.verify()
    return module


def _print(module: ModuleOp) -> str:
    out = StringIO()
    Printer(stream=out).print_op(module)
    return out.getvalue()


def _ops(module: ModuleOp, op_type: type) -> list:
    return [op for op in module.walk() if isinstance(op, op_type)]


# ---------------------------------------------------------------------------------------------
# types
# ---------------------------------------------------------------------------------------------


def test_types_compare_by_every_parameter():
    vram = BufferType((64, 64), bf16, "vram")
    assert vram == BufferType((64, 64), bf16, MemorySpace.VRAM)
    assert hash(vram) == hash(BufferType((64, 64), bf16, "vram"))
    assert vram != BufferType((1, 64), bf16, "vram")
    assert vram != BufferType((64, 64), f16, "vram")
    assert vram != BufferType((64, 64), bf16, "?")
    assert TensorType((4, 8), f32) != TensorType((4, 16), f32)


def test_buffer_type_accessors():
    typ = BufferType((64, 16), bf16, "?")
    assert typ.space is MemorySpace.INFERRED
    assert typ.get_shape() == (64, 16)
    assert typ.rank == 2
    assert typ.num_elements == 1024
    assert typ.with_space(MemorySpace.MRAM) == BufferType((64, 16), bf16, "mram")


@pytest.mark.parametrize(
    ("shape", "space", "message"),
    [
        ((64,), "vram", "vram buffers have rank 2 (rows x columns), got 64"),
        ((64, 64), "fpram", "fpram buffers have rank 1 (one scalar per entry), got 64x64"),
        ((2, 2, 2), "?", "a buffer must have rank 1 (fpram) or 2 (vram, mram), got 2x2x2"),
        ((0, 64), "vram", "dimensions must be static and positive, got 0x64"),
        ((), "vram", "must have at least one dimension"),
        ((64,), "sram", "unknown memory space 'sram'"),
    ],
)
def test_bad_buffer_types_are_rejected_with_the_reason(shape, space, message):
    with pytest.raises(VerifyException, match=re.escape(message)):
        BufferType(shape, f32, space)


def test_types_print_in_their_short_form():
    module = _parse(
        "tile.kernel @k grid() args(%x : !tile.tensor<1x128x8x16xf32>) {\n"
        "  %b = tile.alloc : !tile.buffer<64x16xbf16, ?>\n"
        "}\n"
    )
    text = _print(module)
    assert "%x : !tile.tensor<1x128x8x16xf32>" in text
    assert "%b = tile.alloc : !tile.buffer<64x16xbf16, ?>" in text


# ---------------------------------------------------------------------------------------------
# kernel
# ---------------------------------------------------------------------------------------------


def test_kernel_grid_lane_and_arguments():
    kernel = KernelOp(
        "k",
        [("q", 2), ("h", 8)],
        [("x", TensorType((128, 16), f32)), ("eps", f32)],
        lane="h",
    )
    kernel.verify()
    assert kernel.grid == {"q": 2, "h": 8}
    assert kernel.lane == "h"
    assert kernel.names == ["q", "h", "x", "eps"]
    assert [a.type for a in kernel.arguments] == [TensorType((128, 16), f32), f32]
    assert kernel.argument("eps") is kernel.body.block.args[3]
    assert [i.name_hint for i in kernel.grid_indices] == ["q", "h"]


def test_kernel_rejects_an_unknown_lane_axis():
    with pytest.raises(ValueError, match="lane axis 'z' is not a grid axis of kernel 'k'"):
        KernelOp("k", [("q", 2)], [], lane="z")


def test_kernel_names_survive_a_round_trip_even_when_the_body_reuses_them():
    text = (
        "tile.kernel @k grid(%i = 4) args(%x : !tile.tensor<64xf32>) {\n"
        "  %c = arith.constant 0 : index\n"
        "}\n"
    )
    module = _parse(text)
    (kernel,) = _ops(module, KernelOp)
    kernel.body.block.first_op.result.name_hint = "x"  # a body value hinting the same name
    again = _parse(_print(module))
    (kernel_again,) = _ops(again, KernelOp)
    assert kernel_again.names == ["i", "x"]
    assert kernel_again.grid == {"i": 4}


def test_the_dialect_is_registered_for_the_tools():
    assert get_all_dialects()["tile"]() is Tile


# ---------------------------------------------------------------------------------------------
# ops
# ---------------------------------------------------------------------------------------------

KERNEL = """
tile.kernel @k grid(%i = 2) args(%x : !tile.tensor<128x64xf32>, %y : !tile.tensor<128x64xf32>) {
  %c64 = arith.constant 64 : index
  %r = arith.muli %i, %c64 : index
  %a = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %b = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %c = tile.alloc : !tile.buffer<64x64xbf16, ?>
  %m = tile.alloc : !tile.buffer<64xf32, ?>
  tile.copy %x[%r, 0] to %a : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.copy %x[%r, 0] to %b : !tile.tensor<128x64xf32> to !tile.buffer<64x64xbf16, ?>
  tile.gemm %c[m, n] = %a[m, k] * %b[n, k] : !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>, !tile.buffer<64x64xbf16, ?>
  tile.add %c, %c, %a : !tile.buffer<64x64xbf16, ?>
  tile.reduce_sum %m, %c accumulate : !tile.buffer<64xf32, ?>, !tile.buffer<64x64xbf16, ?>
  tile.copy %c to %y[%r, 0] : !tile.buffer<64x64xbf16, ?> to !tile.tensor<128x64xf32>
}
"""  # noqa: E501


def test_inferred_spaces_follow_the_documented_rule():
    module = _parse(KERNEL)
    a, b, c, m = (op.result for op in module.walk() if op.name == "tile.alloc")
    assert resolved_space(a) is MemorySpace.VRAM  # gemm A and element-wise
    assert resolved_space(b) is MemorySpace.MRAM  # gemm B
    assert resolved_space(c) is MemorySpace.VRAM
    assert resolved_space(m) is MemorySpace.FPRAM  # rank 1


def test_effects_name_the_buffers_written_and_read():
    module = _parse(KERNEL)
    a, b, c, m = (op.result for op in module.walk() if op.name == "tile.alloc")
    (gemm,) = _ops(module, GemmOp)
    (add,) = _ops(module, AddOp)
    (reduce,) = _ops(module, ReduceSumOp)
    load, store = (op for op in _ops(module, CopyOp) if op.dst is b or op.src is c)

    def effects(op):
        return {(e.kind, e.value) for e in get_effects(op)}

    read, write = MemoryEffectKind.READ, MemoryEffectKind.WRITE
    assert effects(gemm) == {(write, c), (read, a), (read, b)}
    assert effects(add) == {(write, c), (read, c), (read, a)}
    assert effects(reduce) == {(write, m), (read, m), (read, c)}  # accumulate reads acc
    x, y = _ops(module, KernelOp)[0].arguments
    assert effects(load) == {(write, b), (read, x)}
    assert effects(store) == {(write, y), (read, c)}


@pytest.mark.parametrize(
    ("shape", "rank", "expected"),
    [
        ((64, 16), 4, (1, 1, 64, 16)),
        ((1, 64), 1, (64,)),
        ((1, 1, 64), 2, (1, 64)),
        ((2, 64), 1, None),
        ((64,), 1, (64,)),
    ],
)
def test_a_copy_region_defaults_to_the_other_side_fitted_to_the_rank(shape, rank, expected):
    assert default_sizes(shape, rank) == expected


def test_copy_extents():
    module = _parse(
        "tile.kernel @k grid() args(%q : !tile.tensor<1x128x8x16xf32>) {\n"
        "  %t = tile.alloc : !tile.buffer<64x16xbf16, vram>\n"
        "  %p = tile.alloc : !tile.buffer<64x64xbf16, vram>\n"
        "  tile.copy %q[0, 64, 3, 0] sizes [1, 64, 1, 16] to %t : "
        "!tile.tensor<1x128x8x16xf32> to !tile.buffer<64x16xbf16, vram>\n"
        "  tile.copy %t to %p[0, 16] : "
        "!tile.buffer<64x16xbf16, vram> to !tile.buffer<64x64xbf16, vram>\n"
        "}\n"
    )
    head, place = _ops(module, CopyOp)
    assert head.is_sliced("src") and not head.is_sliced("dst")
    assert head.offsets("src") == [0, 64, 3, 0]
    assert head.extent("src") == (1, 64, 1, 16)
    assert head.extent("dst") == (64, 16)
    assert place.extent("dst") == (64, 16)  # from the whole src


def test_gemm_roles_give_the_einsum():
    module = _parse(KERNEL)
    (gemm,) = _ops(module, GemmOp)
    assert gemm.einsum == "mk,nk->mn"
    assert gemm.accumulate is None


# ---------------------------------------------------------------------------------------------
# the op set is what the machine has
# ---------------------------------------------------------------------------------------------


def test_vector_and_scalar_ops_name_the_instruction_they_lower_to():
    """Every element-wise, reduction and scalar FP op cites a real plena-tvm instruction."""
    for op in TILE_OPS:
        if op.name.split(".")[1] in ("kernel", "alloc", "copy", "fill", "gemm"):
            continue
        cited = re.findall(r"\b([VS]_[A-Z_]+)\b", op.__doc__ or "")
        assert cited, f"{op.name} does not name the instruction it lowers to"
        for mnemonic in cited:
            assert mnemonic in TVM_ISA, f"{op.name} cites {mnemonic}, not a plena-tvm instruction"


def test_no_op_the_machine_lacks():
    names = {op.name for op in TILE_OPS}
    for missing in ("tile.max", "tile.min", "tile.sqrt", "tile.div"):
        assert missing not in names


# ---------------------------------------------------------------------------------------------
# docs
# ---------------------------------------------------------------------------------------------


def test_the_user_doc_describes_every_op_with_an_example():
    doc = DOC.read_text()
    for op in TILE_OPS:
        assert f"`{op.name}`" in doc, f"docs/dialects/tile.md does not describe {op.name}"
        assert f"{op.name} " in doc, f"docs/dialects/tile.md has no IR example of {op.name}"


def test_the_ir_examples_of_the_user_doc_parse_and_verify():
    doc = DOC.read_text()
    blocks = re.findall(r"```mlir\n(.*?)```", doc, re.DOTALL)
    kernels = [b for b in blocks if b.lstrip().startswith("tile.kernel")]
    assert kernels, "docs/dialects/tile.md has no complete kernel example"
    for block in kernels:
        _parse(block)


def test_the_lit_round_trip_covers_every_op():
    ops_mlir = (DOC.parents[2] / "test" / "lit" / "dialects" / "tile" / "ops.mlir").read_text()
    for op in TILE_OPS:
        assert f"{op.name} " in ops_mlir, f"test/lit/dialects/tile/ops.mlir lacks {op.name}"
