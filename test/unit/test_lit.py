"""Runs the lit/FileCheck suite from pytest, one pytest item per lit file, so `pytest` is the
one command that tests all and a failure names its file (`test_lit_file[passes/x.mlir]`).

Each item runs lit on its one file (`lit -v FILE`, which finds test/lit/lit.cfg); a failure
shows lit's output for that file: the RUN lines, the command that failed and FileCheck's
diagnostic."""

import subprocess
import sys
from pathlib import Path

import pytest

LIT_DIR = Path(__file__).resolve().parents[1] / "lit"
#: What lit.cfg takes as tests: its `suffixes`, outside its `excludes` (the Inputs folders).
LIT_FILES = sorted(
    path
    for suffix in (".mlir", ".asm")
    for path in LIT_DIR.rglob(f"*{suffix}")
    if "Inputs" not in path.relative_to(LIT_DIR).parts
)


def test_the_lit_suite_has_files():
    assert len(LIT_FILES) > 30


@pytest.mark.parametrize("path", LIT_FILES, ids=lambda p: str(p.relative_to(LIT_DIR)))
def test_lit_file(path: Path):
    result = subprocess.run(
        [sys.executable, "-c", "from lit.main import main; main()", "-v", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"lit failed on {path}:\n{result.stdout}\n{result.stderr}"
    assert "Passed: 1" in result.stdout or "1 Passed" in result.stdout, result.stdout
