"""Which instruction form computes a `tile.gemm` or a `lane.gemm`, read from the op.

`plena-select-gemm` (passes/select_gemm.py, through `gemm/selection.py`) records the choice;
the lowering and both interpreters read it back here, so all three agree on the form:

- `gemm_shape` / `lane_gemm_shape`: the op's `GemmShape` (DiagnosticException when no form
  can compute it: roles, memory spaces, B not whole MLEN x MLEN tiles);
- `chosen_form` / `lane_chosen_form`: the form recorded on the op (`plena.gemm`, `via`);
- `lane_gemm_form`: the form the compiled program computes a lane.gemm with (its `via`, or
  the cheapest); `head_gemm_form`: that of a per-head tile.gemm of a narrow-head kernel;
- `is_batched_qk`: the one rule for every head's Q·Kᵀ at once (lane.btmm / lane.btmv),
  which plena-expand-lanes and the interpreters both apply.
"""

from __future__ import annotations

from xdsl.dialects.builtin import DictionaryAttr, StringAttr
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects import lane
from plena_mlir.dialects.lane import LaneBufferType, LaneLayout
from plena_mlir.dialects.tile import BufferType, GemmOp, MemorySpace
from plena_mlir.gemm.forms import Form, GemmFormError, GemmShape, parse_roles, select_form
from plena_mlir.ir.addresses import LayoutError, buffer_layout
from plena_mlir.ir.naming import describe_gemm, describe_lane_gemm
from plena_mlir.target import Target

#: The attribute recording the choice: {form, cycles, reason}.
GEMM_ATTR = "plena.gemm"

_SPACES = {"a": MemorySpace.VRAM, "b": MemorySpace.MRAM, "c": MemorySpace.VRAM}


def is_batched_qk(
    op: GemmOp | lane.GemmOp, a_rows: int, b_head: tuple[int, ...], target: Target
) -> bool:
    """Whether a per-head gemm with `a_rows` rows of A and a head's B of shape `b_head` is
    every head's Q·Kᵀ at once: c = a·bᵀ, not accumulating, A MLEN rows (lane.btmm) or one
    row (lane.btmv), B MLEN keys of HLEN (the batched forms contract K = HLEN per lane)."""
    return (
        op.einsum == "mk,nk->mn"
        and op.accumulate is None
        and a_rows in (target.mlen, 1)
        and tuple(b_head) == (target.mlen, target.hlen)
    )


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
    no form computes (`is_batched_qk`)."""
    m, k = op.a.type.get_shape()
    n = op.c.type.get_shape()[1]
    if is_batched_qk(op, m, tuple(op.b.type.get_shape()), target):
        return None
    try:
        transposed_b = parse_roles(op.a_roles.data, op.b_roles.data, op.c_roles.data)
        shape, row_blocks = one_lane_shape(
            m, n, k, transposed_b, op.accumulate is not None, n == target.hlen, target
        )
        return cheapest_lane_form(shape, row_blocks, target)
    except GemmFormError:
        return None
