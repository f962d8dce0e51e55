"""The SingleStreamBlock chain (`plena_mlir.chains.ssb`) linked into one program, simulated and
compared element by element with its golden (the kernels' goldens composed, quantised at every
HBM hand-off): the block output with fp32 and mxfp8 HBM, every stage's output from one run
linked with an address per intermediate, and `plena-run ssb`."""

import json

import numpy as np
import pytest
from plena_mlir.tools import plena_run

from plena_mlir.chains import all_chains
from plena_mlir.driver.compare import compare
from plena_mlir.driver.run import run_chain
from plena_mlir.pipeline import link_chain
from plena_mlir.target import DEFAULT_TARGET

SSB = all_chains()["ssb"]
SIZES = SSB.resolve()
STAGES = SSB.stages(SIZES)


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    return SSB.make_inputs(SIZES, np.random.default_rng(0), DEFAULT_TARGET)


@pytest.fixture(scope="module")
def linked():
    """The block linked as the machine runs it: intermediates share HBM by liveness."""
    return link_chain(SSB.build(SIZES))


@pytest.fixture(scope="module")
def staged_run(inputs):
    """One mxfp8 run linked with an address per intermediate, and the golden."""
    staged = link_chain(SSB.build(SIZES), reuse_intermediates=False)
    return run_chain(staged, inputs, "mxfp8"), SSB.golden(inputs, SIZES, staged.target, "mxfp8")


def reference(inputs: dict[str, np.ndarray], heads: int, head_dim: int, eps=1e-6) -> np.ndarray:
    """The block in float64, written independently of the chain: the maths, no rounding."""
    f = {name: np.asarray(value, np.float64) for name, value in inputs.items()}
    x = f["x"]
    tokens = x.shape[0]
    h = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)
    hm = (1 + f["mod_scale"]) * (h * f["ln_gamma"] + f["ln_beta"]) + f["mod_shift"]
    q, k, v, mlp = (hm @ f[f"w{p}"].T + f[f"b{p}"] for p in ("q", "k", "v", "_mlp"))
    angle = np.arange(tokens)[:, None] * 10000.0 ** (-2.0 * np.arange(head_dim // 2) / head_dim)
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]

    def qk_norm_rope(t: np.ndarray, w: np.ndarray) -> np.ndarray:
        t = t.reshape(tokens, heads, head_dim)
        t = t / np.sqrt((t * t).mean(-1, keepdims=True) + eps) * w
        even, odd = t[..., 0::2], t[..., 1::2]
        rotated = np.empty_like(t)
        rotated[..., 0::2] = even * cos - odd * sin
        rotated[..., 1::2] = odd * cos + even * sin
        return rotated

    qr, kr = qk_norm_rope(q, f["q_norm"]), qk_norm_rope(k, f["k_norm"])
    scores = np.einsum("shd,thd->hst", qr, kr) / np.sqrt(head_dim)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    attn = np.einsum("hst,thd->shd", p, v.reshape(tokens, heads, head_dim)).reshape(tokens, -1)
    act = 0.5 * mlp * (1 + np.tanh(np.sqrt(2 / np.pi) * (mlp + 0.044715 * mlp**3)))
    proj = np.concatenate([attn, act], axis=1) @ f["w2"].T + f["b2"]
    return x + f["gate"] * proj


@pytest.mark.parametrize("hbm_format, bound", [("fp32", 0.01), ("mxfp8", 0.1)])
def test_the_golden_computes_the_block(inputs, hbm_format, bound) -> None:
    """The composed golden is the SSB: within the machine's rounding (measured 0.4 % with
    fp32 HBM, 6 % with mxfp8) of the float64 block; a mis-wired stage (k for v, a missing
    rope) is off by tens of percent."""
    golden = SSB.golden(inputs, SIZES, DEFAULT_TARGET, hbm_format)["out"]
    exact = reference(inputs, SIZES["heads"], SIZES["head_dim"])
    assert np.linalg.norm(golden - exact) / np.linalg.norm(exact) < bound


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_the_block_matches_its_golden(inputs, linked, hbm_format) -> None:
    run = run_chain(linked, inputs, hbm_format)
    golden = SSB.golden(inputs, SIZES, linked.target, hbm_format)
    result = compare(run.outputs["out"], golden["out"], hbm_format)
    assert result.passed, f"ssb {SIZES}, output out: {result.describe()}"
    assert list(run.stage_stats) == [call.stage for call in STAGES]
    assert sum(s.cycles for s in run.stage_stats.values()) <= run.stats.cycles


@pytest.mark.parametrize("stage", STAGES, ids=[call.stage for call in STAGES])
def test_every_stage_matches_its_golden(staged_run, stage) -> None:
    run, golden = staged_run
    for tensor in stage.writes:
        result = compare(run.outputs[tensor], golden[tensor], "mxfp8")
        if not result.passed:
            pytest.fail(f"stage {stage.stage} ({stage.kernel}) wrote {tensor}: "
                        f"{result.describe()}")


def test_plena_run_ssb_reports_every_stage(capsys) -> None:
    status = plena_run.main(["ssb", "--stages", "--json"])
    out, err = capsys.readouterr()
    assert (status, err) == (0, ""), err
    report = json.loads(out)
    assert report["chain"] == "ssb" and report["passed"] is True
    assert report["outputs"]["out"]["elements"] == SIZES["tokens"] * 128
    stages = report["stages"]
    assert [s["name"] for s in stages] == [call.stage for call in STAGES]
    for stage in stages:
        assert stage["passed"] is True and set(stage["outputs"]) == set(stage["writes"])
        assert stage["cycles"] >= stage["roofline_cycles"] > 0
    assert sum(s["cycles"] for s in stages) <= report["cycles"]
    assert report["cycles"] >= report["roofline_cycles"] > 0
    assert report["link_seconds"] > 0


def test_a_wrong_stage_is_named(capsys, monkeypatch) -> None:
    """plena-run --stages names the stage whose output differs (here qn, made wrong in the
    golden) and exits 1."""

    class WrongQn(type(SSB)):
        def golden(self, inputs, sizes, target, hbm_format):
            expected = super().golden(inputs, sizes, target, hbm_format)
            return {**expected, "qn": 2 * expected["qn"]}

    wrong = WrongQn(SSB.name, SSB.summary, SSB.sizes, SSB.plan, SSB.make_inputs)
    monkeypatch.setattr(plena_run, "all_chains", lambda: {"ssb": wrong})
    status = plena_run.main(["ssb", "--stages", "--hbm-format", "fp32"])
    out, _ = capsys.readouterr()
    assert status == 1
    assert "stage rmsnorm_q, qn: " in out and "FAIL (stages failing: rmsnorm_q)" in out
