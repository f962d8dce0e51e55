"""The cycle model: the emulator's fixed cost of each instruction, and the MACs it performs.

Fixed cycles follow `plena-isa-tvm.md` A3.8 with the target's latency table (SPO =
SYSTOLIC_PROCESSING_OVERHEAD); nothing overlaps, so a run's time is the sum of the fixed
cycles of every executed instruction plus the DMA cycles the `Hbm` model returns for each
H_* transfer (its documented approximation of the emulator's Ramulator HBM2 time).

| instruction                                   | fixed cycles                     |
|-----------------------------------------------|----------------------------------|
| M_MM, M_TMM, M_TMM_A, M_BMM, M_BTMM           | SPO + M                          |
| M_MV, M_TMV                                   | M                                |
| M_BTMV, M_BMV                                 | SPO + 1                          |
| M_*_WO                                        | 1                                |
| V_ADD/SUB_VV/VF, V_MUL_VV/VF, V_EXP_V, V_RECI_V | VECTOR_ADD/MUL/EXP/RECI        |
| V_RED_MAX, V_RED_SUM                          | VECTOR_MAX, VECTOR_SUM; 0 if rd=0 |
| S_ADD/SUB/MAX/MUL_FP, S_EXP/RECI/SQRT_FP      | SCALAR_FP_BASIC/EXP/RECI/SQRT; 0 if rd=0 |
| S_LD_FP, S_ST_FP                              | 1                                |
| S_MAP_V_FP / S_MAP_FP_V                       | 2*V / V                          |
| S_*_INT                                       | SCALAR_INT_BASIC                 |
| C_*                                           | 1                                |
| H_PREFETCH_M/V, H_STORE_V                     | 0 + the DMA cycles               |

MACs (`plena-isa.md` 8.4, with L*H = M): M_MM/M_TMM/M_TMM_A B*B*M; M_MV/M_TMV B*M;
M_BTMM/M_BMM L*M*M*H; M_BTMV L*H*M.  Peak is M*M MACs per cycle, the rate of the batched
unit (M_BTMM does M^3 MACs in M cycles); MAC utilisation = MACs / (cycles * M*M).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plena_mlir.sim.ops_common import Fields
from plena_mlir.sim.ops_dma import transfer_shape
from plena_mlir.target import Target

if TYPE_CHECKING:
    from plena_mlir.sim.hbm import Hbm

_LATENCY_KEY = {
    "V_ADD_VV": "VECTOR_ADD_CYCLES",
    "V_ADD_VF": "VECTOR_ADD_CYCLES",
    "V_SUB_VV": "VECTOR_ADD_CYCLES",
    "V_SUB_VF": "VECTOR_ADD_CYCLES",
    "V_MUL_VV": "VECTOR_MUL_CYCLES",
    "V_MUL_VF": "VECTOR_MUL_CYCLES",
    "V_EXP_V": "VECTOR_EXP_CYCLES",
    "V_RECI_V": "VECTOR_RECI_CYCLES",
    "V_RED_MAX": "VECTOR_MAX_CYCLES",
    "V_RED_SUM": "VECTOR_SUM_CYCLES",
    "S_ADD_FP": "SCALAR_FP_BASIC_CYCLES",
    "S_SUB_FP": "SCALAR_FP_BASIC_CYCLES",
    "S_MAX_FP": "SCALAR_FP_BASIC_CYCLES",
    "S_MUL_FP": "SCALAR_FP_BASIC_CYCLES",
    "S_EXP_FP": "SCALAR_FP_EXP_CYCLES",
    "S_RECI_FP": "SCALAR_FP_RECI_CYCLES",
    "S_SQRT_FP": "SCALAR_FP_SQRT_CYCLES",
}

#: Instructions that do nothing and cost nothing when rd (an FP register) is f0.
_SKIPPED_WITH_RD0 = frozenset(
    {"V_RED_MAX", "V_RED_SUM", "S_ADD_FP", "S_SUB_FP", "S_MAX_FP", "S_MUL_FP",
     "S_EXP_FP", "S_RECI_FP", "S_SQRT_FP"}
)

_SYSTOLIC = frozenset({"M_MM", "M_TMM", "M_TMM_A", "M_BMM", "M_BTMM"})
_MATRIX_VECTOR = frozenset({"M_MV", "M_TMV"})
_DMA = frozenset({"H_PREFETCH_M", "H_PREFETCH_V", "H_STORE_V"})


def fixed_cycles(mnemonic: str, f: Fields, target: Target) -> int:
    """The cycles `mnemonic` (with the decoded fields `f`) costs besides any DMA time."""
    lat = target.latencies
    spo = lat["SYSTOLIC_PROCESSING_OVERHEAD"]
    if mnemonic in _SKIPPED_WITH_RD0 and f.rd == 0:
        return 0
    if mnemonic in _LATENCY_KEY:
        return lat[_LATENCY_KEY[mnemonic]]
    if mnemonic in _SYSTOLIC:
        return spo + target.mlen
    if mnemonic in _MATRIX_VECTOR:
        return target.mlen
    if mnemonic in ("M_BTMV", "M_BMV"):
        return spo + 1
    if mnemonic in _DMA:
        return 0
    if mnemonic == "S_MAP_V_FP":
        return 2 * target.vlen
    if mnemonic == "S_MAP_FP_V":
        return target.vlen
    if mnemonic.startswith("S_") and mnemonic.endswith("_INT"):
        return lat["SCALAR_INT_BASIC_CYCLES"]
    return 1  # write-outs, S_LD_FP, S_ST_FP, C_*


def dma_cycles_bound(mnemonic: str, f: Fields, hbm: Hbm) -> int:
    """The most DMA cycles one execution of `mnemonic` can take (0 for all but H_*)."""
    if mnemonic not in _DMA:
        return 0
    store, rows, row_len, _ = transfer_shape(mnemonic, f, hbm.target)
    return hbm.transfer_cycles_bound(rows, row_len, store)


def macs(mnemonic: str, target: Target) -> int:
    """Multiply-accumulates one execution of `mnemonic` performs."""
    M, B, H, L = target.mlen, target.blen, target.hlen, target.lanes
    if mnemonic in ("M_MM", "M_TMM", "M_TMM_A"):
        return B * B * M
    if mnemonic in _MATRIX_VECTOR:
        return B * M
    if mnemonic in ("M_BTMM", "M_BMM"):
        return L * M * M * H
    if mnemonic == "M_BTMV":
        return L * H * M
    return 0

