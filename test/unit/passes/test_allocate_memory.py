"""plena-infer-memory and plena-allocate-memory: liveness reuse, alignment, capacity, the
constant pool, HBM placement, and the shipped kernels allocated within the target."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr, target_of
from plena_mlir.dialects.tile import AllocOp, KernelOp, MemorySpace, Tile
from plena_mlir.passes import get_all_passes
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, IntegerAttr, ModuleOp
from xdsl.dialects.scf import Scf
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.buffer_liveness import live_range, program_spans
from plena_mlir.interp import interpret_kernel
from plena_mlir.ir.addresses import buffer_layout, capacity, hbm_footprint, unit_elements
from plena_mlir.kernels import linear, rmsnorm, softmax
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.sim.image import build_hbm_image

CTX = Context()
for _dialect in (Builtin, Arith, Scf, Tile):
    CTX.load_dialect(_dialect)


def parse(text: str) -> ModuleOp:
    module = Parser(CTX, text).parse_module()
    module.verify()
    return module


def allocate(module: ModuleOp, **options: int) -> ModuleOp:
    InferMemoryPass().apply(CTX, module)
    AllocateMemoryPass(**options).apply(CTX, module)
    module.verify()
    return module


def addresses(module: ModuleOp) -> dict[str, int]:
    return {
        a.result.name_hint: a.address.value.data
        for a in module.walk()
        if isinstance(a, AllocOp) and a.address is not None
    }


def check_allocation(module: ModuleOp, **options: int) -> None:
    """Every buffer has an aligned address inside its memory (above the pool in FPRAM, below
    the spill window), and two buffers live at the same time never overlap."""
    target = target_of(module)
    slots = options.get("fpram_constant_slots", 32)
    fpram_end = target.fpram_entries - options.get("fpram_reserved_top", 256)
    for kernel in (k for k in module.walk() if isinstance(k, KernelOp)):
        spans = program_spans(kernel.body.block)
        placed = []
        for alloc in (a for a in kernel.walk() if isinstance(a, AllocOp)):
            typ = alloc.result.type
            layout = buffer_layout(typ, target)
            start = alloc.address.value.data
            unit = unit_elements(typ.space, target)
            assert start % unit == 0, f"{alloc.result.name_hint} at {start} is not aligned"
            end = start + layout.elements
            limit = capacity(typ.space, target) * unit
            if typ.space is MemorySpace.FPRAM:
                assert start >= slots
                limit = fpram_end
            assert end <= limit, f"{alloc.result.name_hint} ends at {end}, beyond {limit}"
            placed.append((typ.space, start, end, live_range(alloc, spans), alloc))
        for (s1, a1, e1, l1, b1), (s2, a2, e2, l2, b2) in itertools.combinations(placed, 2):
            if s1 is s2 and l1.overlaps(l2):
                assert e1 <= a2 or e2 <= a1, (
                    f"{b1.result.name_hint} [{a1}, {e1}) and {b2.result.name_hint} "
                    f"[{a2}, {e2}) are live together and overlap"
                )


HEADER = (
    "tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>)"  # noqa: E501
)


def chain(n: int) -> str:
    """n buffers, each written from the previous one and then dead: %b0 -> %b1 -> ..."""
    lines = [HEADER + " {"]
    lines += [f"  %b{k} = tile.alloc : !tile.buffer<64x64xbf16, vram>" for k in range(n)]
    lines.append(
        "  tile.copy %x to %b0 : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>"
    )  # noqa: E501
    lines += [f"  tile.exp %b{k + 1}, %b{k} : !tile.buffer<64x64xbf16, vram>" for k in range(n - 1)]
    lines.append(
        f"  tile.copy %b{n - 1} to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>"
    )  # noqa: E501
    return "\n".join(lines) + "\n}"


# liveness reuse --------------------------------------------------------------------------------


def test_a_chain_of_temporaries_uses_two_buffers_worth_of_vram():
    module = allocate(parse(chain(6)))
    assert addresses(module) == {f"b{k}": (k % 2) * 4096 for k in range(6)}
    check_allocation(module)


def test_a_buffer_used_in_a_loop_is_live_over_the_whole_loop():
    module = allocate(
        parse(
            HEADER
            + """ {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %early = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %carried = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %early : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.exp %carried, %early : !tile.buffer<64x64xbf16, vram>
  scf.for %j = %c0 to %c4 step %c1 {
    tile.exp %t, %carried : !tile.buffer<64x64xbf16, vram>
    tile.add %carried, %carried, %t : !tile.buffer<64x64xbf16, vram>
  }
  tile.copy %carried to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}"""
        )
    )
    # %t is first written after %early's last read, so it reuses %early; %carried is live
    # across the loop that %t is used in, so they differ.
    assert addresses(module) == {"early": 0, "carried": 4096, "t": 0}
    check_allocation(module)


def test_a_buffer_read_in_a_loop_survives_the_later_iterations():
    module = allocate(
        parse(
            HEADER
            + """ {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %p = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %q = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %acc = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %p : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %acc : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  scf.for %j = %c0 to %c4 step %c1 {
    tile.add %acc, %acc, %p : !tile.buffer<64x64xbf16, vram>
    tile.exp %q, %acc : !tile.buffer<64x64xbf16, vram>
    tile.add %acc, %acc, %q : !tile.buffer<64x64xbf16, vram>
  }
  tile.copy %acc to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}"""
        )
    )
    # In program order %p's last read comes before %q's first write, but the next iteration
    # reads %p again after %q was written: %q must not take %p's rows.
    placed = addresses(module)
    assert len({placed["p"], placed["q"], placed["acc"]}) == 3
    check_allocation(module)


# alignment ---------------------------------------------------------------------------------


def test_vram_buffers_start_on_rows_and_mram_on_tiles():
    module = allocate(
        parse(
            """tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x128xf32>, %w : !tile.tensor<128x64xf32>) {
  %row = tile.alloc : !tile.buffer<1x64xbf16, vram>
  %a = tile.alloc : !tile.buffer<64x128xbf16, vram>
  %odd = tile.alloc : !tile.buffer<3x100xbf16, vram>
  %b1 = tile.alloc : !tile.buffer<128x64xbf16, mram>
  %b2 = tile.alloc : !tile.buffer<64x128xbf16, mram>
  %c = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x[0, 0] to %row : !tile.tensor<64x128xf32> to !tile.buffer<1x64xbf16, vram>
  tile.copy %x to %a : !tile.tensor<64x128xf32> to !tile.buffer<64x128xbf16, vram>
  tile.copy %x[0, 0] to %odd : !tile.tensor<64x128xf32> to !tile.buffer<3x100xbf16, vram>
  tile.copy %w to %b1 : !tile.tensor<128x64xf32> to !tile.buffer<128x64xbf16, mram>
  tile.copy %x to %b2 : !tile.tensor<64x128xf32> to !tile.buffer<64x128xbf16, mram>
  tile.gemm %c[m, n] = %a[m, k] * %b1[k, n] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<128x64xbf16, mram>
  tile.add %c, %c, %row : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<1x64xbf16, vram>
  tile.exp %odd, %odd : !tile.buffer<3x100xbf16, vram>
  tile.gemm %c[m, n] += %a[m, k] * %b2[n, k] : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x128xbf16, vram>, !tile.buffer<64x128xbf16, mram>
}"""  # noqa: E501
        )
    )
    # row: 2 rows (BLEN padding); a: 128 rows; odd: 8 rows; c: after them all
    assert addresses(module) == {
        "row": 0,
        "a": 2 * 64,
        "odd": 130 * 64,
        "b1": 0,
        "b2": 2 * 4096,
        "c": 138 * 64,
    }
    check_allocation(module)


# capacity ----------------------------------------------------------------------------------


def with_target(module: ModuleOp, **overrides: int) -> ModuleOp:
    module.attributes[TARGET_ATTR_NAME] = TargetAttr(
        "plena-tvm", {k: IntegerAttr(v, 64) for k, v in overrides.items()}
    )
    return module


def test_vram_overflow_names_the_buffer_and_the_sizes():
    module = with_target(parse(chain(3)), vram_rows=100)
    with pytest.raises(DiagnosticException) as e:
        allocate(module)
    assert str(e.value) == (
        "tile.alloc %b1 (64x64xbf16, vram) does not fit in VRAM: it needs 64 VRAM rows; 84 "
        "VRAM rows are available (VRAM has 100 rows, the top 16 are the lowering's staging "
        "rows, vram-base=0), 64 of them taken by buffers live at the same time (tile.alloc %b0 "
        "(64x64xbf16, vram))"
    )


def test_a_chain_fits_in_exactly_two_buffers_worth():
    # 128 rows for the buffers and the 16 staging rows at the top of VRAM
    check_allocation(allocate(with_target(parse(chain(8)), vram_rows=144)))


def test_the_staging_rows_at_the_top_of_vram_are_never_given_to_a_buffer():
    with pytest.raises(DiagnosticException, match="the top 16 are the lowering's staging rows"):
        allocate(with_target(parse(chain(8)), vram_rows=143))


def test_vram_base_shrinks_what_is_available():
    with pytest.raises(DiagnosticException, match="64 VRAM rows are available"):
        allocate(with_target(parse(chain(2)), vram_rows=144), vram_base=64 * 64)


def test_an_unnamed_buffer_is_named_by_its_place():
    module = with_target(parse(chain(3)), vram_rows=100)
    for alloc in module.walk():
        if isinstance(alloc, AllocOp):
            alloc.result.name_hint = None
    with pytest.raises(DiagnosticException, match=r"^tile.alloc #2 of @k \(64x64xbf16, vram\) "):
        allocate(module)


def test_mram_overflow():
    module = with_target(
        parse(
            """tile.kernel @k grid(%i = 1) args(%w : !tile.tensor<128x64xf32>) {
  %b = tile.alloc : !tile.buffer<128x64xbf16, mram>
  tile.copy %w to %b : !tile.tensor<128x64xf32> to !tile.buffer<128x64xbf16, mram>
}"""
        ),
        mram_rows=64,
    )
    with pytest.raises(DiagnosticException, match="%b .* needs 2 MRAM tiles; 1 MRAM tiles"):
        allocate(module)


def test_bad_options_are_diagnostics():
    module = parse(chain(2))
    with pytest.raises(DiagnosticException, match="mram-base=64 must be a non-negative multiple"):
        allocate(module, mram_base=64)
    with pytest.raises(DiagnosticException, match="fpram-constant-slots=70000"):
        allocate(module, fpram_constant_slots=70000)
    with pytest.raises(DiagnosticException, match="below the 8388608 elements of VRAM"):
        allocate(module, vram_base=131072 * 64)


# the constant pool and scalar arguments --------------------------------------------------


SCALARS = """tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %eps : f32, %scale : f32) {
  %half = arith.constant 5.000000e-01 : f32
  %one = arith.constant 1.000000e+00 : f32
  %half2 = arith.constant 5.000000e-01 : f32
  %unused = arith.constant 3.000000e+00 : f32
  %t = tile.alloc : !tile.buffer<64x64xbf16, vram>
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.mul_scalar %t, %t, %half : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, f32
  tile.reduce_sum %m, %t : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.fp_add %m, %m, %one : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.fp_mul %m, %m, %half2 : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.fp_add %m, %m, %eps : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.mul_scalar %t, %t, %m : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %t to %x : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}"""  # noqa: E501


def test_constants_read_by_tile_ops_get_one_pool_slot_per_value():
    module = allocate(parse(SCALARS), fpram_constant_slots=4)
    pool = FpramPool.of(module)
    assert pool == FpramPool(4, [0.5, 1.0])
    (kernel,) = [k for k in module.walk() if isinstance(k, KernelOp)]
    arguments = {k: v.value.data for k, v in kernel.attributes["fpram_arguments"].data.items()}
    assert arguments == {"eps": 4, "scale": 5}
    assert addresses(module)["m"] == 6
    check_allocation(module, fpram_constant_slots=4)


def test_the_pool_api_grows_and_reports_a_full_pool():
    pool = FpramPool(3, [0.5])
    assert pool.slot(0.5) == 0
    assert pool.slot(float("-inf")) == 1
    assert pool.slot(-0.0) == 2
    assert pool.lookup(0.0) is None  # -0.0 and 0.0 are different bits
    with pytest.raises(DiagnosticException, match="constant pool is full: 3 slots"):
        pool.slot(2.0)
    module = ModuleOp([])
    pool.attach(module)
    assert FpramPool.of(module) == pool


def test_a_full_pool_is_a_diagnostic():
    with pytest.raises(DiagnosticException, match="no room for 1.0; raise .*fpram-constant-slots"):
        allocate(parse(SCALARS), fpram_constant_slots=1)


def test_allocation_is_idempotent_and_keeps_pool_entries_of_later_passes():
    module = allocate(parse(SCALARS))
    first = addresses(module)
    pool = FpramPool.of(module)
    pool.slot(float("-inf"))
    pool.attach(module)
    allocate(module)
    assert addresses(module) == first
    assert FpramPool.of(module).constants == [0.5, 1.0, float("-inf")]


# HBM ----------------------------------------------------------------------------------------


def test_hbm_addresses_match_the_image_of_the_tensor_arguments():
    module = allocate(linear.build(128, 192, 128))
    (kernel,) = [k for k in module.walk() if isinstance(k, KernelOp)]
    placed = {k: v.value.data for k, v in kernel.attributes["hbm_addresses"].data.items()}
    assert list(placed) == ["a", "b", "bias", "c"]
    tensors = [np.zeros(arg.type.get_shape(), np.float32) for arg in kernel.arguments]
    _, image_addresses = build_hbm_image(tensors, target_of(module))
    assert list(placed.values()) == image_addresses
    assert placed["b"] == hbm_footprint(kernel.arguments[0].type, target_of(module))


# the shipped kernels ----------------------------------------------------------------------


KERNELS = {
    "linear": lambda: linear.build(),
    "linear-large": lambda: linear.build(256, 512, 512),
    "linear-ab": lambda: linear.build(128, 128, 128, transpose_b=False),
    "rmsnorm": lambda: rmsnorm.build(),
    "rmsnorm-per-head": lambda: rmsnorm.build(128, 128, 16),
    "softmax": lambda: softmax.build(),
}


@pytest.mark.parametrize("name", KERNELS)
def test_shipped_kernels_allocate_within_the_target(name):
    module = allocate(KERNELS[name]())
    assert all(a.address is not None for a in module.walk() if isinstance(a, AllocOp)), (
        "a buffer without an address"
    )
    check_allocation(module)


def test_allocated_kernels_still_interpret_the_same():
    rng = np.random.default_rng(1)
    inputs = {"x": rng.standard_normal((64, 64)).astype(np.float32)}
    before = interpret_kernel(softmax.build(64, 64), "softmax", inputs)
    after = interpret_kernel(allocate(softmax.build(64, 64)), "softmax", inputs)
    np.testing.assert_array_equal(before["y"], after["y"])


def test_both_passes_are_registered():
    passes = get_all_passes()
    assert passes["plena-infer-memory"]() is InferMemoryPass
    assert passes["plena-allocate-memory"]() is AllocateMemoryPass
