"""No machine constant in a kernel or a chain: every tile size, lane count, head width and DMA
row amount comes from the `Target` a kernel is built for.

Two rules, checked on the source of every module of plena_mlir/kernels/ and plena_mlir/chains/:
- no module-level integer constant (a machine size is an integer: `MLEN = 64`, `ROWS = 64`,
  `HLEN = 16`); model dimensions and default sizes live in the functions that use them;
- no machine number read from a fixed target (`DEFAULT_TARGET.mlen`, `PLENA_TVM.hlen`): a
  kernel reads the target it is given.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .source_tree import ROOT  # noqa: TID251

MODULES = sorted(
    path
    for folder in ("kernels", "chains")
    for path in (ROOT / "plena_mlir" / folder).glob("*.py")
)
FIXED_TARGETS = {"DEFAULT_TARGET", "PLENA_TVM"}


def _is_integer_expression(node: ast.expr) -> bool:
    """An int literal, or arithmetic of int literals and such names (`MLEN // HLEN`)."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.BinOp):
        return _is_integer_expression(node.left) and _is_integer_expression(node.right)
    if isinstance(node, ast.UnaryOp):
        return _is_integer_expression(node.operand)
    return False


def machine_constants(path: Path) -> list[str]:
    """`file:line: text` of every violation in the module at `path`."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            if any(_is_integer_expression(v) for v in values):
                found.append((node.lineno, "a module-level integer constant"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in FIXED_TARGETS
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}: a fixed target's number"))
    lines = path.read_text().splitlines()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return [f"{where}:{n}: {why}: {lines[n - 1].strip()}" for n, why in found]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_machine_constant(path: Path):
    found = machine_constants(path)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "source",
    ["MLEN = 64\n", "ROWS, VLEN = 64, 64\n", "LANES = 64 // 16\n", "T: int = 64\n",
     "def f(t):\n    return DEFAULT_TARGET.mlen\n"],
)
def test_each_kind_of_machine_constant_is_caught(tmp_path: Path, source: str):
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert machine_constants(path)
