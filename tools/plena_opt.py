"""`plena-opt`: the xDSL opt driver with the plena-mlir dialects, passes and targets.

    plena-opt kernel.mlir -p <pipeline> -t plena-asm
    plena-opt program.asm                       # import assembly into the plena dialect
    plena-opt program.asm -t plena-bin          # assemble

`-p plena-compile` is expanded into the passes of the compile pipeline
(`plena_mlir.pipeline.COMPILE_PIPELINE`), so the IR is verified after each of them and
`--print-between-passes` shows every stage.

Inputs are `.mlir` or `.asm` (by extension, or `-f asm`).  Assembly is parsed for the target
given by `--plena-target` (a preset name or a plena_settings.toml; default plena-tvm), which
is then recorded on the module as `plena.target`.  Bad input (assembly syntax, verifier
errors, emission errors, a malformed or unknown pass pipeline) prints a diagnostic and exits
with status 2, never a traceback.

The same dialects, passes and targets reach plain `xdsl-opt` through `PLENA_UNIVERSE`; when
that entry point is installed they are registered once, not twice.
"""

import argparse
import sys
import warnings
from typing import IO, NoReturn

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from plena_mlir.isa.instruction import IsaError
from plena_mlir.universe import PLENA_UNIVERSE


class PlenaOptMain(xDSLOptMain):
    version_format = "plena-opt built on xdsl {xdsl_version}"

    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in PLENA_UNIVERSE.all_dialects.items():
            if name not in self.ctx.registered_dialect_names:
                self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in PLENA_UNIVERSE.all_passes.items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        for name, factory in PLENA_UNIVERSE.all_targets.items():
            self.available_targets.setdefault(name, factory)

    def register_all_frontends(self) -> None:
        super().register_all_frontends()
        self.available_frontends["asm"] = self.parse_asm

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--plena-target",
            default=None,
            help="target of .asm input: a preset name or a plena_settings.toml (default "
            "plena-tvm); recorded as the module's plena.target attribute",
        )

    def setup_pipeline(self) -> None:
        """The `-p` pipeline with `plena-compile` expanded into its passes (the pipeline
        module, which imports every pass, is loaded only when the name is there).  A pipeline
        that does not parse, names an unknown pass or gives a pass an unknown or mistyped
        option is one error line, exit status 2."""
        spec = self.args.passes
        try:
            if "plena-compile" in spec:
                from plena_mlir.pipeline import expand_compile

                self.args.passes = expand_compile(spec)
            super().setup_pipeline()
        except ArgSpecParseError as e:
            _bad_input(f"-p '{spec}': {_pipeline_syntax_error(e)}")
        except (DiagnosticException, ValueError, TypeError) as e:
            _bad_input(f"-p '{spec}': {_first_line(e)}")

    def parse_asm(self, stream: IO[bytes]) -> ModuleOp:
        """The `asm` frontend: PLENA assembly -> a module of plena ops."""
        from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr

        from plena_mlir.backend.import_program import program_to_module
        from plena_mlir.isa.asm_text import parse_asm
        from plena_mlir.target import DEFAULT_TARGET

        spec = self.args.plena_target
        target_attr = TargetAttr(spec) if spec is not None else None
        target = target_attr.target if target_attr is not None else DEFAULT_TARGET
        filename = self.get_input_name()
        program = parse_asm(stream.read().decode(), target, filename)
        module = program_to_module(program, target, filename)
        if target_attr is not None:
            module.attributes[TARGET_ATTR_NAME] = target_attr
        return module

    def run(self) -> None:
        try:
            super().run()
        except (IsaError, DiagnosticException, ParseError) as e:
            print(e, file=sys.stderr)
            for note in getattr(e, "__notes__", ()):
                print(note, file=sys.stderr)
            sys.exit(BAD_INPUT)
        except OSError as e:
            _bad_input(f"cannot open '{e.filename}': {e.strerror}")
        except UnicodeDecodeError:
            _bad_input(f"{self.get_input_name()} is not a text file")
        except RecursionError:
            _bad_input(f"{self.get_input_name()}: regions nested too deeply to process")
        except ValueError as e:
            if not str(e).startswith("Unrecognized file extension"):
                raise
            _bad_input(f"{e} (use .mlir or .asm, or -f)")


#: Exit status for bad input (the file, the pipeline, the options): every tool's (docs/tools.md).
BAD_INPUT = 2

#: Python's recursion limit while plena-opt runs: xDSL parses, verifies and prints nested
#: regions recursively, and a few hundred nested loops exceed the default 1000 frames.
RECURSION_LIMIT = 20_000


def _bad_input(message: str) -> NoReturn:
    print(f"plena-opt: error: {message}", file=sys.stderr)
    sys.exit(BAD_INPUT)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _pipeline_syntax_error(error: ArgSpecParseError) -> str:
    """`column 3: expected pass name here` from xDSL's multi-line pipeline parse error."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    caret = next((line for line in lines if line.strip().startswith("^")), None)
    reason = lines[-1].strip() if lines else "malformed pipeline"
    if caret is None:
        return reason
    column = caret.index("^") + 1
    return f"column {column}: {reason[0].lower()}{reason[1:]}"


def main() -> None:
    warnings.filterwarnings("default", category=DeprecationWarning)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        PlenaOptMain().run()
    except RecursionError:
        _bad_input("input nested too deeply to process")


if __name__ == "__main__":
    main()
