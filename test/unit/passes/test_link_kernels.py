"""plena-link-kernels' parts: which arguments a kernel reads and writes, the live ranges of a
chain's tensors, the HBM plan, first-fit placement with pinned requests, the addresses
plena-allocate-memory keeps when the linker pins them, and the linked program's stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from plena_mlir.dialects.tile import AllocOp, KernelOp, Tile
from plena_mlir.passes import get_all_passes
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from plena_mlir.passes.link_kernels import LinkKernelsPass
from xdsl.context import Context
from xdsl.dialects.arith import Arith
from xdsl.dialects.builtin import Builtin, DictionaryAttr, IntegerAttr, ModuleOp, i64
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.buffer_liveness import LiveRange
from plena_mlir.backend.emit import module_instructions
from plena_mlir.driver.run import run_chain, run_kernel
from plena_mlir.frontend.chain_builder import ChainBuilder
from plena_mlir.ir.addresses import hbm_footprint
from plena_mlir.kernels import gelu, linear, rmsnorm, silu
from plena_mlir.linking.chain_reading import find_chain, read_chain
from plena_mlir.linking.hbm_plan import plan_hbm
from plena_mlir.linking.kernel_access import tensor_access
from plena_mlir.memory.first_fit import NoRoom, first_fit
from plena_mlir.pipeline import link_chain
from plena_mlir.sim.image import build_hbm_image
from plena_mlir.target import DEFAULT_TARGET

CTX = Context()
for _dialect in (Builtin, Arith, Tile):
    CTX.load_dialect(_dialect)


def kernel_of(module: ModuleOp) -> KernelOp:
    (kernel,) = [op for op in module.body.block.ops if isinstance(op, KernelOp)]
    return kernel


def three_stage_chain() -> ModuleOp:
    """x -> linear -> a -> gelu -> b (viewed 64x8x16) -> rmsnorm -> c -> silu -> out:
    a lives over calls 0-1, b over 1-2, c over 2-3 (so c can take a's bytes)."""
    cb = ChainBuilder("block")
    x, w = cb.tensor("x", (64, 128)), cb.tensor("w", (128, 128))
    bias, nw = cb.tensor("bias", (128,)), cb.tensor("nw", (16,))
    out = cb.tensor("out", (64, 128))
    eps = cb.scalar("eps")
    a = cb.intermediate("a", (64, 128))
    b = cb.intermediate("b", (64, 128))
    c = cb.intermediate("c", (64, 8, 16))
    cb.call(linear.build(64, 128, 128), stage="proj", a=x, b=w, bias=bias, c=a)
    cb.call(gelu.build(rows=64), stage="act", x=a, y=b)
    cb.call(
        rmsnorm.build(rows=64, hidden=128, head_dim=16),
        stage="norm",
        x=cb.view(b, (64, 8, 16)),
        w=nw,
        y=c,
        eps=eps,
    )
    cb.call(silu.build(rows=64), stage="gate", x=cb.view(c, (64, 128)), y=out)
    return cb.module


# reading the chain --------------------------------------------------------------------------


def test_tensor_access_is_what_the_kernel_copies_from_and_to():
    access = tensor_access(kernel_of(linear.build(64, 128, 128)))
    assert access.reads == {"a", "b", "bias"}
    assert access.writes == {"c"}


def test_views_bind_their_source_and_live_ranges_count_calls():
    chain = read_chain(find_chain(three_stage_chain()))
    assert [t.name for t in chain.arguments] == ["x", "w", "bias", "nw", "out"]
    assert chain.scalars == ["eps"]
    assert [c.stage for c in chain.calls] == ["proj", "act", "norm", "gate"]
    assert chain.calls[2].tensors == {"x": "b", "w": "nw", "y": "c"}
    assert chain.calls[2].scalars == {"eps": "eps"}
    assert chain.calls[3].tensors == {"x": "c", "y": "out"}
    live = {t.name: (t.live.start, t.live.end) for t in chain.tensors.values()}
    assert live == {
        "x": (0, 3),
        "w": (0, 3),
        "bias": (0, 3),
        "nw": (0, 3),
        "out": (0, 3),
        "a": (0, 1),
        "b": (1, 2),
        "c": (2, 3),
    }


# the HBM plan -------------------------------------------------------------------------------


def test_arguments_are_the_host_image_and_dead_intermediates_are_reused():
    chain = read_chain(find_chain(three_stage_chain()))
    plan = plan_hbm(chain, DEFAULT_TARGET)
    tensors = [np.zeros(t.typ.get_shape(), np.float32) for t in chain.arguments]
    _, image = build_hbm_image(tensors, DEFAULT_TARGET)
    assert [plan.addresses[t.name] for t in chain.arguments] == image
    a, b, c = (plan.addresses[name] for name in "abc")
    assert a == plan.arguments_end
    assert b == a + hbm_footprint(chain.tensors["a"].typ, DEFAULT_TARGET)
    assert c == a  # a is dead when c is first written


def test_without_reuse_every_intermediate_has_its_own_bytes():
    chain = read_chain(find_chain(three_stage_chain()))
    plan = plan_hbm(chain, DEFAULT_TARGET, reuse_intermediates=False)
    spans = sorted(
        (plan.addresses[t.name], plan.addresses[t.name] + hbm_footprint(t.typ, DEFAULT_TARGET))
        for t in chain.intermediates
    )
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))


