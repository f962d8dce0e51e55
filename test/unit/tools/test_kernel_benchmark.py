"""benchmarks/kernels.py runs (on one kernel, to stay fast) and compares with the published
compiler's instruction counts at the default sizes only."""

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from plena_mlir.kernels import all_kernels

SCRIPT = Path(__file__).parents[3] / "benchmarks" / "kernels.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("kernel_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_json_rows_for_one_kernel():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--kernel", "softmax", "--json"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    softmax = all_kernels()["softmax"]
    assert [row["sizes"] for row in rows] == [
        {**softmax.default_sizes(), **overrides} for overrides in ({}, *softmax.sizes_to_test())
    ]
    for row in rows:
        assert row["check"] == "pass"
        assert row["cycles"] >= row["roofline"] > 0
        assert row["ratio"] == row["cycles"] / row["roofline"]
        assert row["dynamic"] > 0 and row["static"] > 0 and row["published"] is None


def test_published_counts_apply_at_the_default_sizes_only():
    benchmark = load_benchmark()
    as_modulate = dataclasses.replace(all_kernels()["softmax"], name="modulate")
    row = benchmark.measure(as_modulate, {}, "mxfp8")
    assert row["published"] == 7_516
    assert row["vs_published"] == row["dynamic"] / 7_516
    assert benchmark.measure(as_modulate, {"rows": 128}, "mxfp8")["published"] is None
    table = benchmark.format_table([row])
    assert "modulate" in table.splitlines()[2] and "7,516" in table
