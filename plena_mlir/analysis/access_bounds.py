"""No silent out-of-bounds access: every `tile.copy` region and every FPRAM element index of a
kernel lies inside its tensor or buffer, for every grid point and every loop trip.

    check_access_bounds(module)     # DiagnosticException at the first access that can leave

The machine checks no DMA or FPRAM address, so a region past the end of its tensor reads or
writes other data.  For each sliced side of a `tile.copy` (HBM tensor or on-chip buffer) and
each dimension with an SSA offset, `IndexRanges` (plena_mlir/analysis/index_ranges.py) gives the
offset's range [lo, hi]; the check requires

    0 <= lo   and   hi + extent <= dimension size

and, for an element `%buf[%i]` of a rank-1 FPRAM buffer (`tile.fp_*`, `tile.*_scalar`,
`tile.reduce_*`), 0 <= lo and hi < entries.  A violation is reported with the grid point and
loop indices that reach it:

    tile.copy %x[(%block * 64), 0] -> %t: rows 192..255 of %x (128 rows) are out of bounds
    when %block = 3 (grid block = 4)

An offset the analysis cannot bound (it comes from an op other than index arithmetic, or is
carried by an scf.for in a way the analysis does not follow) is an error too, naming that op.
Static offsets are checked by the `tile.copy` and FPRAM operand verifiers; accesses inside an
scf.for that runs no iteration never happen and are not checked.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.index_ranges import IndexRanges, Unbounded, Variable, describe_index
from plena_mlir.dialects.tile import CopyOp, KernelOp, OperandListSyntax
from plena_mlir.dialects.tile.memory_ops import SIDES


def check_access_bounds(module: ModuleOp) -> None:
    """Raise a DiagnosticException at the first access of a kernel of `module` that can fall
    outside its tensor or buffer (module docstring)."""
    for kernel in module.walk():
        if isinstance(kernel, KernelOp):
            _check_kernel(kernel)


def _check_kernel(kernel: KernelOp) -> None:
    ranges = IndexRanges(kernel)
    for op in kernel.walk():
        if not ranges.runs(op):
            continue
        if isinstance(op, CopyOp):
            _check_copy(ranges, op)
        elif isinstance(op, OperandListSyntax):
            _check_elements(ranges, op)


def _check_copy(ranges: IndexRanges, copy: CopyOp) -> None:
    for side in SIDES:
        if not copy.is_sliced(side):
            continue
        value = getattr(copy, side)
        extent = copy.extent(side)
        assert extent is not None, "the tile.copy verifier rejects an underivable extent"
        for dim, (offset, size) in enumerate(zip(copy.offsets(side), extent, strict=True)):
            if isinstance(offset, SSAValue):
                _check_range(ranges, _describe_copy(copy), value, dim, offset, size)


def _check_elements(ranges: IndexRanges, op: OperandListSyntax) -> None:
    for role in op.OPERANDS:
        index = getattr(op, f"{role}_index", None)
        if index is not None:
            value = getattr(op, role)
            where = f"{op.name} {_name(value)}[{describe_index(index)}]"
            _check_range(ranges, where, value, 0, index, 1)


def _check_range(
    ranges: IndexRanges, where: str, value: SSAValue, dim: int, offset: SSAValue, size: int
) -> None:
    """Indices offset .. offset + size - 1 of dimension `dim` of `value` are inside it."""
    shape = value.type.get_shape()
    offsets = ranges.of(offset)
    if isinstance(offsets, Unbounded):
        raise DiagnosticException(
            f"{where}: the offset {describe_index(offset)} into dimension {dim} of "
            f"{_name(value)} cannot be bounded: it depends on {offsets.reason}; the hardware "
            "does not check addresses"
        )
    for highest in (False, True):
        first, witness = offsets.extreme(highest)
        if 0 <= first and first + size <= shape[dim]:
            continue
        raise DiagnosticException(
            f"{where}: {_indices(value, dim, first, size)} out of bounds{_when(witness)}"
        )


def _describe_copy(copy: CopyOp) -> str:
    """`tile.copy %x[%row0, 0] -> %t`"""
    sides = []
    for side in SIDES:
        text = _name(getattr(copy, side))
        if copy.is_sliced(side):
            offsets = copy.offsets(side)
            text += f"[{', '.join(_offset(o) for o in offsets)}]"
        sides.append(text)
    return f"{copy.name} {sides[0]} -> {sides[1]}"


def _offset(offset: SSAValue | int) -> str:
    return str(offset) if isinstance(offset, int) else describe_index(offset)


def _name(value: SSAValue) -> str:
    """`%x`, or for an unnamed buffer its type."""
    if value.name_hint:
        return f"%{value.name_hint}"
    owner = value.owner
    return f"the {owner.name} {value.type}" if isinstance(owner, Operation) else str(value.type)


#: What one index and several indices of (rank, dimension) are called.
_INDEX_WORDS = {
    (1, 0): ("entry", "entries"),
    (2, 0): ("row", "rows"),
    (2, 1): ("column", "columns"),
}


def _indices(value: SSAValue, dim: int, first: int, size: int) -> str:
    """`rows 192..255 of %x (128 rows) are`, `entry 64 of %s (64 entries) is`,
    `indices 64..127 of dimension 1 of %q (size 128) are`."""
    shape = value.type.get_shape()
    singular, plural = _INDEX_WORDS.get((len(shape), dim), ("index", "indices"))
    indices = f"{singular} {first}" if size == 1 else f"{plural} {first}..{first + size - 1}"
    verb = "is" if size == 1 else "are"
    if len(shape) > 2:
        return f"{indices} of dimension {dim} of {_name(value)} (size {shape[dim]}) {verb}"
    return f"{indices} of {_name(value)} ({shape[dim]} {plural}) {verb}"


def _when(witness: dict[Variable, int]) -> str:
    """` when %block = 3 (grid block = 4), %i = 64 (scf.for %i = 0 to 128 step 64)`"""
    if not witness:
        return ""
    return " when " + ", ".join(f"{v.name} = {k} ({v.origin})" for v, k in witness.items())