@dataclass
class Request:
    units: int
    live: LiveRange
    start: int = -1


def test_first_fit_places_around_pinned_requests():
    pinned = Request(2, LiveRange(0, 9), start=4)
    early = Request(4, LiveRange(0, 1))
    late = Request(2, LiveRange(2, 3))
    first_fit([late, pinned, early], first=2, end=10)
    assert (pinned.start, early.start, late.start) == (4, 6, 2)
    with pytest.raises(NoRoom) as info:
        first_fit([Request(2, LiveRange(0, 9), start=4), Request(7, LiveRange(0, 0))], 2, 10)
    assert info.value.request.units == 7 and [r.start for r in info.value.live] == [4]


# plena-allocate-memory with pinned addresses ------------------------------------------------

PINNED = """
tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>, %y : !tile.tensor<64x64xf32>,
                                 %s : f32, %t : f32) {
  %m = tile.alloc : !tile.buffer<64xf32, fpram>
  %b = tile.alloc : !tile.buffer<64x64xbf16, vram>
  tile.copy %x to %b : !tile.tensor<64x64xf32> to !tile.buffer<64x64xbf16, vram>
  tile.reduce_sum %m, %b : !tile.buffer<64xf32, fpram>, !tile.buffer<64x64xbf16, vram>
  tile.fp_add %m, %m, %s : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.fp_add %m, %m, %t : !tile.buffer<64xf32, fpram>, !tile.buffer<64xf32, fpram>, f32
  tile.mul_scalar %b, %b, %m
      : !tile.buffer<64x64xbf16, vram>, !tile.buffer<64x64xbf16, vram>, !tile.buffer<64xf32, fpram>
  tile.copy %b to %y : !tile.buffer<64x64xbf16, vram> to !tile.tensor<64x64xf32>
}
"""


def pinned_kernel(**attrs: dict[str, int]) -> ModuleOp:
    module = Parser(CTX, PINNED).parse_module()
    for name, values in attrs.items():
        kernel_of(module).attributes[name] = DictionaryAttr(
            {k: IntegerAttr(v, i64) for k, v in values.items()}
        )
    InferMemoryPass().apply(CTX, module)
    return module


def entries(module: ModuleOp, attr: str) -> dict[str, int]:
    return {k: v.value.data for k, v in kernel_of(module).attributes[attr].data.items()}


def test_pinned_addresses_are_kept_and_scratch_starts_above_the_chain_entries():
    module = pinned_kernel(hbm_addresses={"x": 8192, "y": 64}, fpram_arguments={"s": 3, "t": 32})
    AllocateMemoryPass(fpram_chain_entries=2).apply(CTX, module)
    assert entries(module, "hbm_addresses") == {"x": 8192, "y": 64}
    assert entries(module, "fpram_arguments") == {"s": 3, "t": 32}
    (m,) = [a for a in module.walk() if isinstance(a, AllocOp) and a.result.name_hint == "m"]
    assert m.address.value.data == 34  # above the pool (32) and the 2 chain entries


