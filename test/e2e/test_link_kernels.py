"""plena-link-kernels end to end: a chain of library kernels linked into one program,
simulated with fp32 and mxfp8 HBM.

    modulate(x, scale, shift) -> h
    linear(h, w, bias) -> q                     (q: 64 x 128)
    rmsnorm(view(q, 64x8x16), norm_w, eps) -> n (per head of 16)
    gelu(view(n, 64x128)) -> out

Checked: every element of every stage against the composition of the kernels' goldens
(each golden quantises its HBM output, which is the next golden's input), the linked program
against the kernels compiled and run one by one (bit for bit: no kernel depends on machine
state another leaves), and the link-time diagnostics of a chain needing more VRAM, HBM or
FPRAM than the target has.
"""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr
from plena_mlir.passes.link_kernels import LinkKernelsPass
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_chain, run_kernel
from plena_mlir.frontend.chain_builder import ChainBuilder
from plena_mlir.kernels import gelu, linear, modulate, rmsnorm
from plena_mlir.pipeline import compile_kernel, link_chain
from plena_mlir.target import DEFAULT_TARGET

ROWS, HEADS, HEAD_DIM = 64, 8, 16
HIDDEN = HEADS * HEAD_DIM
EPS = 1e-6
STAGES = ("modulate", "linear", "rmsnorm", "gelu")


def build_chain(reuse_shapes: bool = True) -> ModuleOp:
    """The chain of the module docstring."""
    cb = ChainBuilder("block")
    x = cb.tensor("x", (ROWS, HIDDEN))
    scale, shift = cb.tensor("scale", (HIDDEN,)), cb.tensor("shift", (HIDDEN,))
    w, bias = cb.tensor("w", (HIDDEN, HIDDEN)), cb.tensor("bias", (HIDDEN,))
    norm_w = cb.tensor("norm_w", (HEAD_DIM,))
    out = cb.tensor("out", (ROWS, HIDDEN))
    h = cb.intermediate("h", (ROWS, HIDDEN))
    q = cb.intermediate("q", (ROWS, HIDDEN))
    n = cb.intermediate("n", (ROWS, HEADS, HEAD_DIM))
    cb.call(modulate.build(rows=ROWS), stage="modulate", x=x, scale=scale, shift=shift, y=h)
    cb.call(linear.build(ROWS, HIDDEN, HIDDEN), stage="linear", a=h, b=w, bias=bias, c=q)
    cb.call(
        rmsnorm.build(rows=ROWS, hidden=HIDDEN, head_dim=HEAD_DIM),
        stage="rmsnorm",
        x=cb.view(q, (ROWS, HEADS, HEAD_DIM)),
        w=norm_w,
        y=n,
        eps=EPS,
    )
    cb.call(gelu.build(rows=ROWS), stage="gelu", x=cb.view(n, (ROWS, HIDDEN)), y=out)
    return cb.module


def make_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    normal = rng.standard_normal
    return {
        "x": normal((ROWS, HIDDEN)).astype(np.float32),
        "scale": (0.5 * normal(HIDDEN)).astype(np.float32),
        "shift": (0.5 * normal(HIDDEN)).astype(np.float32),
        "w": (normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)).astype(np.float32),
        "bias": (0.5 * normal(HIDDEN)).astype(np.float32),
        "norm_w": normal(HEAD_DIM).astype(np.float32),
    }


def golden_stages(inputs, hbm_format) -> dict[str, np.ndarray]:
    """Each stage's HBM output: the kernels' goldens composed."""
    target = DEFAULT_TARGET
    sizes = {**modulate.SPECS[0].default_sizes(), "rows": ROWS}
    h = modulate.golden({k: inputs[k] for k in ("x", "scale", "shift")}, sizes, target, hbm_format)[
        "y"
    ]
    q = linear.golden({"a": h, "b": inputs["w"], "bias": inputs["bias"]}, True, target, hbm_format)[
        "c"
    ]
    n = rmsnorm.golden(
        {"x": q.reshape(ROWS, HEADS, HEAD_DIM), "w": inputs["norm_w"]},
        EPS,
        HEAD_DIM,
        target,
        hbm_format,
    )["y"]
    out = gelu.golden({"x": n.reshape(ROWS, HIDDEN)}, sizes, target, hbm_format)["y"]
    return {"h": h, "q": q, "n": n, "out": out}


