"""plena-select-gemm's cost model and choice, and every instruction form compiled and run on
the simulator against `gemm_result` (the form's rounding points)."""

import numpy as np
import pytest
from plena_mlir.dialects.tile import AllocOp, GemmOp
from plena_mlir.passes.allocate_memory import AllocateMemoryPass
from plena_mlir.passes.infer_memory import InferMemoryPass
from plena_mlir.passes.select_gemm import SelectGemmPass
from xdsl.context import Context

from plena_mlir.driver.compare import compare
from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.gemm.choice import chosen_form
from plena_mlir.gemm.forms import Form, GemmShape, form_cost, select_form
from plena_mlir.gemm.results import gemm_result
from plena_mlir.ir.addresses import buffer_layout
from plena_mlir.pipeline import compile_kernel
from plena_mlir.sim.api import Simulator
from plena_mlir.target import PLENA_TVM

# cost model -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (GemmShape(128, 128, 128, transposed_b=True), Form.BTMM_LANE_SUM),
        (GemmShape(128, 128, 128, transposed_b=False), Form.BMM_LANE_SUM),
        (GemmShape(64, 64, 64, transposed_b=True), Form.BTMM_LANE_SUM),
        (GemmShape(1, 256, 256, transposed_b=True), Form.BTMV_LANE_SUM),
        (GemmShape(8, 64, 512, transposed_b=True), Form.BTMV_LANE_SUM),
        (GemmShape(1, 64, 64, transposed_b=False), Form.BMM_LANE_SUM),
    ],
)
def test_the_cheapest_form_is_chosen(shape, expected):
    best, costs = select_form(shape, PLENA_TVM)
    assert best.form is expected
    assert [c.cycles for c in costs] == sorted(c.cycles for c in costs)


def test_the_cost_model_counts_instructions_like_plena_isa_8_1():
    # 128^3 A·B^T: 2 x 2 output tiles x 2 K tiles of M_BTMM (64 cycles each), one write-out
    # per output tile, 3 adds per output row of each N tile; M_TMM: (128/2)^2 blocks x 2 K tiles
    shape = GemmShape(128, 128, 128, transposed_b=True)
    btmm = form_cost(Form.BTMM_LANE_SUM, shape, PLENA_TVM)
    assert (btmm.matrix_ops, btmm.write_outs, btmm.vector_adds) == (8, 4, 3 * 128 * 2)
    tmm = form_cost(Form.TMM, shape, PLENA_TVM)
    assert (tmm.matrix_ops, tmm.write_outs) == (8192, 4096)
    assert tmm.cycles > 64 * 8192 > 100 * btmm.cycles


def test_btmv_wins_for_few_rows_and_loses_for_a_full_tile():
    few = GemmShape(4, 128, 128, transposed_b=True)
    full = GemmShape(64, 128, 128, transposed_b=True)
    cost = lambda form, shape: form_cost(form, shape, PLENA_TVM).cycles  # noqa: E731
    assert cost(Form.BTMV_LANE_SUM, few) < cost(Form.BTMM_LANE_SUM, few)
    assert cost(Form.BTMM_LANE_SUM, full) < cost(Form.BTMV_LANE_SUM, full)


def test_accumulate_adds_one_lane_add_per_row():
    plain = form_cost(Form.BTMM_LANE_SUM, GemmShape(64, 64, 64, True), PLENA_TVM)
    acc = form_cost(Form.BTMM_LANE_SUM, GemmShape(64, 64, 64, True, True), PLENA_TVM)
    assert acc.vector_adds - plain.vector_adds == 64


# the pass ---------------------------------------------------------------------------------


def _gemm_kernel(m: int, n: int, k: int, transposed_b: bool, accumulate: bool):
    """c (+)= a·b' with a, b (and c) loaded from HBM; c is left in VRAM (a store moves whole
    groups of 16 rows, the gemm forms are tested with any row count)."""
    with KernelBuilder("gemm") as kb:
        a = kb.tensor("a", (m, k))
        b = kb.tensor("b", (n, k) if transposed_b else (k, n))
        c = kb.tensor("c", (m, n))
        a_v = kb.alloc((m, k), name="a_v")
        b_m = kb.alloc((n, k) if transposed_b else (k, n), "mram", name="b_m")
        c_v = kb.alloc((m, n), name="c_v")
        kb.copy(a[0, 0], a_v)
        kb.copy(b[0, 0], b_m)
        if accumulate:
            kb.copy(c[0, 0], c_v)
        kb.gemm(c_v, a_v, b_m, "mk,nk->mn" if transposed_b else "mk,kn->mn", accumulate)
    return kb.module


