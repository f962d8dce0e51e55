"""Every script of benchmarks/ runs in its `--quick` mode and succeeds, so none can rot
(a benchmark is measured by hand, but it must keep working on every commit)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).parents[3] / "benchmarks").glob("*.py"))


def test_there_are_benchmarks():
    assert {p.stem for p in BENCHMARKS} >= {"kernels", "chains", "sim_throughput", "startup",
                                            "compile_time"}


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_runs_quick(script: Path):
    result = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True
    )
    assert result.returncode == 0, f"{script.name} --quick failed:\n{result.stderr}"
    assert len(result.stdout.splitlines()) >= 2, result.stdout
