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

from .source_tree import ROOT, source_modules  # noqa: TID251


def _wheel_packages(modules: dict[str, Path]) -> set[str]:
    return {name for name, path in modules.items() if path.name == "__init__.py"}


def test_every_package_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    missing = _wheel_packages(source_modules()) - listed
    assert not missing, f"add these packages to [tool.setuptools] packages: {sorted(missing)}"


def test_every_module_imports_under_plena_mlir():
    for name in sorted(source_modules()):
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
        for name, path in source_modules().items()
    }
    missing = expected - names
    assert not missing, f"modules missing from the wheel: {sorted(missing)}"


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
