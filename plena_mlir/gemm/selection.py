"""Choosing and recording the form of a gemm: what `plena-select-gemm` does to each op.

`select_tile_gemm` and `select_lane_gemm` price every form that computes the op
(`gemm/forms.py`), keep a forced or already recorded form (checked), record the choice with
every candidate's cost as `plena.gemm` (a lane.gemm also as `via`), and give the op the VRAM
scratch its form writes partial products to: a `tile.alloc` just before a tile.gemm, a
`lane.alloc` of L row_stack slabs just before the loop over lanes for a lane.gemm.
"""

from __future__ import annotations

from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, StringAttr, i64
from xdsl.ir import SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects import lane
from plena_mlir.dialects.lane import LaneBufferType, LaneLayout
from plena_mlir.dialects.lane.traits import enclosing_lane_loop
from plena_mlir.dialects.tile import AllocOp, BufferType, GemmOp, MemorySpace
from plena_mlir.gemm.choice import (
    GEMM_ATTR,
    chosen_form,
    gemm_shape,
    lane_chosen_form,
    lane_gemm_shape,
)
from plena_mlir.gemm.forms import (
    Form,
    FormCost,
    GemmFormError,
    GemmShape,
    candidate_forms,
    form_cost,
    scratch_shape,
    select_form,
)
from plena_mlir.ir.naming import describe_gemm, describe_lane_gemm
from plena_mlir.target import Target


def _choice_attr(best: FormCost, costs: list[FormCost]) -> DictionaryAttr:
    """`plena.gemm`: the form, its cycles, and the reason (every candidate's cost)."""
    reason = "; ".join([best.describe()] + [c.describe() for c in costs if c.form is not best.form])
    return DictionaryAttr(
        {
            "form": StringAttr(best.form.value),
            "cycles": IntegerAttr(best.cycles, i64),
            "reason": StringAttr(reason),
        }
    )


def select_tile_gemm(gemm: GemmOp, target: Target, forced: Form | None) -> None:
    """Choose the form of `gemm` (or keep `forced` / the recorded one, checked), record it
    as `plena.gemm` and give the gemm the VRAM scratch the form needs."""
    shape = gemm_shape(gemm, target)
    try:
        kept = forced or chosen_form(gemm)
    except ValueError:
        raise DiagnosticException(
            f"plena-select-gemm: {describe_gemm(gemm)}: {GEMM_ATTR} names an unknown form"
        ) from None
    best, costs = select_form(shape, target)
    if kept is not None:
        if kept not in candidate_forms(shape, target):
            raise DiagnosticException(
                f"plena-select-gemm: {describe_gemm(gemm)}: {kept.value} does not compute "
                f"it (forms that do: {', '.join(c.form.value for c in costs)})"
            )
        best = form_cost(kept, shape, target)
    gemm.attributes[GEMM_ATTR] = _choice_attr(best, costs)
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


def select_lane_gemm(gemm: lane.GemmOp, target: Target, forced: Form | None) -> None:
    """Choose the form of one lane's gemm (as for tile.gemm), record it as `via` and
    `plena.gemm`, and give it the scratch the form needs."""
    shape, row_blocks = lane_gemm_shape(gemm, target)
    kept = forced or lane_chosen_form(gemm)
    try:
        best, costs = select_form(shape, target, row_blocks)
    except GemmFormError as error:
        raise DiagnosticException(
            f"plena-select-gemm: {describe_lane_gemm(gemm)}: {error}"
        ) from None
    if kept is not None:
        if kept not in candidate_forms(shape, target, row_blocks):
            raise DiagnosticException(
                f"plena-select-gemm: {describe_lane_gemm(gemm)}: {kept.value} does not compute "
                f"it (forms that do: {', '.join(c.form.value for c in costs)})"
            )
        best = form_cost(kept, shape, target)
    attribute = _choice_attr(best, costs)
    scratch = _lane_scratch(gemm, best.form, shape, target)
    replacement = lane.GemmOp(
        gemm.c,
        gemm.a,
        gemm.b,
        gemm.lane,
        gemm.einsum,
        shape.accumulate,
        best.form.matrix_instruction,
        scratch,
    )
    replacement.attributes |= gemm.attributes | {GEMM_ATTR: attribute}
    old_scratch = gemm.scratch
    Rewriter.replace_op(gemm, replacement, [])
    if old_scratch is not None and old_scratch is not scratch and not old_scratch.uses:
        if isinstance(old_scratch.owner, lane.AllocOp):
            Rewriter.erase_op(old_scratch.owner)


def _lane_scratch(
    gemm: lane.GemmOp, form: Form, shape: GemmShape, target: Target
) -> SSAValue | None:
    """The scratch of `form` for the gemm (its current one if it has that type, else a new
    lane.alloc just before the loop over lanes): the L slabs of M_BMM_WO (L x M x M) or the
    L rows of M_BMV_WO (L x 1 x M) as a row_stack buffer, or C's type for an accumulating
    M_MM / M_TMM / M_MV."""
    c = gemm.c.type
    assert isinstance(c, LaneBufferType)
    M, L = target.mlen, target.lanes
    if form.lane_sum:
        rows = 1 if form is Form.BTMV_LANE_SUM else M
        typ = LaneBufferType((L, rows, M), c.element_type, MemorySpace.VRAM, LaneLayout.ROW_STACK)
    elif shape.accumulate:
        typ = c
    else:
        return None
    if gemm.scratch is not None and gemm.scratch.type == typ:
        return gemm.scratch
    alloc = lane.AllocOp(typ)
    alloc.result.name_hint = "gemm_scratch"
    loop = enclosing_lane_loop(gemm)
    Rewriter.insert_op(alloc, InsertPoint.before(loop if loop is not None else gemm))
    return alloc.result
