"""PLENA assembly text -> `Instruction` records, with diagnostics that name the line.

Syntax (`plena-isa.md` 7.3, `plena-isa-tvm.md` A1.4): one instruction per line,
`MNEMONIC op, op, ...` (spaces or tabs between the mnemonic and the operands); `;` and `//`
start comments; blank lines are skipped.  Operands are `gpN`, `fN`, `aN` or integers: decimal
(`10`, `-3`; leading zeros are still decimal, `010` is 10) or hexadecimal (`0x1F`), ASCII
digits only (no other base prefix, no fullwidth or other Unicode digits).  Unlike the published
assembler, which skips one-token lines and crashes on missing operands, every line must be
a complete instruction of the target or it is an error:

    program.asm:3: V_ADD_VV takes 4 operands (dst, lhs, rhs, rmask), got 3
"""

from __future__ import annotations

import re

from plena_mlir.isa.instruction import (
    Instruction,
    IsaError,
    format_instruction,
    operand_error,
    register_prefix,
)
from plena_mlir.isa.opcodes import TVM_ISA, Kind, OpcodeInfo
from plena_mlir.target import DEFAULT_TARGET, Target

_REGISTER = re.compile(r"^(gp|f|a)([0-9]+)$")
_INTEGER = re.compile(r"^[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)$")
_KIND_OF_PREFIX = {"gp": Kind.GP, "f": Kind.FP, "a": Kind.AREG}


class AsmSyntaxError(IsaError):
    """A line of assembly that is not a valid instruction; the message starts `file:line:`."""


def strip_comment(line: str) -> str:
    for marker in ("//", ";"):
        cut = line.find(marker)
        if cut >= 0:
            line = line[:cut]
    return line.strip()


def parse_asm(
    text: str, target: Target = DEFAULT_TARGET, filename: str = "<asm>"
) -> list[Instruction]:
    """Parse a whole program; raise AsmSyntaxError at the first bad line."""
    program: list[Instruction] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        body = strip_comment(raw)
        if body:
            try:
                program.append(parse_line(body, target, lineno))
            except IsaError as e:
                raise AsmSyntaxError(f"{filename}:{lineno}: {e}") from None
    return program


def parse_line(
    body: str, target: Target = DEFAULT_TARGET, lineno: int | None = None
) -> Instruction:
    """Parse one comment-free line into an Instruction checked against `target`."""
    head, *tail = body.split(None, 1) or [""]
    mnemonic, rest = head.upper(), tail[0] if tail else ""
    info = TVM_ISA.get(mnemonic)
    if info is None or mnemonic not in target.opcodes:
        raise IsaError(f"unknown mnemonic '{mnemonic}' for target '{target.name}'")
    tokens = [t.strip() for t in rest.split(",")] if rest.strip() else []
    expected = len(info.operands)
    if info.optional_trailing_literal and len(tokens) == expected + 1:
        _parse_int(tokens.pop(), info, expected)
    if len(tokens) != expected:
        names = ", ".join(op.name for op in info.operands)
        raise IsaError(
            f"{mnemonic} takes {expected} operand{'s' if expected != 1 else ''}"
            f"{f' ({names})' if names else ''}, got {len(tokens)}"
        )
    values = tuple(_parse_operand(tok, info, i) for i, tok in enumerate(tokens))
    for i, value in enumerate(values):
        message = operand_error(info, i, value, target)
        if message:
            raise IsaError(message)
    return Instruction(mnemonic, values, lineno)


def _parse_operand(token: str, info: OpcodeInfo, index: int) -> int:
    op = info.operands[index]
    match = _REGISTER.match(token)
    if op.kind in (Kind.GP, Kind.FP, Kind.AREG):
        if match is None or _KIND_OF_PREFIX[match.group(1)] is not op.kind:
            raise IsaError(
                f"{info.mnemonic} operand {index + 1} ({op.name}) must be a register "
                f"{register_prefix(op.kind)}N, got '{token}'"
            )
        return int(match.group(2))
    if op.kind is Kind.IGNORED and match is not None and match.group(1) == "gp":
        return int(match.group(2))
    if match is not None:
        raise IsaError(
            f"{info.mnemonic} operand {index + 1} ({op.name}) must be an integer, got register "
            f"'{token}'"
        )
    return _parse_int(token, info, index)


def _parse_int(token: str, info: OpcodeInfo, index: int) -> int:
    if not _INTEGER.match(token):
        raise IsaError(f"{info.mnemonic} operand {index + 1}: '{token}' is not an integer")
    digits = token.lstrip("+-")
    value = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 10)
    return -value if token.startswith("-") else value


def format_asm(program: list[Instruction]) -> str:
    return "".join(format_instruction(i) + "\n" for i in program)
