"""Every mnemonic of TVM_ISA has a semantic test.

Coverage is read from the `covers` markers of the test functions of this folder (on the
function or on its parameters); conftest.py separately checks that a passing test really
executed every opcode it declares.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from plena_mlir.isa.opcodes import TVM_ISA


def _marks_of(function) -> list:
    marks = list(getattr(function, "pytestmark", []))
    for mark in list(marks):
        if mark.name == "parametrize":
            for param in mark.args[1]:
                marks += list(getattr(param, "marks", ()))
    return marks


def declared_coverage() -> dict[str, set[str]]:
    """mnemonic -> names of the tests declaring that they cover it."""
    covered: dict[str, set[str]] = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f".{path.stem}", __package__)
        for name, function in vars(module).items():
            if not name.startswith("test_") or not callable(function):
                continue
            for mark in _marks_of(function):
                if mark.name == "covers":
                    for mnemonic in mark.args:
                        covered.setdefault(mnemonic, set()).add(f"{path.stem}::{name}")
    return covered


def test_every_tvm_opcode_has_a_semantic_test():
    covered = declared_coverage()
    missing = sorted(set(TVM_ISA) - set(covered))
    assert not missing, f"opcodes without a semantic test: {missing}"
    assert len(TVM_ISA) == 57


def test_declared_mnemonics_exist():
    unknown = sorted(set(declared_coverage()) - set(TVM_ISA))
    assert not unknown, f"tests declare coverage of unknown mnemonics: {unknown}"
