"""Machine code: instructions <-> 32-bit words, and the `.mem` file format.

Packing follows the published assembler's groups (`plena-isa-tvm.md` A1.2), which the opcode
table already expresses as one field per operand: a word is the opcode plus each operand
value shifted into its field.  `.mem` files hold one `0x%08X` word per line.
"""

from __future__ import annotations

from plena_mlir.isa.instruction import Instruction, IsaError, check_instruction
from plena_mlir.isa.opcodes import TVM_BY_OPCODE
from plena_mlir.target import DEFAULT_TARGET, Target

_OPCODE_MASK = 0x3F


def encode(instr: Instruction, target: Target = DEFAULT_TARGET) -> int:
    """The 32-bit word of `instr`; IsaError if an operand is not legal on the target."""
    check_instruction(instr, target)
    return pack(instr, target)


def pack(instr: Instruction, target: Target = DEFAULT_TARGET) -> int:
    """The word with each operand shifted into its field, without the legality checks.

    Values the assembler refuses but a word can hold (f9, a non-zero M_MV_WO immediate) are
    packed as they are, so a simulated `Instruction` list behaves exactly like the machine
    code it stands for; IsaError if a value does not fit its field at all.
    """
    opcode = target.opcodes.get(instr.mnemonic)
    if opcode is None:
        raise IsaError(f"'{instr.mnemonic}' is not an instruction of target '{target.name}'")
    info = instr.info
    if len(instr.operands) != len(info.operands):
        raise IsaError(
            f"{instr.mnemonic} takes {len(info.operands)} operands, got {len(instr.operands)}"
        )
    word = opcode
    for i, (op, value) in enumerate(zip(info.operands, instr.operands, strict=True)):
        if not 0 <= value <= op.field.mask:
            raise IsaError(
                f"{instr.mnemonic} operand {i + 1} ({op.name}) = {value} does not fit its "
                f"{op.field.width}-bit field"
            )
        word |= value << op.field.shift
    return word


def decode(word: int, target: Target = DEFAULT_TARGET) -> Instruction:
    """Disassemble one word.  Bits of fields the instruction does not use are ignored."""
    if not 0 <= word <= 0xFFFFFFFF:
        raise IsaError(f"0x{word:X} is not a 32-bit word")
    info = TVM_BY_OPCODE.get(word & _OPCODE_MASK)
    if info is None or info.mnemonic not in target.opcodes:
        raise IsaError(f"0x{word:08X}: opcode 0x{word & _OPCODE_MASK:02X} is not an instruction")
    return Instruction(info.mnemonic, tuple(op.field.extract(word) for op in info.operands))


def format_mem(words: list[int]) -> str:
    """A `.mem` file: one `0x%08X` word per line, as the published assembler writes it."""
    return "".join(f"0x{w:08X}\n" for w in words)


def parse_mem(text: str, filename: str = "<mem>") -> list[int]:
    """Read a `.mem` file: whitespace-separated hex words with an optional `0x` prefix."""
    words: list[int] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in line.split():
            digits = token[2:] if token[:2] in ("0x", "0X") else token
            try:
                value = int(digits, 16)
            except ValueError:
                raise IsaError(f"{filename}:{lineno}: '{token}' is not a hex word") from None
            if value > 0xFFFFFFFF:
                raise IsaError(f"{filename}:{lineno}: '{token}' does not fit in 32 bits")
            words.append(value)
    return words
