"""Assembly text: comments, operand kinds and counts, ranges; every error names the line."""

import pytest

from plena_mlir.isa.asm_text import AsmSyntaxError, format_asm, parse_asm
from plena_mlir.isa.instruction import Instruction
from plena_mlir.target import PLENA_TVM


def test_comments_blank_lines_and_case():
    text = """
    ; a whole-line comment
    // another one
    s_addi_int gp1, gp0, 7   ; trailing comment
    S_EXP_FP f1, f2, 0        // the published compiler's trailing literal
    C_BREAK
    """
    program = parse_asm(text)
    assert program == [
        Instruction("S_ADDI_INT", (1, 0, 7), 4),
        Instruction("S_EXP_FP", (1, 2), 5),
        Instruction("C_BREAK", (), 6),
    ]
    assert format_asm(program) == "S_ADDI_INT gp1, gp0, 7\nS_EXP_FP f1, f2\nC_BREAK\n"


def test_ignored_fields_accept_zero_or_gp0():
    (a, b) = parse_asm("M_BTMM gp0, gp1, gp2\nM_BTMM 0, gp1, gp2")
    assert a.operands == b.operands == (0, 1, 2)


@pytest.mark.parametrize(
    "line, message",
    [
        ("FOO gp1, gp2", "unknown mnemonic 'FOO'"),
        ("V_ADD_VV gp1, gp2, gp3", "V_ADD_VV takes 4 operands (dst, lhs, rhs, rmask), got 3"),
        ("M_MM_WO gp5, 0", "M_MM_WO takes 3 operands"),
        ("V_ADD_VF gp1, gp2, gp3, 0", "operand 3 (scalar) must be a register fN, got 'gp3'"),
        ("S_ADDI_INT gp1, gp2, gp3", "operand 3 (imm) must be an integer, got register 'gp3'"),
        ("S_ADDI_INT gp1, gp2, 65536", "immediate 65536 out of range [0, 65535]"),
        ("S_ADDI_INT gp1, gp2, -1", "immediate -1 out of range"),
        ("S_LUI_INT gp1, 2097152", "immediate 2097152 out of range [0, 2097151]"),
        ("S_LUI_INT gp1, 1048576", "loses bits above bit 19"),
        ("C_LOOP_START gp1, 0", "at least 1 iteration"),
        ("S_ADD_FP f8, f1, f2", "f8 does not exist (the target has f0..f7)"),
        ("S_ADD_INT gp32, gp1, gp2", "gp32 does not exist"),
        ("H_STORE_V gp1, gp2, a8, 1, 0", "a8 does not exist"),
        ("V_EXP_V gp1, gp2, 2", "literal must be 0 or 1, got 2"),
        ("M_MM 5, gp1, gp2", "not read by the machine and must be 0"),
        ("M_BMM_WO gp1, 32", "immediate must be 0"),
        ("S_ADDI_INT gp1, gp2, 1x", "'1x' is not an integer"),
    ],
)
def test_bad_lines_give_line_diagnostics(line, message):
    with pytest.raises(AsmSyntaxError) as info:
        parse_asm(f"; header\n{line}\n", filename="prog.asm")
    assert str(info.value).startswith("prog.asm:2: ")
    assert message in str(info.value)


def test_register_counts_come_from_the_target():
    small = PLENA_TVM.with_overrides(gp_registers=16)
    with pytest.raises(AsmSyntaxError, match="gp16 does not exist .* gp0..gp15"):
        parse_asm("S_ADD_INT gp16, gp1, gp2", small)
