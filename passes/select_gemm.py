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

The interpreters share the choice: `lane_gemm_form` is the form the compiled program computes
a lane.gemm with, `head_gemm_form` that of a per-head tile.gemm of a kernel with narrow heads
(the lane.gemm plena-expand-lanes makes of it, or none for the batched Q·Kᵀ).

A gemm that already has `plena.gemm` (written by hand, or by an earlier run) keeps its form,
checked against the roles; the option `form` forces one form on every gemm.  Errors
(DiagnosticException naming the op): roles no form computes (A or C transposed), operands
whose memory space is unresolved or wrong (B must be MRAM, A and C VRAM), B not whole
MLEN x MLEN tiles, a forced form that does not compute the gemm.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects import lane
from plena_mlir.dialects.lane import LaneBufferType, LaneLayout
from plena_mlir.dialects.lane.traits import enclosing_lane_loop
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import AllocOp, BufferType, GemmOp, MemorySpace
from plena_mlir.dialects.tile.types import format_shape
from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.gemm.forms import (
    Form,
    GemmFormError,
    GemmShape,
    candidate_forms,
    form_cost,
    parse_roles,
    scratch_shape,
    select_form,
)
from plena_mlir.ir.addresses import LayoutError, buffer_layout
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
    """Choose and record the form of every tile.gemm and lane.gemm (module docstring)."""

    name = "plena-select-gemm"

    form: str | None = None
    """Force this form (a `Form` value, e.g. "M_TMM") on every gemm instead of choosing."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        forced = self._forced()
        for gemm in [g for g in op.walk() if isinstance(g, GemmOp | lane.GemmOp)]:
            if isinstance(gemm, GemmOp):
                self._select(gemm, target, forced)
            else:
                _select_lane(gemm, target, forced)

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
            if kept not in candidate_forms(shape, target):
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


# ---------------------------------------------------------------------------------------------
# lane.gemm: one head's product, per lane
# ---------------------------------------------------------------------------------------------


def describe_lane_gemm(op: lane.GemmOp) -> str:
    """How diagnostics name a lane.gemm: its product and operand types."""
    return f"lane.gemm ({op.einsum}; c, a, b: {op.c.type}, {op.a.type}, {op.b.type})"


def lane_gemm_shape(op: lane.GemmOp, target: Target) -> tuple[GemmShape, bool]:
    """One lane's gemm, and whether its C may be written BLEN rows at a time (the
    `row_blocks` of `candidate_forms`); DiagnosticException when no form computes it.

    A lane's A is whole VRAM rows (row_stack: its slab, K = MLEN; flat: K a multiple of
    MLEN); its B the tiles of a col_pack (its H columns) or flat MRAM buffer; its C H columns
    of a col_pack buffer or its row_stack slab."""

    def fail(reason: str) -> DiagnosticException:
        return DiagnosticException(f"plena-select-gemm: {describe_lane_gemm(op)}: {reason}")

    a, b, c = (v.type for v in (op.a, op.b, op.c))
    assert isinstance(a, LaneBufferType) and isinstance(b, LaneBufferType)
    assert isinstance(c, LaneBufferType)
    if a.layout is LaneLayout.COL_PACK:
        raise fail(
            "a is col_pack: a head's A would be H columns of the packed rows, but every matrix "
            "instruction contracts whole VRAM rows (K = MLEN per tile); keep A row_stack or flat"
        )
    try:
        transposed = parse_roles(op.a_roles.data, op.b_roles.data, op.c_roles.data)
        buffer_layout(b.physical, target)
    except (GemmFormError, LayoutError) as error:
        raise fail(str(error)) from None
    sizes = dict(zip(op.a_roles.data, a.lane_shape, strict=True))
    sizes |= dict(zip(op.c_roles.data, c.lane_shape, strict=True))
    m, n, k = sizes["m"], sizes["n"], sizes["k"]
    if transposed and b.layout is not LaneLayout.FLAT:
        raise fail("a per-lane B stored [n, k] must be flat: a col_pack lane is H columns of K")
    M = target.mlen
    if k % M:
        raise fail(f"K ({k}) must be whole {M}-row MRAM tiles")
    packed = c.layout is LaneLayout.COL_PACK
    return one_lane_shape(m, n, k, transposed, op.accumulate is not None, packed, target)


def one_lane_shape(
    m: int, n: int, k: int, transposed_b: bool, accumulate: bool, packed_c: bool, target: Target
) -> tuple[GemmShape, bool]:
    """One lane's gemm C[m, n] (+)= A[m, k] * B'[k, n], C H columns of a col_pack buffer
    (`packed_c`) or a row_stack slab, and its `row_blocks`: a packed C's rows are whole VRAM
    rows, a slab's may be written BLEN rows at a time only when they are a multiple of BLEN."""
    shape = GemmShape(m, n, k, transposed_b, accumulate, packed_c=packed_c)
    return shape, packed_c or m % target.blen == 0