def test_a_pinned_scalar_inside_the_scratch_region_is_not_overwritten():
    module = pinned_kernel(fpram_arguments={"s": 32})
    AllocateMemoryPass().apply(CTX, module)
    assert entries(module, "fpram_arguments") == {"s": 32, "t": 33}
    (m,) = [a for a in module.walk() if isinstance(a, AllocOp) and a.result.name_hint == "m"]
    assert m.address.value.data == 34


@pytest.mark.parametrize(
    "pins, message",
    [
        ({"hbm_addresses": {"x": 0}}, r"hbm_addresses must pin every tensor argument \(x, y\)"),
        ({"hbm_addresses": {"x": 0, "y": 100}}, r"tensor %y is pinned to HBM byte 100, not"),
        (
            {"hbm_addresses": {"x": 0, "y": DEFAULT_TARGET.hbm_bytes - 64}},
            r"tensor %y \(64x64xf32\) does not fit in HBM: pinned to byte \d+ and taking 4608",
        ),
        ({"fpram_arguments": {"x": 3}}, r"fpram_arguments pins x, which is not an f32 argument"),
        (
            {"fpram_arguments": {"s": 65500}},
            r"the scalar argument %s is pinned to FPRAM entry 65500, outside",
        ),
    ],
)
def test_bad_pins_are_diagnosed(pins, message):
    module = pinned_kernel(**pins)
    with pytest.raises(DiagnosticException, match=r"^tile\.kernel @k: " + message):
        AllocateMemoryPass().apply(CTX, module)


# the linked program -------------------------------------------------------------------------


def test_the_pass_is_registered():
    assert get_all_passes()["plena-link-kernels"]() is LinkKernelsPass


def test_stages_cover_the_program_in_call_order():
    module = three_stage_chain()
    linked = link_chain(module)
    assert [(s.name, s.kernel) for s in linked.stages] == [
        ("proj", "linear"),
        ("act", "gelu"),
        ("norm", "rmsnorm"),
        ("gate", "silu"),
    ]
    assert linked.stages[0].first == 0 and linked.stages[-1].end == len(linked.program)
    assert all(s.end == t.first for s, t in zip(linked.stages, linked.stages[1:], strict=False))
    assert linked.program == module_instructions(linked.module)
    assert linked.fpram_arguments == {"eps": 32}
    assert linked.tensors == {
        "x": (64, 128),
        "w": (128, 128),
        "bias": (128,),
        "nw": (16,),
        "out": (64, 128),
    }
    assert {name: shape for name, (_, shape) in linked.intermediates.items()} == {
        "a": (64, 128),
        "b": (64, 128),
        "c": (64, 8, 16),
    }
    assert str(find_chain(module).sym_name.data) == "block"  # the input is left unchanged


def test_a_chain_scalar_argument_reaches_its_kernel():
    linked = link_chain(three_stage_chain(), reuse_intermediates=False)
    rng = np.random.default_rng(3)
    inputs = {
        "x": rng.standard_normal((64, 128)).astype(np.float32),
        "w": (rng.standard_normal((128, 128)) / 12).astype(np.float32),
        "bias": rng.standard_normal(128).astype(np.float32),
        "nw": rng.standard_normal(16).astype(np.float32),
    }
    small = run_chain(linked, {**inputs, "eps": 1e-6}, "fp32").outputs
    large = run_chain(linked, {**inputs, "eps": 1e6}, "fp32").outputs
    np.testing.assert_array_equal(small["b"], large["b"])  # before rmsnorm: the same
    assert np.abs(large["c"]).max() < 0.1 * np.abs(small["c"]).max()  # 1/sqrt(ms + eps)
    outputs, _ = run_kernel(linked, {**inputs, "eps": 1e-6}, "fp32")
    np.testing.assert_array_equal(outputs["out"], small["out"])
