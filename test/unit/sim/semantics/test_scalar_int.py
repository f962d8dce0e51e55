"""Scalar integer ops and INTRAM (plena-isa-tvm.md A3.6): u32, wrapping, 1 cycle each."""

from __future__ import annotations

import numpy as np
import pytest

from .data import set_gp, set_regs
from .harness import covers, each_opcode

U32 = 0xFFFFFFFF

#: mnemonic -> semantics on Python ints (then & U32)
RRR = {
    "S_ADD_INT": lambda a, b: a + b,
    "S_SUB_INT": lambda a, b: a - b,
    "S_MUL_INT": lambda a, b: a * b,
    "S_SLL_INT": lambda a, b: a << (b & 31),
    "S_SRL_INT": lambda a, b: a >> (b & 31),
    "S_DIV_INT": lambda a, b: a // b if b else 0,
    "S_REM_INT": lambda a, b: a % b if b else a,
}
RRI = {
    "S_ADDI_INT": lambda a, imm: a + imm,
    "S_SLLI_INT": lambda a, imm: a << (imm & 31),
    "S_SRLI_INT": lambda a, imm: a >> (imm & 31),
}


def _operand_pairs(rng) -> list[tuple[int, int]]:
    """Edge pairs (wrap, divide by zero, shift amounts >= 32) plus random u32 pairs."""
    edges = [
        (0xFFFFFFFF, 1),
        (0, 1),
        (0x80000000, 0x80000000),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (12345, 0),
        (0, 0),
        (0xFFFFFFF0, 33),
        (7, 32),
        (0x80000001, 31),
        (5, 0x12345),
        (0xFFFFFFFF, 7),
        (0x9ABCDEF0, 0x1234),
    ]
    randoms = [tuple(int(v) for v in rng.integers(0, 1 << 32, size=2)) for _ in range(12)]
    return edges + randoms


@pytest.mark.parametrize("mnemonic", each_opcode(RRR))
def test_register_register_ops(machine, rng, mnemonic):
    h = machine()
    pairs = _operand_pairs(rng)
    asm = ""
    for i, (a, b) in enumerate(pairs):
        asm += set_regs(gp1=a, gp2=b) + f"{mnemonic} gp{3 + i}, gp1, gp2\n"
    h.run(asm)
    got = [int(v) for v in h.sim.state.gp[3 : 3 + len(pairs)]]
    want = [RRR[mnemonic](a, b) & U32 for a, b in pairs]
    assert got == want


@pytest.mark.parametrize("mnemonic", each_opcode(RRI))
def test_register_immediate_ops(machine, rng, mnemonic):
    """imm2 is a zero-extended 16-bit immediate; shift amounts are imm & 31."""
    h = machine()
    cases = [(0xFFFFFFFF, 65535), (0x80000000, 31), (0xDEADBEEF, 35), (1, 32), (0, 0)]
    cases += [(int(rng.integers(0, 1 << 32)), int(rng.integers(0, 1 << 16))) for _ in range(8)]
    asm = "".join(
        set_gp(1, a) + f"{mnemonic} gp{3 + i}, gp1, {imm}\n" for i, (a, imm) in enumerate(cases)
    )
    stats = h.run(asm)
    got = [int(v) for v in h.sim.state.gp[3 : 3 + len(cases)]]
    assert got == [RRI[mnemonic](a, imm) & U32 for a, imm in cases]
    assert stats.cycles == 3 * len(cases)


@covers("S_LUI_INT")
def test_s_lui_int_overwrites_and_drops_bit_20(machine):
    """gp = (imm21 << 12) mod 2^32: it replaces the register; bit 20 of imm is lost (only
    reachable from a word, the assembler rejects it)."""
    h = machine()
    h.run(set_gp(5, 0x12345678) + "S_LUI_INT gp5, 1048575\nS_LUI_INT gp6, 0")
    assert int(h.sim.state.gp[5]) == 0xFFFFF000 and int(h.sim.state.gp[6]) == 0
    word = 0x25 | 7 << 6 | (1 << 20 | 3) << 11  # S_LUI_INT gp7, 0x100003
    h.run([word])
    assert int(h.sim.state.gp[7]) == 0x3000


@covers("S_ADDI_INT", "S_ADD_INT")
def test_gp0_is_an_ordinary_register(machine):
    h = machine()
    h.run("S_ADDI_INT gp0, gp0, 7\nS_ADD_INT gp1, gp0, gp0")
    assert int(h.sim.state.gp[0]) == 7 and int(h.sim.state.gp[1]) == 14


@covers("S_LD_INT", "S_ST_INT")
def test_intram_load_store(machine, rng):
    """INTRAM[gp[rs1] + imm2]; S_ST_INT stores gp[rd]; the index sum wraps in u32."""
    h = machine()
    preload = rng.integers(0, 1 << 32, size=1024, dtype=np.uint64).astype(np.uint32)
    h.load_intram(preload)
    stats = h.run(
        set_regs(gp1=1000, gp2=0xFFFFFFFF, gp3=0xCAFEBABE)
        + "S_LD_INT gp4, gp1, 23\nS_LD_INT gp5, gp2, 1\nS_ST_INT gp3, gp1, 0\n"
        + "S_ST_INT gp3, gp2, 1024\nS_LD_INT gp6, gp1, 0\n"
    )
    gp, intram = h.sim.state.gp, h.sim.state.intram
    assert int(gp[4]) == preload[1023] and int(gp[5]) == preload[0]
    assert int(intram[1000]) == 0xCAFEBABE == int(intram[1023]) == int(gp[6])
    assert stats.cycles == 6 + 5


@pytest.mark.parametrize(
    "program",
    [
        pytest.param("S_LD_INT gp2, gp1, 24", marks=covers("S_LD_INT"), id="load"),
        pytest.param("S_ST_INT gp2, gp1, 24", marks=covers("S_ST_INT"), id="store"),
    ],
)
def test_intram_index_out_of_range_aborts(machine, program):
    h = machine()
    h.run(set_gp(1, 1000))
    h.expect_abort(program, 0)
