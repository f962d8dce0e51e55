"""The lane matrix ops on the simulator, every element checked against NumPy.

lane.btmm, lane.btmv and lane.gemm (each form plena-select-gemm may choose, with and without
`+=`) are lowered by `lower_lane_matrix` with the other buffers preloaded: each lane.alloc is
placed by a bump allocator, its physical buffer filled in the simulator's VRAM / MRAM, the
ops lowered (lane.for_lanes unrolled, the lane a static int), plena-optimize-scalar and
plena-allocate-registers run, and every element of every buffer compared afterwards: the
results with the product each lane must hold (the machine's rounding points), every other
buffer (and the other lanes' columns of a col_pack result) unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from plena_mlir.dialects import get_all_dialects
from plena_mlir.dialects.lane import AllocOp, ForLanesOp, GemmOp, LaneBufferType
from plena_mlir.dialects.lane.layouts import physical_index
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp, MemorySpace
from plena_mlir.passes.allocate_registers import AllocateRegistersPass
from plena_mlir.passes.optimize_scalar import OptimizeScalarPass
from plena_mlir.passes.select_gemm import SelectGemmPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, SSAValue
from xdsl.parser import Parser
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.emit import module_instructions
from plena_mlir.gemm.forms import Form
from plena_mlir.gemm.results import gemm_result
from plena_mlir.ir.addresses import MramLayout, VramLayout, buffer_layout
from plena_mlir.lowering.emitter import Emitter
from plena_mlir.lowering.lane.matrix import lower_lane_matrix
from plena_mlir.numerics.formats import round_bf16
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.stats import Stats
from plena_mlir.target import Target

L, M, H = 4, 64, 16

COL_VRAM = "!lane.buffer<4x64x16xbf16, vram, col_pack>"
COL_MRAM = "!lane.buffer<4x64x16xbf16, mram, col_pack>"
SLABS = "!lane.buffer<4x64x64xbf16, vram, row_stack>"


# ---------------------------------------------------------------------------------------------
# the harness
# ---------------------------------------------------------------------------------------------


@dataclass
class _Lowering:
    """What lower_lane_matrix uses of a KernelLowering: the target, the emitter, addresses."""

    target: Target
    emitter: Emitter
    addresses: dict[SSAValue, int] = field(default_factory=dict)

    def buffer_address(self, value: SSAValue) -> int:
        return self.addresses[value]


def _parse(text: str, select: str | None = None) -> tuple[ModuleOp, KernelOp]:
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    module = Parser(ctx, text).parse_module()
    SelectGemmPass(form=select).apply(ctx, module)
    module.verify()
    kernel = next(op for op in module.body.block.ops if isinstance(op, KernelOp))
    return module, kernel


def _typ(value: SSAValue) -> LaneBufferType:
    assert isinstance(value.type, LaneBufferType)
    return value.type


def _place(lowering: _Lowering, kernel: KernelOp) -> dict[str, SSAValue]:
    """Addresses for every lane.alloc (VRAM rows and MRAM tiles bumped, a gap row between
    VRAM buffers); the allocs by name."""
    target = lowering.target
    next_unit = {MemorySpace.VRAM: 3, MemorySpace.MRAM: 1}
    named = {}
    for op in kernel.body.block.ops:
        if isinstance(op, AllocOp):
            typ = _typ(op.result)
            layout = buffer_layout(typ.physical, target)
            unit = target.vlen if typ.space is MemorySpace.VRAM else target.mlen**2
            lowering.addresses[op.result] = next_unit[typ.space] * unit
            next_unit[typ.space] += layout.units + 1
            named[op.result.name_hint] = op.result
    return named


def _physical(value: SSAValue, logical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) arrays: where each logical element sits in the physical buffer."""
    typ = _typ(value)
    shape = typ.get_shape()
    index = np.array([physical_index(typ.layout, shape, i) for i in np.ndindex(*shape)])
    return index[:, 0].reshape(logical.shape), index[:, 1].reshape(logical.shape)


