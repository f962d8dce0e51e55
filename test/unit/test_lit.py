"""Runs the lit/FileCheck suite from pytest, so `pytest` is the one command that tests all."""

import subprocess
import sys
from pathlib import Path

LIT_DIR = Path(__file__).resolve().parents[1] / "lit"


def test_lit_suite_passes():
    result = subprocess.run(
        [sys.executable, "-c", "from lit.main import main; main()", "-q", str(LIT_DIR)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"lit failed:\n{result.stdout}\n{result.stderr}"
