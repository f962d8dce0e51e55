"""A target-independent instruction record and the operand checks every front end shares.

`Instruction` is what the assembler parses, the encoder packs, the disassembler unpacks and
the `plena` dialect converts to and from.  `operand_error` is the single place that decides
whether an operand value is legal on a target: the `.asm` parser and the dialect verifiers
both call it, so a program is rejected for the same reason whichever way it comes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from plena_mlir.isa.opcodes import TVM_ISA, WRITE_OUT_IMM_MISMATCH, Field, Kind, OpcodeInfo

if TYPE_CHECKING:
    from plena_mlir.target import Target


class IsaError(ValueError):
    """An instruction that the target cannot encode or execute as written."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One machine instruction: mnemonic and operand values in assembly order.

    Register operands hold the register index, immediates and literals their value.
    `line` is the 1-based source line for instructions read from text.
    """

    mnemonic: str
    operands: tuple[int, ...]
    line: int | None = None

    @property
    def info(self) -> OpcodeInfo:
        return TVM_ISA[self.mnemonic]


_REGISTER_PREFIX = {Kind.GP: "gp", Kind.FP: "f", Kind.AREG: "a"}


def register_prefix(kind: Kind) -> str:
    return _REGISTER_PREFIX[kind]


def operand_error(info: OpcodeInfo, index: int, value: int, target: Target) -> str | None:
    """Why `value` is not a legal operand `index` of `info` on `target`, or None if it is."""
    op = info.operands[index]
    what = f"{info.mnemonic} operand {index + 1} ({op.name})"
    if op.kind is Kind.GP:
        if not 0 <= value < target.gp_registers:
            last = target.gp_registers - 1
            return f"{what}: gp{value} does not exist (the target has gp0..gp{last})"
    elif op.kind is Kind.FP:
        if not 0 <= value < target.fp_registers:
            return (
                f"{what}: f{value} does not exist (the target has f0..f{target.fp_registers - 1})"
            )
    elif op.kind is Kind.AREG:
        if not 0 <= value < target.addr_registers:
            return (
                f"{what}: a{value} does not exist (the target has a0..a{target.addr_registers - 1})"
            )
    elif op.kind is Kind.LIT:
        if value not in (0, 1):
            return f"{what}: literal must be 0 or 1, got {value}"
    elif op.kind is Kind.IGNORED:
        if value != 0:
            return f"{what}: this field is not read by the machine and must be 0, got {value}"
    elif op.kind is Kind.IMM:
        return _immediate_error(info, what, op.field, value, target)
    return None


def _immediate_error(
    info: OpcodeInfo, what: str, field: Field, value: int, target: Target
) -> str | None:
    bits = target.imm_bits if field is Field.IMM else target.imm2_bits
    if not 0 <= value < (1 << bits):
        return (
            f"{what}: immediate {value} out of range [0, {(1 << bits) - 1}] ({bits}-bit unsigned)"
        )
    if info.mnemonic in WRITE_OUT_IMM_MISMATCH and value != 0:
        return (
            f"{what}: immediate must be 0: the assembler places it at bit {Field.IMM.shift} but "
            f"the machine reads bits {Field.IMM2.shift}.., so {value} would execute as "
            f"{value >> (Field.IMM2.shift - Field.IMM.shift)}; add the offset to the register"
        )
    if info.mnemonic == "S_LUI_INT" and value >= 1 << (32 - 12):
        return f"{what}: immediate {value} loses bits above bit 19 when shifted left by 12"
    if info.mnemonic == "C_LOOP_START" and value == 0:
        return f"{what}: a hardware loop needs at least 1 iteration"
    return None


def check_instruction(instr: Instruction, target: Target) -> None:
    """Raise IsaError naming the first illegal operand of `instr` on `target`."""
    if instr.mnemonic not in target.opcodes:
        raise IsaError(f"{instr.mnemonic} is not an instruction of target '{target.name}'")
    info = instr.info
    if len(instr.operands) != len(info.operands):
        raise IsaError(
            f"{instr.mnemonic} takes {len(info.operands)} operands, got {len(instr.operands)}"
        )
    for i, value in enumerate(instr.operands):
        message = operand_error(info, i, value, target)
        if message:
            raise IsaError(message)


def format_operand(info: OpcodeInfo, index: int, value: int) -> str:
    op = info.operands[index]
    if op.kind in _REGISTER_PREFIX:
        return f"{_REGISTER_PREFIX[op.kind]}{value}"
    if op.kind is Kind.IGNORED and op.print_as_gp:
        return f"gp{value}"
    return str(value)


def format_instruction(instr: Instruction) -> str:
    """`MNEMONIC op, op, ...` exactly as plena-isa.md writes it."""
    info = instr.info
    if not instr.operands:
        return info.mnemonic
    ops = ", ".join(format_operand(info, i, v) for i, v in enumerate(instr.operands))
    return f"{info.mnemonic} {ops}"
