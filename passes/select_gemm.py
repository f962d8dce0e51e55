"""`plena-select-gemm`: choose the instruction form of every `tile.gemm`.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-select-gemm'
    plena-opt kernel.mlir -p 'plena-infer-memory,plena-select-gemm{form=M_TMM}'

For each gemm the pass reads the dim roles and shapes, prices every instruction form that
computes them with the cycle model of `plena_mlir.lowering.gemm_forms` (the target's
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

A gemm that already has `plena.gemm` (written by hand, or by an earlier run) keeps its form,
checked against the roles; the option `form` forces one form on every gemm.  Errors
(DiagnosticException naming the op): roles no form computes (A or C transposed), operands
whose memory space is unresolved or wrong (B must be MRAM, A and C VRAM), B not whole
MLEN x MLEN tiles, a forced form that does not compute the gemm.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import AllocOp, BufferType, GemmOp, MemorySpace
from plena_mlir.dialects.tile.types import format_shape
from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.lowering.gemm_forms import (
    Form,
    GemmFormError,
    GemmShape,
    candidate_forms,
    form_cost,
    parse_roles,
    scratch_shape,
    select_form,
)
from plena_mlir.target import Target

#: The attribute recording the choice: {form, cycles, reason}.
GEMM_ATTR = "plena.gemm"

_SPACES = {"a": MemorySpace.VRAM, "b": MemorySpace.MRAM, "c": MemorySpace.VRAM}


def describe_gemm(op: GemmOp) -> str:
    """How diagnostics name a gemm: its product and operand types."""
    types = ", ".join(
        f"{format_shape(v.type.get_shape())}x{v.type.element_type} {v.type.space}"
        for v in (op.c, op.a, op.b)
    )
    return f"tile.gemm ({op.einsum}; c, a, b: {types})"


def gemm_shape(op: GemmOp, target: Target) -> GemmShape:
    """The shape of `op`; DiagnosticException when no form can compute it."""

    def fail(reason: str) -> DiagnosticException:
        return DiagnosticException(f"plena-select-gemm: {describe_gemm(op)}: {reason}")

    for name, space in _SPACES.items():
        typ = getattr(op, name).type
        assert isinstance(typ, BufferType)
        if typ.space is MemorySpace.INFERRED:
            raise fail(f"{name} has no memory space yet: run plena-infer-memory first")
        if typ.space is not space:
            raise fail(f"{name} is in {typ.space}; the matrix unit reads it from {space}")
    try:
        transposed = parse_roles(op.a_roles.data, op.b_roles.data, op.c_roles.data)
    except GemmFormError as error:
        raise fail(str(error)) from None
    m, k = op.a.type.get_shape()
    n = op.c.type.get_shape()[1]
    M = target.mlen
    if k % M or n % M:
        raise fail(
            f"B ({k} x {n} as K x N) must be whole {M}x{M} MRAM tiles (H_PREFETCH_M loads one "
            "tile, every matrix instruction reads a whole tile's K)"
        )
    return GemmShape(m, n, k, transposed, op.accumulate is not None)


def chosen_form(op: GemmOp) -> Form | None:
    """The form recorded on `op` by plena-select-gemm, if any."""
    attr = op.attributes.get(GEMM_ATTR)
    if not isinstance(attr, DictionaryAttr) or not isinstance(attr.data.get("form"), StringAttr):
        return None
    return Form(attr.data["form"].data)


@dataclass(frozen=True)
class SelectGemmPass(ModulePass):
    """Choose and record the instruction form of every tile.gemm (module docstring)."""

    name = "plena-select-gemm"

    form: str | None = None
    """Force this form (a `Form` value, e.g. "M_TMM") on every gemm instead of choosing."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        forced = self._forced()
        for gemm in [g for g in op.walk() if isinstance(g, GemmOp)]:
            self._select(gemm, target, forced)

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

    def _select(self, gemm: GemmOp, target: Target, forced: Form | None) -> None:
        shape = gemm_shape(gemm, target)
        try:
            kept = forced or chosen_form(gemm)
        except ValueError:
            raise DiagnosticException(
                f"plena-select-gemm: {describe_gemm(gemm)}: {GEMM_ATTR} names an unknown form"
            ) from None
        best, costs = select_form(shape, target)
        if kept is not None:
            if kept not in candidate_forms(shape):
                raise DiagnosticException(
                    f"plena-select-gemm: {describe_gemm(gemm)}: {kept.value} does not compute "
                    f"it (forms that do: {', '.join(c.form.value for c in costs)})"
                )
            best = form_cost(kept, shape, target)
        reason = "; ".join(
            [best.describe()] + [c.describe() for c in costs if c.form is not best.form]
        )
        gemm.attributes[GEMM_ATTR] = DictionaryAttr(
            {
                "form": StringAttr(best.form.value),
                "cycles": IntegerAttr(best.cycles, i64),
                "reason": StringAttr(reason),
            }
        )
        _attach_scratch(gemm, scratch_shape(best.form, shape, target))


def _attach_scratch(gemm: GemmOp, shape: tuple[int, int] | None) -> None:
    """Give `gemm` a VRAM scratch of `shape` (a new tile.alloc before it), or none."""
    if gemm.scratch is not None:
        current = gemm.scratch.type
        assert isinstance(current, BufferType)
        if shape is not None and tuple(current.get_shape()) == shape:
            return
    new_scratch = None
    if shape is not None:
        element = gemm.c.type.element_type
        alloc = AllocOp(BufferType(shape, element, MemorySpace.VRAM))
        alloc.result.name_hint = "gemm_scratch"
        Rewriter.insert_op(alloc, InsertPoint.before(gemm))
        new_scratch = alloc.result
    replacement = GemmOp(
        gemm.c,
        gemm.a,
        gemm.b,
        gemm.einsum,
        gemm.accumulate is not None,
        new_scratch,
    )
    replacement.attributes |= gemm.attributes
    old_scratch = gemm.scratch
    Rewriter.replace_op(gemm, replacement, [])
    if old_scratch is not None and isinstance(old_scratch.owner, AllocOp):
        if not old_scratch.uses:
            Rewriter.erase_op(old_scratch.owner)
