"""plena-run: the kernel list, a checked run with its report, assembly that plena-sim runs,
.mlir kernels, and one-line errors with exit status 2 for bad input."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from plena_mlir.tools import plena_run, plena_sim

from plena_mlir.analysis.roofline import roofline
from plena_mlir.driver.run import run_kernel
from plena_mlir.kernels import all_kernels, softmax
from plena_mlir.pipeline import compile_kernel
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.errors import SimulationInterrupted
from plena_mlir.sim.stats import Stats
from plena_mlir.target import DEFAULT_TARGET

PLENA_RUN = Path(sys.executable).with_name("plena-run")

REPORT_KEYS = {
    "kernel", "sizes", "passed", "max_abs_error", "mean_abs_error", "cycles",
    "dynamic_instructions", "static_instructions", "roofline_cycles", "compile_seconds",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = plena_run.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys, *argv: str) -> dict:
    status, out, err = run(capsys, *argv, "--json")
    assert (status, err) == (0, ""), err
    return json.loads(out)


def test_list_shows_every_kernel_with_its_default_sizes(capsys):
    status, out, _ = run(capsys, "--list")
    assert status == 0
    for name, spec in all_kernels().items():
        sizes = " ".join(f"{k}={str(v).lower()}" for k, v in spec.default_sizes().items())
        assert f"{name}  " in out and sizes in out and spec.summary in out
    listing = run_json(capsys, "--list")
    assert [e["name"] for e in listing if e["kind"] == "kernel"] == list(all_kernels())
    assert listing[0]["sizes"] == dict(all_kernels()[listing[0]["name"]].default_sizes())


@pytest.mark.parametrize("hbm_format", ["mxfp8", "fp32"])
def test_a_kernel_run_reports_what_compile_and_simulate_give(capsys, hbm_format):
    report = run_json(capsys, "softmax", "--size", "rows=128", "--hbm-format", hbm_format)
    assert REPORT_KEYS <= set(report)
    assert report["kernel"] == "softmax"
    assert report["sizes"] == {"rows": 128, "cols": 64}
    assert report["passed"] is True and report["outputs"]["y"]["passed"] is True
    assert 0 <= report["mean_abs_error"] <= report["max_abs_error"] < 0.01

    sizes = {"rows": 128, "cols": 64}
    module = softmax.build(**sizes)
    compiled = compile_kernel(module)
    inputs = all_kernels()["softmax"].make_inputs(sizes, np.random.default_rng(0), DEFAULT_TARGET)
    _, stats = run_kernel(compiled, inputs, hbm_format)
    assert report["cycles"] == stats.cycles
    assert report["dynamic_instructions"] == stats.instructions
    assert report["static_instructions"] == len(compiled.program)
    assert report["roofline_cycles"] == roofline(module, hbm_format).cycles
    assert report["cycles"] >= report["roofline_cycles"] > 0
    assert report["roofline_ratio"] == pytest.approx(report["cycles"] / report["roofline_cycles"])
    assert report["compile_seconds"] > 0


def test_sizes_as_options_and_as_name_value_pairs_are_the_same(capsys):
    as_options = run_json(capsys, "rmsnorm", "--rows", "64", "--head-dim", "128")
    as_pairs = run_json(capsys, "rmsnorm", "--size", "rows=64", "head-dim=128")
    underscore = run_json(capsys, "rmsnorm", "--head_dim", "128", "--size", "rows=64")
    expected = {"rows": 64, "hidden": 128, "head_dim": 128}
    for report in (as_options, as_pairs, underscore):
        assert report["sizes"] == expected and report["passed"] is True
    assert as_options["cycles"] == as_pairs["cycles"] == underscore["cycles"]


def test_text_report(capsys):
    status, out, _ = run(capsys, "softmax")
    assert status == 0
    assert out.startswith("softmax rows=64 cols=64 (plena-tvm, mxfp8 HBM, seed 0)\n")
    for label in ("result        PASS", "cycles", "roofline", "instructions", "time"):
        assert f"\n{label}" in out


def test_emitted_assembly_runs_on_plena_sim(capsys, tmp_path):
    asm = tmp_path / "softmax.asm"
    report = run_json(capsys, "softmax", "--emit-asm", str(asm))
    assert asm.read_text().count("\n") >= report["static_instructions"]
    status = plena_sim.main([str(asm), "--out-dir", str(tmp_path / "out"), "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert status == 0
    # control flow and the cycle model do not depend on the data: the same run
    assert stats["instructions"] == report["dynamic_instructions"]
    assert stats["cycles"] == report["cycles"]


def test_a_mlir_file_is_checked_against_the_rounded_interpreter(capsys, tmp_path):
    spec = all_kernels()["rmsnorm"]
    path = tmp_path / "rmsnorm.mlir"
    path.write_text(str(spec.build(spec.resolve({"rows": 64}))))
    report = run_json(capsys, str(path), "--scalar", "eps=1e-6", "--seed", "3")
    assert report["kernel"] == "rmsnorm" and report["source"] == str(path)
    assert report["sizes"] == {"x": [64, 8, 16], "w": [16], "y": [64, 8, 16]}
    assert list(report["outputs"]) == ["y"]  # the tensor the kernel writes
    assert report["passed"] is True and report["cycles"] >= report["roofline_cycles"] > 0
    status, _, err = run(capsys, str(path))
    assert status == 2
    assert err == f"plena-run: error: {path}: give the scalar argument eps a value with " \
        "--scalar eps=VALUE\n"


def test_a_failed_comparison_exits_1(capsys, monkeypatch):
    real = all_kernels()["softmax"]

    def wrong_golden(inputs, sizes, target, hbm_format):
        return {"y": 2 * real.golden(inputs, sizes, target, hbm_format)["y"]}

    kernels = {"softmax": dataclasses.replace(real, golden=wrong_golden)}
    monkeypatch.setattr(plena_run, "all_kernels", lambda: kernels)
    status, out, _ = run(capsys, "softmax")
    assert status == 1
    assert "\nresult        FAIL" in out and "differ of 4096 elements" in out


TRUNCATED = "builtin.module {\n  tile.kernel @k grid(%i = 1) args() {\n    tile.exp %t, %t\n"
UNDEFINED = TRUNCATED.replace("%t\n", "%t : !tile.buffer<64x64xbf16, vram>\n  }\n}\n")
MISMATCH = """builtin.module {
  tile.kernel @k grid(%i = 1) args(%x : !tile.tensor<64x64xf32>) {
    %t = tile.alloc : !tile.buffer<64x32xbf16, vram>
    tile.copy %x to %t : !tile.tensor<64x64xf32> to !tile.buffer<64x32xbf16, vram>
  }
}
"""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nosuch"], "unknown kernel 'nosuch' (kernels: "),
        (["softmax", "--size", "depth=3"], "softmax has no size depth (sizes: rows=64, cols=64)"),
        (["softmax", "--rows", "65"], "softmax: rows (65) must be a positive multiple of 64 on "),
        (["softmax", "--size", "rows=x"], "size rows must be an integer, not 'x'"),
        (["softmax", "--size", "rows"], "--size: 'rows' is not NAME=VALUE"),
        (["softmax", "--depth", "3"], "unrecognized arguments: --depth 3"),
        (["softmax", "--target", "nosuch"], "--target: unknown target 'nosuch'"),
        (["softmax", "--scalar", "eps=1"], "softmax has no scalar argument eps"),
        (["softmax", "--seed", "-1"], "argument --seed: '-1' is not a non-negative integer"),
        (["softmax", "--emit-asm", "{tmp}/no/x.asm"], "cannot write '{tmp}/no/x.asm'"),
        ([], "give a KERNEL, a FILE.mlir or --list"),
        (["{tmp}/missing.mlir"], "cannot read '{tmp}/missing.mlir': No such file or directory"),
        (["{tmp}/truncated.mlir"], "{tmp}/truncated.mlir:4:1: Expected ':'"),
        (["{tmp}/undefined.mlir"], "{tmp}/undefined.mlir:6:1: values used but not defined"),
        (["{tmp}/mismatch.mlir"], "tile.copy: shape of src (64x64) does not match dst (64x32)"),
        (["{tmp}/mismatch.mlir", "--size", "rows=1"], "--size applies to library kernels"),
        (["softmax", "--max-instructions", "100"], "more than the instruction budget of 100"),
        (["softmax", "--max-cycles", "100"], "cycles used up the cycle budget of 100"),
        (["softmax", "--max-cycles", "x"], "--max-cycles: 'x' is not a non-negative integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    (tmp_path / "truncated.mlir").write_text(TRUNCATED)
    (tmp_path / "undefined.mlir").write_text(UNDEFINED)
    (tmp_path / "mismatch.mlir").write_text(MISMATCH)
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("plena-run: error: ") and err.count("\n") == 1
    assert message.format(tmp=tmp_path) in err


@pytest.mark.parametrize("argv", [["softmax"], ["ssb", "--tokens", "64", "--heads", "4",
                                                 "--mlp", "128", "--stages"]])
def test_timing_only_reports_the_full_runs_cycles_and_checks_nothing(capsys, argv):
    full = run_json(capsys, *argv)
    fast = run_json(capsys, *argv, "--timing-only")
    assert (fast["timing_only"], fast["passed"], fast["outputs"]) == (True, None, {})
    assert full["timing_only"] is False and full["passed"] is True
    for key in ("cycles", "dynamic_instructions", "roofline_cycles"):
        assert fast[key] == full[key]
    assert [s["cycles"] for s in fast.get("stages", [])] == [
        s["cycles"] for s in full.get("stages", [])]
    status, out, _ = run(capsys, *argv, "--timing-only")
    assert status == 0 and "result        not checked: timing only" in out


def test_a_chain_budget_spans_its_stages(capsys):
    status, out, err = run(capsys, "ssb", "--tokens", "64", "--heads", "4", "--mlp", "128",
                           "--max-cycles", "40000")
    # the stages before rope_q take 38,278 cycles: rope_q's own 3,358 cross 40,000
    assert status == 2 and out == ""
    assert 'stage "rope_q" (@rope): stopped before this instruction' in err
    assert "and 40,001 cycles used up the cycle budget of 40,000" in err


def test_ctrl_c_prints_the_statistics_so_far(capsys, monkeypatch):
    def interrupted(self, program, *options):
        stats = Stats(10, 7, {"S_ADDI_INT": 7}, {"SCALAR_INT": 10}, 0, 0, 0.0)
        raise SimulationInterrupted(3, "S_ADDI_INT gp1, gp1, 3", stats)

    monkeypatch.setattr(Simulator, "run", interrupted)
    status, out, err = run(capsys, "softmax")
    assert status == 130
    assert "cycles           10\ninstructions     7\n" in out
    assert err == ("plena-run: interrupted at pc 3 (S_ADDI_INT gp1, gp1, 3) after 7 "
                   "instructions: the statistics so far\n")


def test_the_console_script(tmp_path):
    result = subprocess.run([str(PLENA_RUN), "softmax", "--json"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"] is True
    result = subprocess.run([str(PLENA_RUN), "softmax", "--cols", "0"], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("plena-run: error: ") and result.stderr.count("\n") == 1
