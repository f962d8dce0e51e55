"""Guards for the package-dir mapping of dialects/, passes/ and tools/ (design.md section 2).

1. every folder with an __init__.py is listed in pyproject's `packages` and ends up in a built
   wheel, with every module;
2. every module imports under its `plena_mlir.` name;
3. ruff (with the TID251 ban on bare `dialects`/`passes`/`tools` imports) is clean.
"""

import importlib
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAPPED = {
    "dialects": "plena_mlir.dialects",
    "passes": "plena_mlir.passes",
    "tools": "plena_mlir.tools",
}


def _source_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module under plena_mlir/ and the mapped folders."""
    modules: dict[str, Path] = {}
    roots = {"plena_mlir": ROOT / "plena_mlir"} | {pkg: ROOT / d for d, pkg in MAPPED.items()}
    for package, folder in roots.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if any(p in MAPPED for p in parts[:1]) and package == "plena_mlir":
                continue
            modules[".".join([package, *parts])] = path
    return modules


def _wheel_packages(modules: dict[str, Path]) -> set[str]:
    return {name for name, path in modules.items() if path.name == "__init__.py"}


def test_every_package_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    missing = _wheel_packages(_source_modules()) - listed
    assert not missing, f"add these packages to [tool.setuptools] packages: {sorted(missing)}"


def test_every_module_imports_under_plena_mlir():
    for name in sorted(_source_modules()):
        importlib.import_module(name)


def test_built_wheel_contains_every_module(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("plena_mlir-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        name.replace(".", "/") + ("/__init__.py" if path.name == "__init__.py" else ".py")
        for name, path in _source_modules().items()
    }
    missing = expected - names
    assert not missing, f"modules missing from the wheel: {sorted(missing)}"


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