def _element_addresses(value: SSAValue, address: int, target: Target) -> np.ndarray:
    """The memory address (VRAM element or MRAM element) of every logical element."""
    typ = _typ(value)
    layout = buffer_layout(typ.physical, target)
    shape = typ.get_shape()
    rows, cols = _physical(value, np.empty(shape))
    assert isinstance(layout, VramLayout | MramLayout)
    offsets = np.vectorize(layout.offset)(rows, cols)
    return address + offsets


def _run(
    text: str,
    values: dict[str, np.ndarray],
    select: str | None = None,
    lanes: tuple[int, ...] = tuple(range(L)),
) -> tuple[dict[str, np.ndarray], Stats, ModuleOp]:
    """Lower the kernel's matrix ops with the named buffers holding `values` (logical shapes),
    the bodies of lane.for_lanes for `lanes` only; every named buffer after the run, the
    statistics, and the module after select-gemm."""
    module, kernel = _parse(text, select)
    target = target_of(module)
    program = Block()
    lowering = _Lowering(target, Emitter(program))
    named = _place(lowering, kernel)
    for op in kernel.body.block.ops:
        if isinstance(op, ForLanesOp):
            for lane in lanes:
                for inner in op.body.block.ops:
                    lower_lane_matrix(lowering, inner, lane)
        elif not isinstance(op, AllocOp):
            lower_lane_matrix(lowering, op, None)
    program_module = ModuleOp([], attributes=dict(module.attributes))
    for op in list(program.ops):
        op.detach()
        program_module.body.block.add_op(op)
    ctx = Context()
    OptimizeScalarPass().apply(ctx, program_module)
    AllocateRegistersPass().apply(ctx, program_module)
    sim = Simulator(target, "fp32")
    vram, mram = sim.state.vram.reshape(-1), sim.state.mram.reshape(-1)
    vram[:] = np.nan  # nothing the program reads is left undefined
    mram[:] = np.nan
    addresses = {}
    for name, value in named.items():
        addresses[name] = _element_addresses(value, lowering.addresses[value], target)
        memory = mram if _typ(value).space is MemorySpace.MRAM else vram
        if name in values:
            x = values[name]
            memory[addresses[name]] = x if memory is mram else round_bf16(x)
    stats = sim.run(module_instructions(program_module))
    results = {}
    for name, value in named.items():
        memory = mram if _typ(value).space is MemorySpace.MRAM else vram
        results[name] = memory[addresses[name]].copy()
    return results, stats, module


