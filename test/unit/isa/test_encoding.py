"""Instruction words: the published assembler's encodings, decode, and `.mem` files."""

import pytest

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import decode, encode, format_mem, parse_mem
from plena_mlir.isa.instruction import Instruction, IsaError, format_instruction
from plena_mlir.isa.opcodes import TVM_ISA
from plena_mlir.target import PLENA_TVM

# plena-isa-tvm.md A1.3 "Encoded examples produced by the published assembler (verified)".
PUBLISHED_WORDS = {
    "S_ADDI_INT gp2, gp0, 2048": 0x080000A2,
    "C_LOOP_START gp13, 2": 0x0000136F,
    "H_PREFETCH_V gp22, gp21, a0, 1, 0": 0x0020ADA9,
    "V_SUB_VF gp27, gp27, f1, 0, 1": 0x0401DED0,
    "V_RED_SUM f1, gp26, 0": 0x0000D055,
    "M_TMM 0, gp20, gp15": 0x000FA002,
    "M_MM_WO gp19, gp0, 0": 0x000004C6,
}


@pytest.mark.parametrize("text, word", PUBLISHED_WORDS.items())
def test_encoding_matches_the_published_assembler(text, word):
    (instr,) = parse_asm(text)
    assert encode(instr) == word
    assert format_instruction(decode(word)) == text


def test_opcode_numbers_follow_the_tvm_decoder():
    assert {
        m: TVM_ISA[m].opcode for m in ("M_MM", "V_ADD_VV", "C_BREAK", "S_MAP_FP_V", "M_TMM_A")
    } == {
        "M_MM": 0x01,
        "V_ADD_VV": 0x0D,
        "C_BREAK": 0x31,
        "S_MAP_FP_V": 0x35,
        "M_TMM_A": 0x3C,
    }
    assert len(TVM_ISA) == 57 and set(TVM_ISA) == set(PLENA_TVM.opcodes)


def test_write_out_immediate_mismatch_is_reported_not_encoded():
    with pytest.raises(IsaError, match="would execute as 2"):
        encode(Instruction("M_MV_WO", (5, 64)))


def test_decode_rejects_unknown_opcodes():
    for word in (0x00000000, 0x00000032, 0x0000003F):
        with pytest.raises(IsaError, match="is not an instruction"):
            decode(word)


def test_mem_files_round_trip_and_report_bad_tokens():
    words = [0x080000A2, 0x0000136F, 0xFFFFFFFF]
    assert format_mem(words) == "0x080000A2\n0x0000136F\n0xFFFFFFFF\n"
    assert parse_mem(format_mem(words)) == words
    assert parse_mem("080000a2 0x1\n") == [0x080000A2, 1]
    with pytest.raises(IsaError, match=r"prog.mem:2: '0xZZ' is not a hex word"):
        parse_mem("0x1\n0xZZ\n", "prog.mem")
    with pytest.raises(IsaError, match="does not fit in 32 bits"):
        parse_mem("0x100000000")