@pytest.fixture(scope="module")
def chain() -> ModuleOp:
    return build_chain()


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_every_stage_matches_the_composed_goldens(chain, hbm_format):
    linked = link_chain(chain, reuse_intermediates=False)
    inputs = make_inputs()
    run = run_chain(linked, inputs, hbm_format)
    assert set(run.outputs) == set(inputs) | {"out", "h", "q", "n"}
    expected = golden_stages(inputs, hbm_format)
    for stage, name in zip(STAGES, ("h", "q", "n", "out"), strict=True):
        result = compare(run.outputs[name], expected[name], hbm_format)
        assert result.passed, f"stage {stage} ({name}): {result.describe()}"


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_linked_program_equals_the_kernels_run_one_by_one(chain, hbm_format):
    inputs = make_inputs()
    linked = run_chain(link_chain(chain, reuse_intermediates=False), inputs, hbm_format).outputs
    whole, _ = run_kernel(link_chain(chain), inputs, hbm_format)

    def run(module, kernel_inputs):
        return run_kernel(compile_kernel(module), kernel_inputs, hbm_format)[0]

    h = run(modulate.build(rows=ROWS), {k: inputs[k] for k in ("x", "scale", "shift")})["y"]
    q = run(linear.build(ROWS, HIDDEN, HIDDEN), {"a": h, "b": inputs["w"], "bias": inputs["bias"]})
    q = q["c"]
    n = run(
        rmsnorm.build(rows=ROWS, hidden=HIDDEN, head_dim=HEAD_DIM),
        {"x": q.reshape(ROWS, HEADS, HEAD_DIM), "w": inputs["norm_w"], "eps": EPS},
    )["y"]
    out = run(gelu.build(rows=ROWS), {"x": n.reshape(ROWS, HIDDEN)})["y"]
    for name, alone in {"h": h, "q": q, "n": n, "out": out}.items():
        np.testing.assert_array_equal(linked[name], alone, err_msg=name)
    np.testing.assert_array_equal(whole["out"], out)


def test_run_chain_stage_statistics_add_up_to_the_whole_run(chain):
    linked = link_chain(chain)
    inputs = make_inputs()
    outputs, stats = run_kernel(linked, inputs, "mxfp8")
    run = run_chain(linked, inputs, "mxfp8")
    assert list(run.stage_stats) == list(STAGES)
    assert run.stats.cycles == stats.cycles == sum(s.cycles for s in run.stage_stats.values())
    assert run.stats.instructions == stats.instructions
    assert run.stats.per_opcode == stats.per_opcode
    assert run.stats.hbm_bytes_read == stats.hbm_bytes_read
    np.testing.assert_array_equal(run.outputs["out"], outputs["out"])
    # the intermediates share bytes (n takes h's), so run_chain does not report them
    assert linked.intermediates["n"][0] == linked.intermediates["h"][0]
    assert "h" not in run.outputs


def with_target(module: ModuleOp, **overrides: int) -> ModuleOp:
    """`module` on the default target with some memories resized."""
    module = module.clone()
    module.attributes[TARGET_ATTR_NAME] = TargetAttr(
        DEFAULT_TARGET.name, {k: IntegerAttr(v, i64) for k, v in overrides.items()}
    )
    return module


def test_a_chain_needing_more_vram_than_the_target_names_the_stage_and_buffer(chain):
    # 152 VRAM rows, the top 16 the staging rows: modulate's buffers fit in the other 136,
    # linear's 64x128 a_tile and acc (128 rows each) do not
    with pytest.raises(
        DiagnosticException,
        match=r'^stage "linear" \(@linear\): tile\.alloc %acc \(64x128xbf16, vram\) does not '
        r"fit in VRAM: it needs 128 VRAM rows; 136 VRAM rows are available",
    ):
        link_chain(with_target(chain, vram_rows=152))


def test_a_chain_needing_more_hbm_than_the_target_names_the_tensor(chain):
    linked = link_chain(chain)
    top = max(address for address, _ in linked.intermediates.values())
    with pytest.raises(
        DiagnosticException,
        match=r"intermediate tensor \w+ \(64x128xf32, 9216 bytes\) does not fit in HBM",
    ):
        link_chain(with_target(chain, hbm_bytes=top))


def test_a_chain_needing_more_fpram_than_the_target_names_the_buffer(chain):
    # 320 FPRAM entries: 256 are the spill window, 32 the constant pool; rmsnorm's broadcast
    # staging needs 128 of the other 32 (its pinned %eps is a pool slot, below them)
    with pytest.raises(
        DiagnosticException,
        match=r'^stage "rmsnorm" \(@rmsnorm\): the FPRAM staging of a broadcast lane\.copy does '
        r"not fit in FPRAM: it needs 128 FPRAM entries; 32 FPRAM entries are available .*, 0 "
        r"of them taken",
    ):
        link_chain(with_target(chain, fpram_entries=320))


def test_a_chain_needing_more_constant_pool_slots_names_the_stage(chain):
    linked = link_chain(chain)
    slots = len(linked.fpram_preload) - 1
    with pytest.raises(
        DiagnosticException,
        match=rf"^stage \"\w+\" \(@\w+\): the FPRAM constant pool is full: {slots} slots",
    ):
        LinkKernelsPass(fpram_constant_slots=slots).apply(Context(), chain.clone())