def cheapest_lane_form(shape: GemmShape, row_blocks: bool, target: Target) -> Form:
    """The form plena-select-gemm chooses for one lane's gemm with no `via` recorded: the
    cheapest (`select_form`); GemmFormError when no form computes it."""
    return select_form(shape, target, row_blocks)[0].form


def lane_chosen_form(op: lane.GemmOp) -> Form | None:
    """The form the op's `via` names, if any; DiagnosticException for one plena-tvm does not
    compute a gemm with."""
    if op.instruction is None:
        return None
    try:
        return Form.of_instruction(op.instruction.data)
    except ValueError as error:
        raise DiagnosticException(f"plena-select-gemm: {describe_lane_gemm(op)}: {error}") from None


def lane_gemm_form(op: lane.GemmOp, target: Target) -> Form:
    """The form the compiled program computes `op` with: its `via`, or the cheapest;
    DiagnosticException when no form computes it."""
    shape, row_blocks = lane_gemm_shape(op, target)
    chosen = lane_chosen_form(op)
    if chosen is not None:
        return chosen
    try:
        return cheapest_lane_form(shape, row_blocks, target)
    except GemmFormError as error:
        raise DiagnosticException(f"plena-select-gemm: {describe_lane_gemm(op)}: {error}") from None


def head_gemm_form(op: GemmOp, target: Target) -> Form | None:
    """The form the compiled program computes `op` with, a `tile.gemm` of one head in a
    kernel whose lane axis plena-expand-lanes packs into lanes (heads narrower than MLEN).
    None when it computes the product rounded once: every head's Q·Kᵀ at once (lane.btmm /
    lane.btmv, one f32 product per lane written out), or a gemm compilation rejects.

    A head's buffers are one lane's (every lane layout keeps the shape one head has), so the
    gemm's lane.gemm has its m, n and k, and its C (written from a lane-dependent operand) is
    col_pack when H wide.  plena-expand-lanes records no `via`, so the form is the cheapest
    for that lane (`cheapest_lane_form`), whatever `plena.gemm` the tile.gemm carries.  Q·Kᵀ
    (c = a·bᵀ, a R x H with R = MLEN or 1, b MLEN x H, c R x MLEN) is batched whenever it
    compiles: with a or b lane-independent its lane.gemm would contract K = H < MLEN, which
    no form computes (`is_batched_gemm` decides it from the lane layouts)."""
    M, H = target.mlen, target.hlen
    m, k = op.a.type.get_shape()
    n = op.c.type.get_shape()[1]
    batched = (
        op.einsum == "mk,nk->mn"
        and op.accumulate is None
        and k == H
        and m in (M, 1)
        and tuple(op.b.type.get_shape()) == (M, H)
        and n == M
    )
    if batched:
        return None
    try:
        transposed_b = parse_roles(op.a_roles.data, op.b_roles.data, op.c_roles.data)
        shape, row_blocks = one_lane_shape(
            m, n, k, transposed_b, op.accumulate is not None, n == H, target
        )
        return cheapest_lane_form(shape, row_blocks, target)
    except GemmFormError:
        return None


def _select_lane(gemm: lane.GemmOp, target: Target, forced: Form | None) -> None:
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
    reason = "; ".join([best.describe()] + [c.describe() for c in costs if c.form is not best.form])
    attribute = DictionaryAttr(
        {
            "form": StringAttr(best.form.value),
            "cycles": IntegerAttr(best.cycles, i64),
            "reason": StringAttr(reason),
        }
    )
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
