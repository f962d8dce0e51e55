"""`--target` and `--emit-asm`: what every run does to its module before and after compiling."""

from __future__ import annotations

from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from plena_mlir.backend.targets import PlenaAsmTarget
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr
from plena_mlir.driver.bad_input import BadInput, checked
from plena_mlir.target import Target, get_target, settings_note


def resolve_target(target: str | None) -> Target:
    """`--target` (a preset name or a settings file; None: the default target), checked."""
    return checked(lambda: get_target(target), "--target: ")


def target_settings(target: str | None) -> str | None:
    """For `--target` a settings file, which of its keys took effect (`Settings.describe`)."""
    return checked(lambda: settings_note(target), "--target: ")


def set_target(module: ModuleOp, target: str | None) -> None:
    """Record `--target` on the module (replacing its own), checked now."""
    if target is None:
        return
    attr = checked(lambda: TargetAttr(target), "--target: ")
    checked(lambda: attr.target, "--target: ")
    module.attributes[TARGET_ATTR_NAME] = attr


def write_asm(module: ModuleOp, path: Path) -> None:
    """`--emit-asm`: the compiled module's assembly, with the compiler's comments."""
    try:
        with path.open("w") as output:
            PlenaAsmTarget().emit(Context(), module, output)
    except OSError as e:
        raise BadInput(f"cannot write '{path}': {e.strerror}") from None
