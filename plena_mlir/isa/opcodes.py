"""The PLENA instruction table of the `plena-tvm` ISA revision: the single source of truth.

Each `OpcodeInfo` names an instruction, its 6-bit opcode, its instruction class, and its
assembly operands in printed order.  Every operand says what it is (GP/FP/address register,
immediate, literal, or an ignored field) and which bits of the 32-bit word hold it.  The
assembler, the disassembler, the `plena` dialect and the simulator's decoder are all derived
from this table (`plena-isa-tvm.md` A1).

Word layout (A1.1): opcode[5:0] rd[10:6] rs1[15:11] rs2[20:16] rs3[25:21] funct1[30:26],
imm = bits 31..11 (21 bits), imm2 = bits 31..16 (16 bits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class Field(Enum):
    """A bit field of the instruction word: (shift, width)."""

    RD = (6, 5)
    RS1 = (11, 5)
    RS2 = (16, 5)
    RS3 = (21, 5)
    FUNCT1 = (26, 5)
    IMM = (11, 21)
    IMM2 = (16, 16)

    @property
    def shift(self) -> int:
        return self.value[0]

    @property
    def width(self) -> int:
        return self.value[1]

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    def extract(self, word: int) -> int:
        return (word >> self.shift) & self.mask


class Kind(Enum):
    """What an assembly operand denotes."""

    GP = "gp"  # general-purpose register gpN
    FP = "fp"  # FP register fN
    AREG = "areg"  # HBM address register aN
    IMM = "imm"  # unsigned immediate
    LIT = "lit"  # small literal flag (rmask, rstride, precision, order)
    IGNORED = "ignored"  # a field the machine does not read; printed as `0` or `gp0`


class InstrClass(Enum):
    MATRIX = "matrix"
    VECTOR = "vector"
    SCALAR_FP = "scalar_fp"
    SCALAR_INT = "scalar_int"
    HBM = "hbm"
    CONTROL = "control"


@dataclass(frozen=True)
class Operand:
    """One assembly operand: its role name, kind and the word field that holds it."""

    name: str
    kind: Kind
    field: Field
    #: for IGNORED operands: print as `gp0` instead of `0` (the published compiler's habit)
    print_as_gp: bool = False


@dataclass(frozen=True)
class OpcodeInfo:
    mnemonic: str
    opcode: int
    klass: InstrClass
    operands: tuple[Operand, ...]
    #: a trailing literal the published compiler prints and the encoder drops (S_EXP_FP)
    optional_trailing_literal: bool = False
    summary: str = ""

    @property
    def op_name(self) -> str:
        """The `plena` dialect op name (`plena.m_mm`)."""
        return "plena." + self.mnemonic.lower()


def _gp(name: str, f: Field) -> Operand:
    return Operand(name, Kind.GP, f)


def _fp(name: str, f: Field) -> Operand:
    return Operand(name, Kind.FP, f)


def _lit(name: str, f: Field = Field.RS3) -> Operand:
    return Operand(name, Kind.LIT, f)


_RD, _RS1, _RS2 = Field.RD, Field.RS1, Field.RS2
_IGN0 = Operand("unused", Kind.IGNORED, Field.RD)
_IGNGP = Operand("unused", Kind.IGNORED, Field.RD, print_as_gp=True)
_MAT_VEC = (_gp("mram", _RS1), _gp("vram", _RS2))
_VEC_RRR = (_gp("dst", _RD), _gp("lhs", _RS1), _gp("rhs", _RS2), _lit("rmask"))
_VEC_RRF = (_gp("dst", _RD), _gp("src", _RS1), _fp("scalar", _RS2), _lit("rmask"))
_FP_RRR = (_fp("dst", _RD), _fp("lhs", _RS1), _fp("rhs", _RS2))
_FP_RR = (_fp("dst", _RD), _fp("src", _RS1))
_INT_RRR = (_gp("dst", _RD), _gp("lhs", _RS1), _gp("rhs", _RS2))
_INT_RRI = (_gp("dst", _RD), _gp("src", _RS1), Operand("imm", Kind.IMM, Field.IMM2))
_HBM = (
    _gp("sram", _RD),
    _gp("offset", _RS1),
    Operand("base", Kind.AREG, _RS2),
    _lit("rstride"),
    _lit("precision", Field.FUNCT1),
)

M, V, SF, SI, H, C = (
    InstrClass.MATRIX,
    InstrClass.VECTOR,
    InstrClass.SCALAR_FP,
    InstrClass.SCALAR_INT,
    InstrClass.HBM,
    InstrClass.CONTROL,
)

_TABLE: tuple[OpcodeInfo, ...] = (
    OpcodeInfo("M_MM", 0x01, M, (_IGN0, *_MAT_VEC), summary="m_accum += A(B rows) x tile cols"),
    OpcodeInfo(
        "M_TMM",
        0x02,
        M,
        (_IGN0, _gp("vram", _RS1), _gp("mram", _RS2)),
        summary="m_accum += A x tile rows^T",
    ),
    OpcodeInfo("M_BMM", 0x03, M, (_IGN0, *_MAT_VEC), summary="lane-paired hm_accum += X_l Mat_l"),
    OpcodeInfo("M_BTMM", 0x04, M, (_IGNGP, *_MAT_VEC), summary="lane-paired hm_accum += Q_l K_l^T"),
    OpcodeInfo(
        "M_BMM_WO",
        0x05,
        M,
        (_gp("dst", _RD), Operand("imm", Kind.IMM, Field.IMM)),
        summary="write hm_accum as L*M rows",
    ),
    OpcodeInfo(
        "M_MM_WO",
        0x06,
        M,
        (_gp("dst", _RD), _gp("stride", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="write m_accum (B x B block)",
    ),
    OpcodeInfo("M_MV", 0x07, M, (_IGNGP, *_MAT_VEC), summary="v_accum += x tile cols"),
    OpcodeInfo("M_TMV", 0x08, M, (_IGN0, *_MAT_VEC), summary="v_accum += x tile rows^T"),
    OpcodeInfo("M_BMV", 0x09, M, (_gp("offset", _RD), *_MAT_VEC), summary="aborts on plena-tvm"),
    OpcodeInfo(
        "M_BTMV",
        0x0A,
        M,
        (_gp("offset", _RD), *_MAT_VEC),
        summary="lane-paired hv_accum += q_l K_l^T",
    ),
    OpcodeInfo(
        "M_MV_WO",
        0x0B,
        M,
        (_gp("dst", _RD), Operand("imm", Kind.IMM, Field.IMM)),
        summary="write v_accum (B values)",
    ),
    OpcodeInfo(
        "M_BMV_WO",
        0x0C,
        M,
        (_gp("dst", _RD), Operand("imm", Kind.IMM, Field.IMM)),
        summary="write hv_accum as L rows",
    ),
    OpcodeInfo("V_ADD_VV", 0x0D, V, _VEC_RRR, summary="D = A + B"),
    OpcodeInfo("V_ADD_VF", 0x0E, V, _VEC_RRF, summary="D = A + f"),
    OpcodeInfo("V_SUB_VV", 0x0F, V, _VEC_RRR, summary="D = A - B"),
    OpcodeInfo(
        "V_SUB_VF",
        0x10,
        V,
        (*_VEC_RRF, _lit("reverse", Field.FUNCT1)),
        summary="D = A - f (reverse: f - A)",
    ),
    OpcodeInfo("V_MUL_VV", 0x11, V, _VEC_RRR, summary="D = A * B"),
    OpcodeInfo("V_MUL_VF", 0x12, V, _VEC_RRF, summary="D = A * f"),
    OpcodeInfo(
        "V_EXP_V", 0x13, V, (_gp("dst", _RD), _gp("src", _RS1), _lit("rmask")), summary="D = e^A"
    ),
    OpcodeInfo(
        "V_RECI_V", 0x14, V, (_gp("dst", _RD), _gp("src", _RS1), _lit("rmask")), summary="D = 1/A"
    ),
    OpcodeInfo(
        "V_RED_SUM",
        0x15,
        V,
        (_fp("acc", _RD), _gp("src", _RS1), _lit("rmask")),
        summary="f += sum(A)",
    ),
    OpcodeInfo(
        "V_RED_MAX",
        0x16,
        V,
        (_fp("acc", _RD), _gp("src", _RS1), _lit("rmask")),
        summary="f = max(f, max(A))",
    ),
    OpcodeInfo("S_ADD_FP", 0x17, SF, _FP_RRR, summary="fD = fA + fB"),
    OpcodeInfo("S_SUB_FP", 0x18, SF, _FP_RRR, summary="fD = fA - fB"),
    OpcodeInfo("S_MAX_FP", 0x19, SF, _FP_RRR, summary="fD = max(fA, fB)"),
    OpcodeInfo("S_MUL_FP", 0x1A, SF, _FP_RRR, summary="fD = fA * fB"),
    OpcodeInfo("S_EXP_FP", 0x1B, SF, _FP_RR, optional_trailing_literal=True, summary="fD = e^fA"),
    OpcodeInfo("S_RECI_FP", 0x1C, SF, _FP_RR, summary="fD = 1/fA"),
    OpcodeInfo("S_SQRT_FP", 0x1D, SF, _FP_RR, summary="fD = sqrt(fA)"),
    OpcodeInfo(
        "S_LD_FP",
        0x1E,
        SF,
        (_fp("dst", _RD), _gp("base", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="fD = FPRAM[gp + imm]",
    ),
    OpcodeInfo(
        "S_ST_FP",
        0x1F,
        SF,
        (_fp("src", _RD), _gp("base", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="FPRAM[gp + imm] = fS",
    ),
    OpcodeInfo(
        "S_MAP_V_FP",
        0x20,
        SF,
        (_gp("vram", _RD), _gp("fpram", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="VROW = FPRAM[gp + imm .. +V]",
    ),
    OpcodeInfo("S_ADD_INT", 0x21, SI, _INT_RRR, summary="gpD = gpA + gpB"),
    OpcodeInfo("S_ADDI_INT", 0x22, SI, _INT_RRI, summary="gpD = gpA + imm"),
    OpcodeInfo("S_SUB_INT", 0x23, SI, _INT_RRR, summary="gpD = gpA - gpB"),
    OpcodeInfo("S_MUL_INT", 0x24, SI, _INT_RRR, summary="gpD = gpA * gpB"),
    OpcodeInfo(
        "S_LUI_INT",
        0x25,
        SI,
        (_gp("dst", _RD), Operand("imm", Kind.IMM, Field.IMM)),
        summary="gpD = imm << 12",
    ),
    OpcodeInfo(
        "S_LD_INT",
        0x26,
        SI,
        (_gp("dst", _RD), _gp("base", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="gpD = INTRAM[gp + imm]",
    ),
    OpcodeInfo(
        "S_ST_INT",
        0x27,
        SI,
        (_gp("src", _RD), _gp("base", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="INTRAM[gp + imm] = gpS",
    ),
    OpcodeInfo("H_PREFETCH_M", 0x28, H, _HBM, summary="HBM -> MRAM tiles"),
    OpcodeInfo("H_PREFETCH_V", 0x29, H, _HBM, summary="HBM -> VRAM rows"),
    OpcodeInfo("H_STORE_V", 0x2A, H, _HBM, summary="VRAM rows -> HBM"),
    OpcodeInfo(
        "C_SET_ADDR_REG",
        0x2B,
        C,
        (Operand("dst", Kind.AREG, _RD), _gp("high", _RS1), _gp("low", _RS2)),
        summary="a[D] = gpHi << 32 | gpLo",
    ),
    OpcodeInfo("C_SET_SCALE_REG", 0x2C, C, (_gp("src", _RD),), summary="SCALE = gp"),
    OpcodeInfo("C_SET_STRIDE_REG", 0x2D, C, (_gp("src", _RD),), summary="STRIDE = gp"),
    OpcodeInfo("C_SET_V_MASK_REG", 0x2E, C, (_gp("src", _RD),), summary="V_MASK = gp"),
    OpcodeInfo(
        "C_LOOP_START",
        0x2F,
        C,
        (_gp("counter", _RD), Operand("count", Kind.IMM, Field.IMM)),
        summary="open a hardware loop of N iterations",
    ),
    OpcodeInfo("C_LOOP_END", 0x30, C, (_gp("counter", _RD),), summary="close a hardware loop"),
    OpcodeInfo("C_BREAK", 0x31, C, (), summary="pop the innermost loop frame"),
    OpcodeInfo(
        "S_MAP_FP_V",
        0x35,
        SF,
        (_gp("fpram", _RD), _gp("vram", _RS1), Operand("imm", Kind.IMM, Field.IMM2)),
        summary="FPRAM[gp + imm .. +V] = VROW",
    ),
    OpcodeInfo("S_SLL_INT", 0x36, SI, _INT_RRR, summary="gpD = gpA << (gpB & 31)"),
    OpcodeInfo("S_SLLI_INT", 0x37, SI, _INT_RRI, summary="gpD = gpA << (imm & 31)"),
    OpcodeInfo("S_SRL_INT", 0x38, SI, _INT_RRR, summary="gpD = gpA >> (gpB & 31)"),
    OpcodeInfo("S_SRLI_INT", 0x39, SI, _INT_RRI, summary="gpD = gpA >> (imm & 31)"),
    OpcodeInfo("S_DIV_INT", 0x3A, SI, _INT_RRR, summary="gpD = gpA / gpB (0 if gpB = 0)"),
    OpcodeInfo("S_REM_INT", 0x3B, SI, _INT_RRR, summary="gpD = gpA % gpB (gpA if gpB = 0)"),
    OpcodeInfo("M_TMM_A", 0x3C, M, (_IGN0, *_MAT_VEC), summary="executes as M_MM on plena-tvm"),
)

#: mnemonic -> OpcodeInfo for the plena-tvm revision.
TVM_ISA: Mapping[str, OpcodeInfo] = MappingProxyType({i.mnemonic: i for i in _TABLE})

#: mnemonic -> opcode number (the target's opcode table).
TVM_OPCODES: Mapping[str, int] = MappingProxyType({i.mnemonic: i.opcode for i in _TABLE})

#: opcode number -> OpcodeInfo.
TVM_BY_OPCODE: Mapping[int, OpcodeInfo] = MappingProxyType({i.opcode: i for i in _TABLE})

#: Immediates whose encoding (bit 11, as the published assembler writes them) and decoding
#: (bits 16..31, as the emulator reads them) disagree: only 0 means what it says.
WRITE_OUT_IMM_MISMATCH = frozenset({"M_BMM_WO", "M_MV_WO", "M_BMV_WO"})
