"""Fixtures of the semantic tests, and the `covers` marker check.

Each test declares the opcodes whose semantics it checks with
`@pytest.mark.covers("M_MM", ...)`.  test_opcode_coverage.py requires every mnemonic of
TVM_ISA to be declared somewhere; the autouse fixture below requires a passing test to have
actually executed (on the reference model, through the harness) every opcode it declares.
"""

from __future__ import annotations

import numpy as np
import pytest

from plena_mlir.target import PLENA_TVM

from .harness import EXECUTED, Harness


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "covers(*mnemonics): opcodes whose semantics the test checks"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.call_passed = report.passed


@pytest.fixture(autouse=True)
def _declared_opcodes_are_executed(request):
    EXECUTED.clear()
    yield
    if not getattr(request.node, "call_passed", False):
        return
    declared = {m for mark in request.node.iter_markers("covers") for m in mark.args}
    missing = declared - EXECUTED
    assert not missing, f"test declares it covers {sorted(missing)} but never executed them"


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A generator seeded from the test's name, so every test has its own fixed data."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.name)) % (1 << 32)
    return np.random.default_rng(seed)


@pytest.fixture
def machine():
    """A factory: machine(target=PLENA_TVM, hbm_format="mxfp8") -> Harness."""

    def make(target=PLENA_TVM, hbm_format="mxfp8") -> Harness:
        return Harness(target, hbm_format)

    return make
