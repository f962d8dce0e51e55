"""`plena-select-gemm`: choose the instruction form of every `tile.gemm` and `lane.gemm`.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-select-gemm'
    plena-opt kernel.mlir -p 'plena-infer-memory,plena-select-gemm{form=M_TMM}'

For each gemm the pass reads the dim roles and shapes, prices every instruction form that
computes them with the cycle model of `plena_mlir.gemm.forms` (the target's
latencies: matrix instructions, write-outs, the lane reduction's vector adds and the address
stepping), and records the cheapest with its reason as `plena.gemm`:

    tile.gemm %c[m, n] = %a[m, k] * %b[n, k] scratch %0 {plena.gemm = {
        form = "M_BTMM+lane-sum", cycles = 1836 : i64,
        reason = "M_BTMM+lane-sum (8 M_BTMM + 4 write-outs + 768 lane adds): ~1836 cycles;
                  M_BTMV+lane-sum (...): ~... cycles; M_TMM (...): ~...cycles"}} : ...

A form that writes partial products out first (the lane-sum forms' L slabs, or the product
of an accumulating M_MM / M_TMM / M_MV) gets a VRAM scratch buffer: a `tile.alloc` placed
just before the gemm and passed as its `scratch` operand.  That is why the pass runs before
plena-allocate-memory (and after plena-infer-memory, which resolves the memory spaces the
choice depends on): the scratch is an ordinary buffer, sized, placed and reused by liveness
like any other.

A per-lane `lane.gemm` is priced as the gemm of one lane's operands (`lane_gemm_shape`) and
records its choice as `via` (the form's matrix instruction) and `plena.gemm`; its scratch is
a `lane.alloc` placed before the loop over lanes (multi-lane ops stay outside it):

    %gemm_scratch = lane.alloc : !lane.buffer<4x64x64xbf16, vram, row_stack>
    lane.for_lanes %l = 4 {
      lane.gemm %o[m, n] = %p[m, k] * %v[k, n] lane %l via M_BMM scratch %gemm_scratch
          {plena.gemm = {form = "M_BMM+lane-sum", cycles = 709 : i64, reason = "..."}} : ...
    }

Flash attention's P·V on M_MM costs 256 M_MM (16,384 cycles) per head and kv block, 8,192
M_MM = 524,288 cycles at 8 heads, 2 q blocks and 2 kv blocks; the lane-paired M_BMM on the
whole V tile plus the lane sum merged into the head's columns under V_MASK costs about 709
(docs/passes.md, "The P·V bound").

The choice lives in `plena_mlir.gemm`: `selection.py` chooses and records it, `choice.py`
reads it back for the lowering and both interpreters (`lane_gemm_form`, `head_gemm_form`).

A gemm that already has `plena.gemm` (written by hand, or by an earlier run) keeps its form,
checked against the roles; the option `form` forces one form on every gemm.  Errors
(DiagnosticException naming the op): roles no form computes (A or C transposed), operands
whose memory space is unresolved or wrong (B must be MRAM, A and C VRAM), B not whole
MLEN x MLEN tiles, a forced form that does not compute the gemm.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects import lane
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import GemmOp
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.gemm.forms import Form
from plena_mlir.gemm.selection import select_lane_gemm, select_tile_gemm


@dataclass(frozen=True)
class SelectGemmPass(ModulePass):
    """Choose and record the form of every tile.gemm and lane.gemm (module docstring)."""

    name = "plena-select-gemm"

    form: str | None = None
    """Force this form (a `Form` value, e.g. "M_TMM") on every gemm instead of choosing."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        forced = self._forced()
        for gemm in [g for g in op.walk() if isinstance(g, GemmOp | lane.GemmOp)]:
            if isinstance(gemm, GemmOp):
                select_tile_gemm(gemm, target, forced)
            else:
                select_lane_gemm(gemm, target, forced)

    def _forced(self) -> Form | None:
        if self.form is None:
            return None
        try:
            return Form(self.form)
        except ValueError:
            names = ", ".join(f.value for f in Form)
            raise DiagnosticException(
                f"plena-select-gemm: unknown form '{self.form}' (forms: {names})"
            ) from None
