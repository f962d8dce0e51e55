"""Vector-unit instructions: element-wise row ops and reductions (`plena-isa-tvm.md` A3.3/A3.4).

A = VROW(gp[rs1]), B = VROW(gp[rs2]) (VV forms), f = f[rs2] (VF forms).  The result is computed
in f32 and written to VROW(gp[rd]) rounded to bf16; source and destination may be the same row.

Masks: rmask = the rs3 literal.  rmask == 0 processes the whole row.  Otherwise V_MASK selects
heads: for head h < V/H, lanes h*H .. h*H+H-1 get the result when bit h is set and **the rs1
source values** when it is clear; the whole row is written.

Reductions round to the FP format (fp16 on plena-tvm); with rd = 0 they do nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from plena_mlir.numerics.formats import round_bf16, round_fp
from plena_mlir.sim.ops_common import Fields, Handler, aborting, register_error

if TYPE_CHECKING:
    from plena_mlir.sim.machine import Executor

_F32 = np.float32


def _lane_selector(ex: Executor) -> Callable[[int], np.ndarray]:
    """`lanes(vmask)`: the boolean lane mask of the heads whose V_MASK bit is set (cached)."""
    t = ex.target
    heads = t.vlen // t.hlen
    cache: dict[int, np.ndarray] = {}

    def lanes(vmask: int) -> np.ndarray:
        key = vmask & ((1 << heads) - 1)
        sel = cache.get(key)
        if sel is None:
            bits = [(key >> h) & 1 for h in range(heads)]
            sel = cache[key] = np.repeat(np.array(bits, dtype=bool), t.hlen)
        return sel

    return lanes


def _elementwise(compute: Callable[..., np.ndarray], scalar_rs2: bool, unary: bool = False):
    """A factory for `D = compute(A, B_or_f)` (or `compute(A)` when `unary`) with masking."""

    def factory(ex: Executor, f: Fields) -> Handler:
        st = ex.state
        if scalar_rs2 and (reason := register_error("FP", f.rs2, ex.target.fp_registers)):
            return aborting(reason)
        gp, fp, vram, first_row = st.gp, st.fp, st.vram, ex.first_row
        rd, rs1, rs2 = f.rd, f.rs1, f.rs2
        lanes = _lane_selector(ex) if f.rs3 else None

        def handler(pc: int, tick: int) -> int:
            a = vram[first_row(gp[rs1])]
            if unary:
                res = compute(a)
            elif scalar_rs2:
                res = compute(a, fp[rs2])
            else:
                res = compute(a, vram[first_row(gp[rs2])])
            if lanes is not None:
                res = np.where(lanes(st.vmask), res, a)
            vram[first_row(gp[rd])] = round_bf16(res)
            return pc + 1

        return handler

    return factory


def v_sub_vf(ex: Executor, f: Fields) -> Handler:
    """V_SUB_VF: D = A - f when funct1 == 0, else f - A (any non-zero order reverses)."""
    if f.funct1:
        return _elementwise(lambda a, s: s - a, scalar_rs2=True)(ex, f)
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
            return lambda pc, tick: pc + 1
        if reason := register_error("FP", f.rd, t.fp_registers):
            return aborting(reason)
        gp, fp, vram, first_row = st.gp, st.fp, st.vram, ex.first_row
        rd, rs1, fmt, H = f.rd, f.rs1, t.fp_format, t.hlen
        heads = t.vlen // t.hlen
        masked = f.rs3 != 0
        is_sum = kind == "sum"

        def handler(pc: int, tick: int) -> int:
            a = vram[first_row(gp[rs1])]
            r = fp[rd]
            parts = [a]
            if masked:
                vmask = st.vmask
                parts = [a[h * H : h * H + H] for h in range(heads) if vmask >> h & 1]
            for part in parts:
                if is_sum:
                    r = r + part.sum(dtype=_F32)
                else:
                    r = np.fmax(r, part.max())
            fp[rd] = round_fp(r, fmt)
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
