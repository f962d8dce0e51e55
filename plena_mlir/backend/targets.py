"""The output targets `-t plena-asm` and `-t plena-bin`.

`plena-asm` prints the program in plena-isa.md syntax (`format_instruction`: upper-case
mnemonics, `gpN`/`fN`/`aN` registers), loop bodies indented by four spaces per level,
`plena.comment` and instruction comments after `;`.  `plena-bin` prints the encoded words, one
`0x%08X` per line, the `.mem` format the PLENA emulator loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

from plena_mlir.backend.emit import module_instructions, program_lines
from plena_mlir.dialects.plena import target_of
from plena_mlir.isa.encoding import encode, format_mem
from plena_mlir.isa.instruction import format_instruction

INDENT = "    "


@dataclass(frozen=True)
class PlenaAsmTarget(Target):
    """PLENA assembly text."""

    name = "plena-asm"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        for line in program_lines(module):
            parts = []
            if line.instruction is not None:
                parts.append(format_instruction(line.instruction))
            if line.comment is not None:
                parts.append(f"; {line.comment}")
            output.write(INDENT * line.depth + "  ".join(parts) + "\n")


@dataclass(frozen=True)
class PlenaBinTarget(Target):
    """PLENA machine code as a `.mem` file."""

    name = "plena-bin"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        target = target_of(module)
        output.write(format_mem([encode(i, target) for i in module_instructions(module)]))
