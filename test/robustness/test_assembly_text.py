"""Assembly text at the edges: tabs, leading zeros, base prefixes and non-ASCII digits are
read one documented way (docs/assembly.md), never accepted by accident."""

import pytest

from plena_mlir.isa.asm_text import AsmSyntaxError, parse_asm


@pytest.mark.parametrize(
    "line, operands",
    [
        ("S_ADDI_INT\tgp1,\tgp0,\t5", (1, 0, 5)),  # tab-separated
        ("  S_ADDI_INT gp1, gp0, 5  ", (1, 0, 5)),
        ("S_ADDI_INT gp1, gp0, 010", (1, 0, 10)),  # leading zeros are decimal
        ("S_ADDI_INT gp1, gp0, 0x1F", (1, 0, 31)),
        ("S_ADDI_INT gp1, gp0, +7", (1, 0, 7)),
    ],
)
def test_accepted_spellings(line, operands):
    (instruction,) = parse_asm(line)
    assert instruction.operands == operands


@pytest.mark.parametrize(
    "line, message",
    [
        ("S_ADDI_INT gp1, gp0, 0o17", "'0o17' is not an integer"),
        ("S_ADDI_INT gp1, gp0, 0b11", "'0b11' is not an integer"),
        ("S_ADDI_INT gp1, gp0, \uff15", "'\uff15' is not an integer"),  # fullwidth 5
        ("S_ADDI_INT gp\uff11, gp0, 5", "must be a register gpN, got 'gp\uff11'"),
        ("S_ADDI_INT gp1, gp0, 1_000", "'1_000' is not an integer"),
        ("S_ADDI_INT gp1, gp0, 5 6", "'5 6' is not an integer"),
    ],
)
def test_rejected_spellings_name_the_line_and_token(line, message):
    with pytest.raises(AsmSyntaxError) as error:
        parse_asm(line, filename="prog.asm")
    assert str(error.value).startswith("prog.asm:1: ")
    assert message in str(error.value)