def _bf16(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return round_bf16(rng.standard_normal(shape).astype(np.float32))


def _assert_same(actual: np.ndarray, expected: np.ndarray, old: np.ndarray | None = None) -> None:
    """Every element equal (NaN where NaN is expected), but for at most 0.1% a bf16 ulp of the
    result or of the product (`old`: what `+=` added it to) apart, where the f32 summation order
    of the machine's matmul moves a rounding."""
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    with np.errstate(invalid="ignore"):  # inf - inf where C held inf
        product = expected if old is None else expected - old
    number = ~np.isnan(expected)
    actual, expected, product = actual[number], expected[number], product[number]
    differ = actual != expected
    ulp = (np.abs(expected[differ]) + np.abs(product[differ])) * 2.0**-7
    assert np.all(np.abs(actual[differ] - expected[differ]) <= ulp)
    assert np.count_nonzero(differ) <= expected.size // 1000, f"{differ.sum()} elements differ"


def _counts(stats: Stats) -> dict[str, int]:
    return stats.per_opcode


# ---------------------------------------------------------------------------------------------
# lane.btmm / lane.btmv
# ---------------------------------------------------------------------------------------------


def _kernel(body: str, allocs: dict[str, str]) -> str:
    lines = [f"  %{name} = lane.alloc : {typ}" for name, typ in allocs.items()]
    return "tile.kernel @k grid(%g = 1) args() {\n" + "\n".join(lines) + "\n" + body + "\n}\n"


def _scores(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """bf16(q[l] · k[l]ᵀ), the f32 accumulator rounded once."""
    exact = np.einsum("lqd,ljd->lqj", q.astype(np.float64), k.astype(np.float64))
    return round_bf16(exact.astype(np.float32))


def test_btmm_is_one_m_btmm_and_one_write_out() -> None:
    rng = np.random.default_rng(0)
    q, k = _bf16(rng, L, M, H), _bf16(rng, L, M, H)
    text = _kernel(
        f"  lane.btmm %s = %q * %k : {SLABS}, {COL_VRAM}, {COL_MRAM}",
        {"q": COL_VRAM, "k": COL_MRAM, "s": SLABS},
    )
    results, stats, _ = _run(text, {"q": q, "k": k})
    _assert_same(results["s"], _scores(q, k))
    np.testing.assert_array_equal(results["q"], q)
    counts = _counts(stats)
    assert counts["M_BTMM"] == 1 and counts["M_BMM_WO"] == 1
    assert stats.cycles <= M + 1 + 4  # the product, the write-out, two address constants


def test_btmv_writes_lane_l_in_row_l() -> None:
    rng = np.random.default_rng(1)
    q, k = _bf16(rng, L, 1, H), _bf16(rng, L, M, H)
    q1, s1 = (
        "!lane.buffer<4x1x16xbf16, vram, col_pack>",
        "!lane.buffer<4x1x64xbf16, vram, row_stack>",
    )
    text = _kernel(
        f"  lane.btmv %s = %q * %k : {s1}, {q1}, {COL_MRAM}",
        {"q": q1, "k": COL_MRAM, "s": s1},
    )
    results, stats, _ = _run(text, {"q": q, "k": k})
    _assert_same(results["s"], _scores(q, k))
    counts = _counts(stats)
    assert counts["M_BTMV"] == 1 and counts["M_BMV_WO"] == 1


# ---------------------------------------------------------------------------------------------
# lane.gemm
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GemmCase:
    """One per-lane product: c[l] (+)= a[l] · b[l] with these buffer types."""

    name: str
    c: str
    a: str
    b: str
    roles: str = "%c[m, n] {op} %a[m, k] * %b[k, n]"


FLAT_B = "!lane.buffer<64x64xbf16, mram, flat>"
CASES = [
    # flash attention's P·V: P row_stack, V col_pack in MRAM, O col_pack
    GemmCase("pv", COL_VRAM, SLABS, COL_MRAM),
    # one decode row per lane
    GemmCase(
        "pv_decode",
        "!lane.buffer<4x1x16xbf16, vram, col_pack>",
        "!lane.buffer<4x1x64xbf16, vram, row_stack>",
        COL_MRAM,
    ),
    # a weight shared by all lanes, K = 2 tiles of a flat A
    GemmCase(
        "flat_a",
        COL_VRAM,
        "!lane.buffer<64x128xbf16, vram, flat>",
        "!lane.buffer<4x128x16xbf16, mram, col_pack>",
    ),
    GemmCase("flat_b", SLABS, SLABS, FLAT_B),
    GemmCase("flat_b_transposed", SLABS, SLABS, FLAT_B, "%c[m, n] {op} %a[m, k] * %b[n, k]"),
]


def _lane(value: np.ndarray, typ: str, lane: int) -> np.ndarray:
    return value if "flat" in typ else value[lane]


def _gemm_text(case: GemmCase, accumulate: bool) -> str:
    product = case.roles.format(op="+=" if accumulate else "=")
    body = (
        "  lane.for_lanes %l = 4 {\n"
        f"    lane.gemm {product} lane %l : {case.c}, {case.a}, {case.b}\n"
        "  }"
    )
    return _kernel(body, {"a": case.a, "b": case.b, "c": case.c})


def _shape(typ: str) -> tuple[int, ...]:
    return tuple(int(d) for d in typ.split("<")[1].split("x")[:-1])


def _gemm_forms(case: GemmCase) -> list[str | None]:
    transposed = "[n, k]" in case.roles
    one_row = "4x1x" in case.a
    if transposed:
        return [None, "M_TMM", "M_BTMV+lane-sum"]
    return [None, "M_MV" if one_row else "M_MM"]


@pytest.mark.parametrize("accumulate", [False, True], ids=["=", "+="])
@pytest.mark.parametrize(
    ("case", "form"),
    [(case, form) for case in CASES for form in _gemm_forms(case)],
    ids=lambda x: x.name if isinstance(x, GemmCase) else (x or "chosen"),
)
def test_lane_gemm(case: GemmCase, form: str | None, accumulate: bool) -> None:
    rng = np.random.default_rng(7)
    values = {name: _bf16(rng, *_shape(getattr(case, name))) for name in ("a", "b", "c")}
    results, stats, module = _run(_gemm_text(case, accumulate), values, form)
    gemm = next(op for op in module.walk() if isinstance(op, GemmOp))
    chosen = Form(gemm.attributes["plena.gemm"].data["form"].data)
    assert form is None or chosen.value == form
    target = target_of(module)
    transposed = "[n, k]" in case.roles
    expected = values["c"].copy()
    for lane in range(L):
        a, b = _lane(values["a"], case.a, lane), _lane(values["b"], case.b, lane)
        old = expected[lane] if accumulate else None
        expected[lane] = gemm_result(chosen, a, b, transposed, target, old)
    _assert_same(results["c"], expected, values["c"] if accumulate else None)
    np.testing.assert_array_equal(results["a"], values["a"])
    np.testing.assert_array_equal(results["b"], values["b"])


@pytest.mark.parametrize("accumulate", [False, True], ids=["=", "+="])
@pytest.mark.parametrize("form", [None, "M_MM"], ids=["chosen", "M_MM"])
@pytest.mark.parametrize("lane", [0, 2, 3])
def test_one_lane_of_pv_leaves_the_other_heads_alone(
    lane: int, form: str | None, accumulate: bool
) -> None:
    """Only lane `lane`'s gemm runs: its 16 columns of O change, the other heads' do not, even
    where they hold inf and NaN (and the head's own old values are inf or NaN, without +=)."""
    case = CASES[0]
    rng = np.random.default_rng(lane)
    values = {name: _bf16(rng, *_shape(getattr(case, name))) for name in ("a", "b", "c")}
    values["c"][:, ::7, 3] = np.inf
    values["c"][:, ::5, 9] = np.nan
    if accumulate:
        values["c"][lane] = _bf16(rng, M, H)
    results, _, module = _run(_gemm_text(case, accumulate), values, form, lanes=(lane,))
    gemm = next(op for op in module.walk() if isinstance(op, GemmOp))
    chosen = Form(gemm.attributes["plena.gemm"].data["form"].data)
    expected = values["c"].copy()
    old = expected[lane] if accumulate else None
    expected[lane] = gemm_result(
        chosen, values["a"][lane], values["b"][lane], False, target_of(module), old
    )
    _assert_same(results["c"], expected, values["c"] if accumulate else None)
    others = [other for other in range(L) if other != lane]
    np.testing.assert_array_equal(results["c"][others], values["c"][others])


# ---------------------------------------------------------------------------------------------
# diagnostics
# ---------------------------------------------------------------------------------------------


def test_a_col_pack_a_has_no_form() -> None:
    text = _gemm_text(GemmCase("bad", COL_VRAM, COL_VRAM, COL_MRAM), False)
    with pytest.raises(DiagnosticException, match="a is col_pack: a head's A would be H columns"):
        _parse(text)


def test_a_via_plena_tvm_does_not_compute_is_refused() -> None:
    text = _gemm_text(CASES[1], False).replace("lane %l :", "lane %l via M_TMV :")
    with pytest.raises(DiagnosticException, match="no instruction form computes a gemm with M_TMV"):
        _parse(text)


def test_lowering_needs_the_chosen_form() -> None:
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    module = Parser(ctx, _gemm_text(CASES[0], False)).parse_module()
    gemm = next(op for op in module.walk() if isinstance(op, GemmOp))
    lowering = _Lowering(target_of(module), Emitter(Block()))
    with pytest.raises(DiagnosticException, match="no instruction chosen: run plena-select-gemm"):
        lower_lane_matrix(lowering, gemm, 0)
