"""Property tests: any legal instruction survives asm -> bin -> asm, and any legal program
survives the trip through the `plena` dialect (IR text in custom and generic form included).

Operand values are drawn from each field's full range and kept when `operand_error` (the one
legality check) accepts them on the target, so the strategies follow the target, not a copy
of its rules.
"""

from io import StringIO

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plena_mlir.dialects.plena import OP_OF_MNEMONIC, Plena, Role
from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.parser import Parser
from xdsl.printer import Printer

from plena_mlir.backend.emit import module_instructions
from plena_mlir.backend.import_program import program_to_module
from plena_mlir.isa.asm_text import parse_line
from plena_mlir.isa.encoding import decode, encode
from plena_mlir.isa.instruction import Instruction, format_instruction, operand_error
from plena_mlir.isa.opcodes import TVM_ISA, Field, Kind
from plena_mlir.target import PLENA_TVM

TARGET = PLENA_TVM
LOOP_MNEMONICS = ("C_LOOP_START", "C_LOOP_END")


def _operand_values(mnemonic: str, index: int) -> st.SearchStrategy[int]:
    info = TVM_ISA[mnemonic]
    operand = info.operands[index]
    if operand.kind is Kind.IMM:
        bits = TARGET.imm_bits if operand.field is Field.IMM else TARGET.imm2_bits
    else:
        bits = operand.field.width
    top = (1 << bits) - 1
    candidates = st.sampled_from([0, 1, top]) | st.integers(0, top)
    return candidates.filter(lambda v: operand_error(info, index, v, TARGET) is None)


def instructions(mnemonics=tuple(TVM_ISA)) -> st.SearchStrategy[Instruction]:
    def build(mnemonic: str) -> st.SearchStrategy[Instruction]:
        count = len(TVM_ISA[mnemonic].operands)
        values = st.tuples(*(_operand_values(mnemonic, i) for i in range(count)))
        return values.map(lambda ops: Instruction(mnemonic, ops))

    return st.sampled_from(mnemonics).flatmap(build)


@settings(max_examples=400)
@given(instructions())
def test_every_legal_instruction_roundtrips_asm_bin_asm(instr):
    text = format_instruction(instr)
    parsed = parse_line(text, TARGET)
    assert parsed == instr
    word = encode(parsed, TARGET)
    assert 0 <= word <= 0xFFFFFFFF
    assert word & 0x3F == TARGET.opcodes[instr.mnemonic]
    assert decode(word, TARGET) == instr
    assert format_instruction(decode(word, TARGET)) == text


def _written_gp(instr: Instruction) -> set[int]:
    """GP registers an instruction writes (which a loop body must leave to its counter)."""
    op = OP_OF_MNEMONIC[instr.mnemonic]
    return {
        value
        for role, operand, value in zip(op.ROLES, op.INFO.operands, instr.operands, strict=True)
        if role in (Role.WRITE, Role.UPDATE) and operand.kind is Kind.GP
    }


@st.composite
def programs(draw, depth: int = 0, counters: frozenset[int] = frozenset()) -> list[Instruction]:
    """A program of straight-line instructions and properly nested hardware loops; no loop
    body writes the counter of a loop around it (the `plena.loop` contract)."""
    straight = tuple(m for m in TVM_ISA if m not in LOOP_MNEMONICS)
    program: list[Instruction] = []
    for _ in range(draw(st.integers(0, 6))):
        if depth < 3 and draw(st.integers(0, 5)) == 0:
            free = [c for c in range(TARGET.gp_registers) if c not in counters]
            counter = draw(st.sampled_from(free))
            count = draw(_operand_values("C_LOOP_START", 1))
            body = draw(programs(depth + 1, counters | {counter}))
            program += [
                Instruction("C_LOOP_START", (counter, count)),
                *body,
                Instruction("C_LOOP_END", (counter,)),
            ]
        else:
            instr = draw(instructions(straight).filter(lambda i: not _written_gp(i) & counters))
            program.append(instr)
    return program


def _context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Plena)
    return ctx


def _reparse(module: ModuleOp, generic: bool) -> ModuleOp:
    text = StringIO()
    Printer(stream=text, print_generic_format=generic).print_op(module)
    reparsed = Parser(_context(), text.getvalue()).parse_module()
    reparsed.verify()
    return reparsed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_every_legal_program_roundtrips_through_the_dialect(program):
    module = program_to_module(program, TARGET)
    module.verify()
    assert module_instructions(module) == program
    for generic in (False, True):
        assert module_instructions(_reparse(module, generic)) == program
