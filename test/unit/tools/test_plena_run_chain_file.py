"""plena-run FILE.mlir for a module holding a `tile.chain`: linked, run stage by stage and
checked, every element, against the chain interpreter (`interpret_chain`); `--stages`
checks every stage's outputs; bad chains are one error line with exit status 2."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from plena_mlir.tools import plena_run, plena_sim

from plena_mlir.driver import chain_check
from plena_mlir.driver.kernel_check import parse_mlir_file
from plena_mlir.driver.run import run_chain
from plena_mlir.frontend.chain_builder import ChainBuilder
from plena_mlir.interp import interpret_chain
from plena_mlir.kernels import all_kernels, gelu, linear, modulate
from plena_mlir.pipeline import link_chain
from plena_mlir.target import DEFAULT_TARGET

ROOT = Path(__file__).resolve().parents[3]
LINKER_LIT = ROOT / "test/lit/passes/plena-link-kernels.mlir"
EXAMPLE = ROOT / "examples/chains/scale_shift.mlir"


def four_calls() -> str:
    """The linker's lit chain: @scale and @shift called four times, a view, a constant and
    the f32 argument %alpha."""
    text = LINKER_LIT.read_text()
    return re.search(r"^builtin\.module \{.*?^\}$", text, re.S | re.M).group(0) + "\n"


def modulate_linear_gelu() -> str:
    """Library kernels written out by ChainBuilder: modulate -> linear (n 128) -> gelu over
    the linear output seen as 128 x 64 through a view."""
    cb = ChainBuilder("mlp")
    x, scale, shift = cb.tensor("x", (64, 64)), cb.tensor("scale", (64,)), cb.tensor("shift", (64,))
    w, bias, y = cb.tensor("w", (128, 64)), cb.tensor("bias", (128,)), cb.tensor("y", (128, 64))
    hm, h = cb.intermediate("hm", (64, 64)), cb.intermediate("h", (64, 128))
    cb.call(modulate.build(rows=64, heads=4, head_dim=16, o_heads=4), stage="modulate",
            x=x, scale=scale, shift=shift, y=hm)
    cb.call(linear.build(m=64, n=128, k=64), stage="linear", a=hm, b=w, bias=bias, c=h)
    cb.call(gelu.build(rows=128, heads=4, head_dim=16, o_heads=4), stage="gelu",
            x=cb.view(h, (128, 64)), y=y)
    return str(cb.module)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = plena_run.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *argv: str) -> dict:
    status, out, err = run(capsys, *argv, "--json")
    assert (status, err) == (0, ""), err
    return json.loads(out)


@pytest.fixture
def four(tmp_path) -> Path:
    path = tmp_path / "four.mlir"
    path.write_text(four_calls())
    return path


@pytest.fixture
def mlp(tmp_path) -> Path:
    path = tmp_path / "mlp.mlir"
    path.write_text(modulate_linear_gelu())
    return path


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_a_chain_file_matches_the_chain_interpreter(capsys, four, hbm_format):
    report = run_json(capsys, str(four), "--scalar", "alpha=0.75", "--hbm-format", hbm_format)
    assert report["chain"] == "block" and report["source"] == str(four)
    assert report["sizes"] == {"x": [64, 64], "out": [64, 64]}
    assert list(report["outputs"]) == ["out"]  # the chain argument a call writes
    assert report["passed"] is True and report["outputs"]["out"]["bad_elements"] == 0
    assert report["outputs"]["out"]["elements"] == 64 * 64
    assert report["stage_checks"] is False
    assert [s["name"] for s in report["stages"]] == ["first", "second", "third", "fourth"]
    assert [s["kernel"] for s in report["stages"]] == ["scale", "shift", "shift", "scale"]

    module = parse_mlir_file(four)
    x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    chain_run = run_chain(link_chain(module), {"x": x, "alpha": 0.75}, hbm_format)
    assert report["cycles"] == chain_run.stats.cycles
    for stage in report["stages"]:
        assert stage["cycles"] == chain_run.stage_stats[stage["name"]].cycles
        assert stage["roofline_cycles"] > 0 and stage["passed"] is None
    assert report["link_seconds"] > 0


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_stages_checks_every_intermediate(capsys, four, hbm_format):
    report = run_json(capsys, str(four), "--stages", "--scalar", "alpha=-2",
                      "--hbm-format", hbm_format)
    assert report["passed"] is True and report["stage_checks"] is True
    writes = {s["name"]: list(s["outputs"]) for s in report["stages"]}
    assert writes == {"first": ["a"], "second": ["b"], "third": ["c"], "fourth": ["out"]}
    for stage in report["stages"]:
        assert stage["passed"] is True
        for output in stage["outputs"].values():
            assert output["bad_elements"] == 0 and output["elements"] == 4096


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_library_kernels_written_by_chain_builder(capsys, mlp, hbm_format):
    report = run_json(capsys, str(mlp), "--stages", "--hbm-format", hbm_format, "--seed", "5")
    assert report["passed"] is True
    assert list(report["outputs"]) == ["y"] and report["outputs"]["y"]["elements"] == 128 * 64
    assert [(s["name"], s["writes"]) for s in report["stages"]] == [
        ("modulate", ["hm"]), ("linear", ["h"]), ("gelu", ["y"])]
    assert all(s["passed"] for s in report["stages"])


@pytest.mark.parametrize("hbm_format", ["fp32", "mxfp8"])
def test_the_chain_interpreter_composes_the_kernel_goldens(mlp, hbm_format):
    """interpret_chain, checked independently: the library kernels' goldens chained by hand,
    each reading the previous one's HBM result (the view a reshape)."""
    module = parse_mlir_file(mlp)
    rng = np.random.default_rng(1)
    inputs = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in
              {"x": (64, 64), "scale": (64,), "shift": (64,), "w": (128, 64),
               "bias": (128,)}.items()}
    values = interpret_chain(module, inputs, mode="rounded", hbm_format=hbm_format)
    assert list(values) == ["x", "scale", "shift", "w", "bias", "y", "hm", "h"]

    kernels = all_kernels()

    def golden(name, kernel_inputs, **sizes):
        spec = kernels[name]
        return spec.golden(kernel_inputs, spec.resolve(sizes), DEFAULT_TARGET, hbm_format)

    hm = golden("modulate", {k: inputs[k] for k in ("x", "scale", "shift")},
                rows=64, heads=4, head_dim=16, o_heads=4)["y"]
    h = golden("linear", {"a": hm, "b": inputs["w"], "bias": inputs["bias"]},
               m=64, n=128, k=64)["c"]
    y = golden("gelu", {"x": h.reshape(128, 64)}, rows=128, heads=4, head_dim=16,
               o_heads=4)["y"]
    np.testing.assert_array_equal(values["hm"], hm)
    np.testing.assert_array_equal(values["h"], h)
    np.testing.assert_array_equal(values["y"], y)