def _select(module, form: str | None = None):
    InferMemoryPass().apply(Context(), module)
    SelectGemmPass(form=form).apply(Context(), module)
    module.verify()
    (gemm,) = [op for op in module.walk() if isinstance(op, GemmOp)]
    return gemm


def test_the_pass_records_form_and_reason_and_adds_the_scratch():
    gemm = _select(_gemm_kernel(128, 128, 128, True, False))
    assert chosen_form(gemm) is Form.BTMM_LANE_SUM
    reason = gemm.attributes["plena.gemm"].data["reason"].data
    assert reason.startswith("M_BTMM+lane-sum (8 M_BTMM + 4 write-outs")
    assert "M_TMM (8192 M_TMM" in reason
    assert gemm.scratch is not None and gemm.scratch.type.get_shape() == (256, 64)


def test_the_pass_is_idempotent_and_keeps_a_forced_form():
    module = _gemm_kernel(64, 64, 64, False, False)
    _select(module, "M_MM")
    gemm = _select(module)
    assert chosen_form(gemm) is Form.MM and gemm.scratch is None
    assert str(module).count("tile.alloc") == 3


# every form on the simulator ---------------------------------------------------------------

FORMS = [
    ("M_MM", 6, 64, 128, False, False),
    ("M_MM", 3, 128, 64, False, True),
    ("M_TMM", 5, 128, 64, True, False),
    ("M_TMM", 2, 64, 64, True, True),
    ("M_MV", 1, 128, 128, False, False),
    ("M_MV", 1, 64, 64, False, True),
    ("M_BMM+lane-sum", 80, 64, 128, False, False),
    ("M_BMM+lane-sum", 1, 128, 64, False, True),
    ("M_BTMM+lane-sum", 192, 128, 128, True, False),
    ("M_BTMM+lane-sum", 48, 64, 64, True, True),
    ("M_BTMV+lane-sum", 3, 128, 128, True, False),
    ("M_BTMV+lane-sum", 2, 64, 64, True, True),
]


@pytest.mark.parametrize(("form", "m", "n", "k", "transposed_b", "accumulate"), FORMS)
def test_every_form_computes_the_product_at_its_rounding_points(
    form, m, n, k, transposed_b, accumulate
):
    module = _gemm_kernel(m, n, k, transposed_b, accumulate)
    _select(module, form)
    AllocateMemoryPass().apply(Context(), module)
    (c_alloc,) = [
        op for op in module.walk() if isinstance(op, AllocOp) and op.result.name_hint == "c_v"
    ]
    compiled = compile_kernel(module)  # infer, select and allocate leave the module as it is
    rng = np.random.default_rng(m * n + k)
    inputs = {
        "a": rng.standard_normal((m, k)).astype(np.float32),
        "b": rng.standard_normal((n, k) if transposed_b else (k, n)).astype(np.float32),
        "c": rng.standard_normal((m, n)).astype(np.float32),
    }
    sim = Simulator(PLENA_TVM, "fp32")
    for name, value in inputs.items():
        sim.hbm.write_tensor(compiled.hbm_addresses[name], value)
    sim.load_fpram(compiled.fpram_preload)
    stats = sim.run(compiled.program)
    layout = buffer_layout(c_alloc.result.type, PLENA_TVM)
    rows = sim.read_vram(c_alloc.address.value.data, layout.units)
    blocks = rows.reshape(layout.column_blocks, layout.padded_rows, PLENA_TVM.vlen)
    result_c = np.concatenate(list(blocks), axis=1)[:m, :n]
    bf16 = lambda x: gemm_result(Form.MM, x, np.eye(x.shape[1]), False, PLENA_TVM)  # noqa: E731
    expected = gemm_result(
        Form(form),
        bf16(inputs["a"]),
        inputs["b"],
        transposed_b,
        PLENA_TVM,
        c=bf16(inputs["c"]) if accumulate else None,
    )
    result = compare(result_c, expected, "fp32")
    assert result.passed, f"{form} {m}x{n}x{k}: {result.describe()}"
    assert np.array_equal(result_c, expected), f"{form} {m}x{n}x{k}: not bit for bit"
    assert stats.per_opcode.get(Form(form).matrix_instruction, 0) > 0
