"""Vector-unit instructions: element-wise row ops and reductions (`plena-isa-tvm.md` A3.3/A3.4).

A = VROW(gp[rs1]), B = VROW(gp[rs2]) (VV forms), f = f[rs2] (VF forms).  The result is computed
in f32 and written to VROW(gp[rd]) rounded to bf16; source and destination may be the same row.

Masks: rmask = the rs3 literal.  rmask == 0 processes the whole row.  Otherwise V_MASK selects
heads: for head h < V/H, lanes h*H .. h*H+H-1 get the result when bit h is set and **the rs1
source values** when it is clear; the whole row is written.

Reductions round to the FP format (fp16 on plena-tvm); with rd = 0 they do nothing at all.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

import ml_dtypes
import numpy as np

from plena_mlir.numerics.formats import f32_rounder
from plena_mlir.sim.ops_common import Fields, Handler, aborting, fmax, register_error, skip

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor

_F32 = np.float32
_BF16 = ml_dtypes.bfloat16


class _HeadRuns(dict):
    """runs[bits]: the lanes of the heads whose bit is set in `bits` (V_MASK's head bits), as
    (slice of contiguous heads, that slice of the scratch row `out`), made on first use."""

    def __init__(self, vlen: int, hlen: int, out: np.ndarray):
        super().__init__()
        self.heads, self.hlen, self.out = vlen // hlen, hlen, out

    def __missing__(self, bits: int) -> tuple[tuple[slice, np.ndarray], ...]:
        runs, h = [], 0
        while h < self.heads:
            if bits >> h & 1:
                first = h
                while h < self.heads and bits >> h & 1:
                    h += 1
                lanes = slice(first * self.hlen, h * self.hlen)
                runs.append((lanes, self.out[lanes]))
            h += 1
        self[bits] = tuple(runs)
        return self[bits]


def _elementwise(compute: Callable[..., np.ndarray], scalar_rs2: bool, unary: bool = False):
    """A factory for `D = compute(A, B_or_f, out)` (or `compute(A, out)` when `unary`) with
    masking: the f32 result goes to a scratch row, then to VRAM rounded to bf16."""

    def factory(ex: Executor, f: Fields) -> Handler:
        st = ex.state
        if scalar_rs2 and (reason := register_error("FP", f.rs2, ex.target.fp_registers)):
            return aborting(reason)
        gp, fp, rows = st.gp, st.fp, ex.rows
        rd, rs1, rs2 = f.rd, f.rs1, f.rs2
        out = np.empty(ex.target.vlen, _F32)
        if f.rs3:
            t = ex.target
            runs, head_bits = _HeadRuns(t.vlen, t.hlen, out), (1 << t.vlen // t.hlen) - 1

            def handler(pc: int, tick: int) -> int:
                a = rows[gp[rs1]]
                if unary:
                    compute(a, out)
                else:
                    compute(a, fp[rs2] if scalar_rs2 else rows[gp[rs2]], out)
                d = rows[gp[rd]]
                if d is not a:
                    d[...] = a  # the lanes of clear heads take the rs1 source values
                for lanes, result in runs[st.vmask & head_bits]:
                    d[lanes] = result.astype(_BF16)
                return pc + 1

        elif unary:

            def handler(pc: int, tick: int) -> int:
                compute(rows[gp[rs1]], out)
                rows[gp[rd]][...] = out.astype(_BF16)
                return pc + 1

        elif scalar_rs2:

            def handler(pc: int, tick: int) -> int:
                compute(rows[gp[rs1]], fp[rs2], out)
                rows[gp[rd]][...] = out.astype(_BF16)
                return pc + 1

        else:

            def handler(pc: int, tick: int) -> int:
                compute(rows[gp[rs1]], rows[gp[rs2]], out)
                rows[gp[rd]][...] = out.astype(_BF16)
                return pc + 1

        return handler

    return factory


def v_sub_vf(ex: Executor, f: Fields) -> Handler:
    """V_SUB_VF: D = A - f when funct1 == 0, else f - A (any non-zero order reverses)."""
    if f.funct1:
        return _elementwise(lambda a, s, out: np.subtract(s, a, out), scalar_rs2=True)(ex, f)
    return _elementwise(np.subtract, scalar_rs2=True)(ex, f)


def _reduction(kind: str):
    """V_RED_SUM / V_RED_MAX fD, gpA, rmask.

    rd = 0: no-op (no VRAM access, no checks).  Otherwise r starts from f32(f[rd]):
      SUM unmasked: r = r + sum(A);  masked: r = r + sum(head h) for each set head h, in order.
      MAX unmasked: r = max(max(A), f[rd]);  masked: r = max(r, max(head h)) per set head.
      The lane max propagates NaN; the max with the register ignores NaN.
    f[rd] = round_fp(r).
    """

    def factory(ex: Executor, f: Fields) -> Handler:
        t, st = ex.target, ex.state
        if f.rd == 0:
            return skip
        if reason := register_error("FP", f.rd, t.fp_registers):
            return aborting(reason)
        gp, fp, rows = st.gp, st.fp, ex.rows
        rd, rs1, rnd, H = f.rd, f.rs1, f32_rounder(t.fp_format), t.hlen
        heads = t.vlen // t.hlen
        reduce = np.add.reduce if kind == "sum" else np.maximum.reduce
        combine = operator.add if kind == "sum" else fmax

        if f.rs3:

            def handler(pc: int, tick: int) -> int:
                a = rows[gp[rs1]]
                r = fp[rd]
                vmask = st.vmask
                for h in range(heads):
                    if vmask >> h & 1:
                        r = combine(r, reduce(a[h * H : h * H + H]))
                fp[rd] = rnd(float(r))
                return pc + 1

        else:

            def handler(pc: int, tick: int) -> int:
                fp[rd] = rnd(float(combine(fp[rd], reduce(rows[gp[rs1]]))))
                return pc + 1

        return handler

    return factory


FACTORIES = {
    "V_ADD_VV": _elementwise(np.add, scalar_rs2=False),
    "V_SUB_VV": _elementwise(np.subtract, scalar_rs2=False),
    "V_MUL_VV": _elementwise(np.multiply, scalar_rs2=False),
    "V_ADD_VF": _elementwise(np.add, scalar_rs2=True),
    "V_SUB_VF": v_sub_vf,
    "V_MUL_VF": _elementwise(np.multiply, scalar_rs2=True),
    "V_EXP_V": _elementwise(np.exp, scalar_rs2=False, unary=True),
    "V_RECI_V": _elementwise(np.reciprocal, scalar_rs2=False, unary=True),
    "V_RED_SUM": _reduction("sum"),
    "V_RED_MAX": _reduction("max"),
}