def test_the_example_chain(capsys, tmp_path):
    asm = tmp_path / "chain.asm"
    status, out, err = run(capsys, str(EXAMPLE), "--scalar", "s=0.5", "--stages",
                           "--emit-asm", str(asm))
    assert (status, err) == (0, "")
    assert "scale_shift x=64x64 out=32x128 (plena-tvm, mxfp8 HBM" in out
    assert "result        PASS (every stage)" in out
    assert re.search(r"^scale +scale .* pass$", out, re.M)
    assert "; stage scale (@scale)" in asm.read_text()
    assert plena_sim.main([str(asm), "--out-dir", str(tmp_path), "--json"]) == 0


def test_a_wrong_stage_is_named_and_exits_1(capsys, four, monkeypatch):
    real = chain_check.interpret_chain

    def wrong_b(*args, **kwargs):
        values = real(*args, **kwargs)
        return {**values, "b": values["b"] + 1.0}

    monkeypatch.setattr(chain_check, "interpret_chain", wrong_b)
    status, out, _ = run(capsys, str(four), "--stages", "--scalar", "alpha=1")
    assert status == 1
    assert "stage second, b: " in out and "FAIL (stages failing: second)" in out


BROKEN_CALLEE = """builtin.module {
  tile.chain @c args(%x : !tile.tensor<64x64xf32>) {
    tile.call @nosuch(%x) stage "s" : (!tile.tensor<64x64xf32>) -> ()
  }
}
"""


def read_before_written() -> str:
    """The four-call chain with "second" reading c, which "third" writes later."""
    return four_calls().replace("tile.call @shift(%a, %b)", "tile.call @shift(%cv, %b)").replace(
        '    %cv = tile.view %c : !tile.tensor<32x128xf32> to !tile.tensor<64x64xf32>\n', ""
    ).replace("%three = arith.constant",
              "%cv = tile.view %c : !tile.tensor<32x128xf32> to !tile.tensor<64x64xf32>\n"
              "    %three = arith.constant")


def two_chains() -> str:
    """The four-call chain and a copy of it, @block2: a module may hold one chain."""
    text = four_calls()
    chain = text[text.index("  tile.chain") : text.rindex("}")]
    return text[: text.rindex("}")] + chain.replace("@block", "@block2") + "}\n"


@pytest.mark.parametrize(
    "text, argv, message",
    [
        ("four", [], "{path}: give the scalar argument alpha a value with --scalar alpha=VALUE"),
        ("four", ["--scalar", "alpha=1", "beta=2"],
         "{path}: @block has no scalar argument beta (scalars: alpha)"),
        ("four", ["--scalar", "alpha=1", "--size", "x=1"], "--size applies to library kernels"),
        ("truncated", [], "{path}:3:"),
        ("callee", [], "{path}: tile.call @nosuch (stage 's'): there is no tile.kernel @nosuch"),
        ("two", ["--scalar", "alpha=1"], "exactly one tile.chain (the program), got 2"),
        ("early", ["--scalar", "alpha=1"],
         '{path}: stage "second" (@shift) reads the intermediate tensor c'),
        ("kernel", ["--stages"], "--stages applies to chains; {path} holds no tile.chain"),
    ],
)
def test_a_bad_chain_is_one_line_and_exit_2(capsys, tmp_path, text, argv, message):
    texts = {
        "four": four_calls(),
        "truncated": "\n".join(four_calls().splitlines()[:3]),
        "callee": BROKEN_CALLEE,
        "early": read_before_written(),
        "kernel": four_calls().split("  tile.chain")[0] + "}\n",
        "two": two_chains(),
    }
    path = tmp_path / f"{text}.mlir"
    path.write_text(texts[text])
    status, out, err = run(capsys, str(path), *argv)
    assert status == 2 and out == ""
    assert err.startswith("plena-run: error: ") and err.count("\n") == 1
    assert message.format(path=path) in err
