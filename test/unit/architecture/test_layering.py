"""The layering rules of docs/index.md ("Layering"), checked on the import graph.

The graph is read from the source with `ast`: every `import` and `from ... import` of a
`plena_mlir` module, at module level or inside a function (a lazy import is still a
dependency).  Each module belongs to an area: the sub-package of `plena_mlir` it is in
(`lowering`, `sim`, ...), or its own name for the top-level modules (`pipeline`, `target`).
A rule names the areas it binds and what they may (or may not) import; a violation is
reported as `importer -> imported (file:line)`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import pytest

from .source_tree import ROOT, source_modules  # noqa: TID251


def area(module: str) -> str:
    """`plena_mlir.lowering.tile.gemm` -> `lowering`; `plena_mlir.pipeline` -> `pipeline`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "plena_mlir"


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    where: str


def import_edges() -> list[Edge]:
    """Every import of a plena_mlir module by a plena_mlir module."""
    edges = []
    for name, path in source_modules().items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            for imported in _imported(node, name, is_package):
                if imported.startswith("plena_mlir"):
                    edges.append(Edge(name, imported, where))
    return edges


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:  # relative: resolve against the importing module's package
        package = module.split(".")
        base = package if is_package else package[:-1]
        base = base[: len(base) - node.level + 1]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module or ""
    # `from plena_mlir.kernels import rope` imports the module plena_mlir.kernels.rope
    return [stem] + [f"{stem}.{alias.name}" for alias in node.names]


@dataclass(frozen=True)
class Rule:
    """Modules of `areas` may import, of the plena_mlir areas, only `only` (when given) and
    never `never`."""

    name: str
    areas: frozenset[str]
    only: frozenset[str] | None = None
    never: frozenset[str] = frozenset()

    def broken_by(self, edge: Edge) -> bool:
        if area(edge.importer) not in self.areas:
            return False
        target = area(edge.imported)
        if target in self.never:
            return True
        return self.only is not None and target not in self.only


def _areas(*names: str) -> frozenset[str]:
    return frozenset(names)


#: Every area of the compiler proper: what must not need the simulator to run.
COMPILER = _areas(
    "ir", "analysis", "memory", "frontend", "lanes", "gemm", "lowering", "backend", "linking",
    "dialects", "passes", "pipeline", "kernels", "chains", "interp", "numerics", "isa", "target",
    "universe",
)

RULES = (
    Rule(
        "only passes/, the pipeline and the registry (universe) import passes",
        COMPILER - _areas("passes", "pipeline", "universe") | _areas("driver", "tools"),
        never=_areas("passes"),
    ),
    Rule("compiler code never imports the simulator", COMPILER, never=_areas("sim")),
    Rule(
        "kernels import only the front end, the dialects, gemm, numerics and the target",
        _areas("kernels"),
        only=_areas("kernels", "frontend", "dialects", "gemm", "numerics", "target"),
    ),
    Rule(
        "chains import only kernels, what kernels may, and the linker's access analysis",
        _areas("chains"),
        only=_areas(
            "chains", "kernels", "frontend", "dialects", "gemm", "numerics", "target", "linking"
        ),
    ),
    Rule(
        "the simulator imports only the ISA, numerics and the target (it starts without xDSL)",
        _areas("sim"),
        only=_areas("sim", "isa", "numerics", "target"),
    ),
    Rule(
        "the dialects import only the ISA and the target",
        _areas("dialects"),
        only=_areas("dialects", "isa", "target"),
    ),
    Rule(
        "nothing but tools imports tools (they hold argparse and printing only)",
        COMPILER | _areas("sim", "driver"),
        never=_areas("tools"),
    ),
)


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_edges()


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_layering_rule_holds(rule: Rule, edges: list[Edge]):
    broken = [f"{e.importer} -> {e.imported} ({e.where})" for e in edges if rule.broken_by(e)]
    assert not broken, f"{rule.name}:\n  " + "\n  ".join(broken)


def test_the_graph_sees_lazy_and_relative_imports(edges: list[Edge]):
    pairs = {(e.importer, e.imported) for e in edges}
    # passes/__init__.py imports each pass inside a factory function
    assert ("plena_mlir.passes", "plena_mlir.passes.select_gemm") in pairs
    assert ("plena_mlir.kernels.rope", "plena_mlir.kernels.elementwise") in pairs


@pytest.mark.parametrize(
    "importer, imported",
    [
        # the violations the layout issue found, each caught by a rule
        ("plena_mlir.lowering.tile.gemm", "plena_mlir.passes.select_gemm"),
        ("plena_mlir.interp.tile_functions", "plena_mlir.passes.expand_lanes"),
        ("plena_mlir.kernels.rope", "plena_mlir.lowering.tile.gemm"),
        ("plena_mlir.ir.addresses", "plena_mlir.sim.image"),
        ("plena_mlir.analysis.roofline", "plena_mlir.sim.cycles"),
        ("plena_mlir.kernels.linear", "plena_mlir.sim.hbm"),
        ("plena_mlir.lanes.packing", "plena_mlir.passes.infer_memory"),
        ("plena_mlir.driver.kernel_check", "plena_mlir.tools.plena_run"),
    ],
)
def test_a_known_violation_is_caught(importer: str, imported: str):
    edge = Edge(importer, imported, "here")
    assert any(rule.broken_by(edge) for rule in RULES)
