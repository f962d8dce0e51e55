"""The project's source modules by their installed name, for the packaging and layering tests.

dialects/, passes/ and tools/ install as plena_mlir.dialects, plena_mlir.passes and
plena_mlir.tools (design.md section 2); every other module is under plena_mlir/.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MAPPED = {
    "dialects": "plena_mlir.dialects",
    "passes": "plena_mlir.passes",
    "tools": "plena_mlir.tools",
}


def source_modules() -> dict[str, Path]:
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
