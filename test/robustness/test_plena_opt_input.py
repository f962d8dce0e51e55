"""plena-opt on hostile input: pipeline mistakes and deeply nested regions are one error line
naming what is wrong, exit status 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

PLENA_OPT = Path(sys.executable).with_name("plena-opt")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLENA_OPT), *args], capture_output=True, text=True)


@pytest.fixture
def empty(tmp_path) -> Path:
    path = tmp_path / "empty.mlir"
    path.write_text("builtin.module {}\n")
    return path


@pytest.mark.parametrize(
    "pipeline, message",
    [
        ("nosuch-pass", "-p 'nosuch-pass': Unrecognized passes: ['nosuch-pass']"),
        ("plena-select-gemm{nosuch=1}", 'Provided arguments ["nosuch"] not found'),
        ("plena-allocate-memory{vram-base=abc}", "Incompatible types: given ('abc',)"),
        ("a,,b", "-p 'a,,b': column 3: expected pass name here"),
        ("plena-select-gemm{", "column 19: expected argument name here"),
        ("plena-compile{x=1}", "plena-compile takes no options"),
    ],
)
def test_pipeline_mistakes_are_one_line(empty: Path, pipeline: str, message: str):
    result = run(str(empty), "-p", pipeline)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("plena-opt: error: ")
    assert message in lines[0]


def _nested(depth: int) -> str:
    return "builtin.module {" * depth + "}" * depth + "\n"


def test_a_few_hundred_nested_regions_are_processed(tmp_path):
    path = tmp_path / "deep.mlir"
    path.write_text(_nested(600))
    result = run(str(path))
    assert result.returncode == 0, result.stderr


def test_nesting_beyond_the_limit_is_one_line(tmp_path):
    path = tmp_path / "deeper.mlir"
    path.write_text(_nested(6000))
    result = run(str(path))
    assert result.returncode == 2
    assert result.stderr == f"plena-opt: error: {path}: regions nested too deeply to process\n"
