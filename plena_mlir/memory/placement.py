"""Placing a kernel's buffers, scalar arguments and HBM tensors: plena-allocate-memory's engine.

The rules are the pass's (passes/allocate_memory.py, module docstring): each buffer takes
the lowest free place, in order of first use, not used by a buffer live at the same time
(`memory.first_fit`, live ranges from `analysis.buffer_liveness`), in the `Region` of its
memory the pass options leave to buffers (`memory_regions`); broadcast copies get their FPRAM
staging (`memory.staging`); f32 arguments one FPRAM entry each; HBM tensors are placed back
to back as the host image lays them out, or pinned addresses are checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import Float32Type, FloatAttr, IntegerAttr, i64
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.buffer_liveness import LiveRange, live_range, program_spans
from plena_mlir.dialects import lane
from plena_mlir.dialects.tile import AllocOp, KernelOp, MemorySpace, TensorType, TileOp
from plena_mlir.ir.addresses import (
    HBM_ALIGNMENT,
    UNIT_NAMES,
    LayoutError,
    buffer_layout,
    capacity,
    hbm_addresses,
    hbm_footprint,
    unit_elements,
)
from plena_mlir.ir.int_dict import int_dict, int_dict_attr
from plena_mlir.ir.naming import describe_alloc
from plena_mlir.memory.first_fit import NoRoom, first_fit
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.memory.staging import (
    SCRATCH_ATTR,
    broadcast_scratch_entries,
    is_replicated,
    vram_staging_rows,
)
from plena_mlir.target import Target


class MemoryOptions(Protocol):
    """The options of plena-allocate-memory that bound the regions (AllocateMemoryPass)."""

    vram_base: int
    mram_base: int
    fpram_constant_slots: int
    fpram_reserved_top: int
    fpram_chain_entries: int


@dataclass
class Request:
    """One thing to place in a memory: `units` allocation units live over `live`."""

    name: str
    units: int
    live: LiveRange
    alloc: AllocOp | lane.AllocOp | None = None  # None for a scalar argument
    start: int = -1  # the unit it is placed at
    staged: lane.CopyOp | None = None  # the broadcast copy whose FPRAM staging this is


@dataclass(frozen=True)
class Region:
    """The units [first, end) of one memory this pass may use."""

    space: MemorySpace
    first: int
    end: int
    why: str  # how the bounds were chosen, for diagnostics


def _place(requests: list[Request], region: Region) -> None:
    """First fit in order of first use (`plena_mlir.memory.first_fit`) in the region."""
    try:
        first_fit(requests, region.first, region.end)
    except NoRoom as e:
        _overflow(e.request, e.live, region)


def _overflow(request: Request, live: list[Request], region: Region) -> None:
    unit = UNIT_NAMES[region.space]
    taken = sum(p.units for p in live)
    others = ", ".join(p.name for p in live) or "none"
    raise DiagnosticException(
        f"{request.name} does not fit in {region.space.name}: it needs {request.units} {unit}; "
        f"{region.end - region.first} {unit} are available ({region.why}), {taken} of them "
        f"taken by buffers live at the same time ({others})"
    )


def memory_regions(options: MemoryOptions, target: Target) -> dict[MemorySpace, Region]:
    """The part of VRAM, MRAM and FPRAM the options leave to buffers (DiagnosticException
    for options that do not fit the target)."""
    vram_unit = unit_elements(MemorySpace.VRAM, target)
    mram_unit = unit_elements(MemorySpace.MRAM, target)
    for option, base, unit, space in (
        ("vram-base", options.vram_base, vram_unit, MemorySpace.VRAM),
        ("mram-base", options.mram_base, mram_unit, MemorySpace.MRAM),
    ):
        size = capacity(space, target) * unit
        if base < 0 or base % unit or base >= size:
            raise DiagnosticException(
                f"plena-allocate-memory: {option}={base} must be a non-negative multiple "
                f"of {unit} below the {size} elements of {space.name}"
            )
    fpram_end = target.fpram_entries - options.fpram_reserved_top
    fpram_first = options.fpram_constant_slots + options.fpram_chain_entries
    if min(
        options.fpram_constant_slots, options.fpram_reserved_top, options.fpram_chain_entries
    ) < 0 or (fpram_first > fpram_end):
        raise DiagnosticException(
            f"plena-allocate-memory: fpram-constant-slots={options.fpram_constant_slots}, "
            f"fpram-chain-entries={options.fpram_chain_entries} and "
            f"fpram-reserved-top={options.fpram_reserved_top} must be non-negative and fit "
            f"the {target.fpram_entries} FPRAM entries of {target.name}"
        )
    vram, mram = MemorySpace.VRAM, MemorySpace.MRAM
    return {
        vram: Region(
            vram,
            options.vram_base // vram_unit,
            capacity(vram, target) - vram_staging_rows(target),
            f"VRAM has {capacity(vram, target)} rows, the top {vram_staging_rows(target)} "
            f"are the lowering's staging rows, vram-base={options.vram_base}",
        ),
        mram: Region(
            mram,
            options.mram_base // mram_unit,
            capacity(mram, target),
            f"MRAM has {capacity(mram, target)} tiles, mram-base={options.mram_base}",
        ),
        MemorySpace.FPRAM: Region(
            MemorySpace.FPRAM,
            fpram_first,
            fpram_end,
            f"FPRAM has {target.fpram_entries} entries, fpram-constant-slots="
            f"{options.fpram_constant_slots}, "
            + (
                f"fpram-chain-entries={options.fpram_chain_entries}, "
                if options.fpram_chain_entries
                else ""
            )
            + f"fpram-reserved-top={options.fpram_reserved_top}",
        ),
    }


def pool_constants(kernel: KernelOp, pool: FpramPool) -> None:
    """A pool slot for every f32 `arith.constant` read by a tile op of the kernel."""
    for op in kernel.walk():
        if (
            isinstance(op, ConstantOp)
            and isinstance(op.result.type, Float32Type)
            and isinstance(op.value, FloatAttr)
            and any(isinstance(use.operation, TileOp | lane.LaneOp) for use in op.result.uses)
        ):
            pool.slot(op.value.value.data)


def allocate_kernel(kernel: KernelOp, target: Target, regions: dict[MemorySpace, Region]):
    """Place every buffer, broadcast staging and scalar argument of `kernel` in `regions`
    and its HBM tensors (or check pinned ones), recording the addresses on the IR."""
    spans = program_spans(kernel.body.block)
    requests = _buffer_requests(kernel, target, spans, regions)
    requests[MemorySpace.FPRAM] += _staging_requests(kernel, target, spans)
    scalars = _scalar_requests(kernel, LiveRange(-1, len(spans)), regions[MemorySpace.FPRAM])
    fpram = regions[MemorySpace.FPRAM]
    requests[MemorySpace.FPRAM] += [  # a pin below the region (a pool or chain entry) takes none
        r for r in scalars.values() if r.start < 0 or r.start >= fpram.first
    ]
    for space, region in regions.items():
        _place(requests[space], region)
    _record(requests, target)
    kernel.attributes["fpram_arguments"] = int_dict_attr(
        {name: request.start for name, request in scalars.items()}
    )
    if "hbm_addresses" in kernel.attributes:
        _check_pinned_tensors(kernel, target)
    else:
        _place_tensors(kernel, target)


def _buffer_requests(
    kernel: KernelOp, target: Target, spans, regions: dict[MemorySpace, Region]
) -> dict[MemorySpace, list[Request]]:
    """A request for every tile.alloc and lane.alloc (a lane buffer as its physical one)."""
    requests: dict[MemorySpace, list[Request]] = {space: [] for space in regions}
    for alloc in kernel.walk():
        if not isinstance(alloc, AllocOp | lane.AllocOp):
            continue
        name = describe_alloc(alloc)
        typ = alloc.result.type
        if isinstance(typ, lane.LaneBufferType):
            typ = typ.physical
        if typ.space is MemorySpace.INFERRED:
            raise DiagnosticException(
                f"{name}: the memory space is not known: run plena-infer-memory first"
            )
        try:
            layout = buffer_layout(typ, target)
        except LayoutError as e:
            raise DiagnosticException(f"{name}: {e}") from None
        requests[typ.space].append(Request(name, layout.units, live_range(alloc, spans), alloc))
    return requests


def _staging_requests(kernel: KernelOp, target: Target, spans) -> list[Request]:
    """The FPRAM staging of every broadcast col_pack lane.copy, live at that op only."""
    return [
        Request(
            "the FPRAM staging of a broadcast lane.copy",
            broadcast_scratch_entries(copy, target),
            spans[copy],
            staged=copy,
        )
        for copy in kernel.walk()
        if isinstance(copy, lane.CopyOp) and is_replicated(copy)
    ]


def _scalar_requests(
    kernel: KernelOp, whole_kernel: LiveRange, fpram: Region
) -> dict[str, Request]:
    """One FPRAM entry for each f32 argument, live over the whole kernel (pinned ones start
    at their entry)."""
    scalars = [
        name.data
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, Float32Type)
    ]
    pinned = _pinned_scalars(kernel, scalars, fpram.end)
    return {
        name: Request(
            f"scalar argument %{name} of @{kernel.sym_name.data}",
            1,
            whole_kernel,
            start=pinned.get(name, -1),
        )
        for name in scalars
    }


def _record(requests: dict[MemorySpace, list[Request]], target: Target) -> None:
    """Each placed buffer's element address as `address`, each staging's entry on its copy."""
    for space, placed in requests.items():
        for request in placed:
            if request.alloc is not None:
                address = request.start * unit_elements(space, target)
                request.alloc.attributes["address"] = IntegerAttr(address, i64)
            if request.staged is not None:
                request.staged.attributes[SCRATCH_ATTR] = IntegerAttr(request.start, i64)


def _int_entries(kernel: KernelOp, attr_name: str) -> dict[str, int]:
    """The `{name = N : i64}` dictionary attribute `attr_name` of the kernel."""
    where = f"tile.kernel @{kernel.sym_name.data}: {attr_name}"
    return int_dict(kernel.attributes[attr_name], where)


def _pinned_scalars(kernel: KernelOp, scalars: list[str], fpram_end: int) -> dict[str, int]:
    """The FPRAM entries an existing `fpram_arguments` pins (module docstring)."""
    if "fpram_arguments" not in kernel.attributes:
        return {}
    pinned = _int_entries(kernel, "fpram_arguments")
    for name, entry in pinned.items():
        if name not in scalars:
            raise DiagnosticException(
                f"tile.kernel @{kernel.sym_name.data}: fpram_arguments pins {name}, which is "
                f"not an f32 argument (f32 arguments: {', '.join(scalars) or 'none'})"
            )
        if not 0 <= entry < fpram_end:
            raise DiagnosticException(
                f"tile.kernel @{kernel.sym_name.data}: the scalar argument %{name} is pinned "
                f"to FPRAM entry {entry}, outside the entries [0, {fpram_end}) below the "
                "register allocator's spill window"
            )
    return pinned


def _tensor_arguments(kernel: KernelOp) -> list[tuple[str, TensorType]]:
    return [
        (name.data, arg.type)
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, TensorType)
    ]


def _check_pinned_tensors(kernel: KernelOp, target: Target) -> None:
    """Pinned `hbm_addresses` must place every tensor argument, 64-byte aligned, in HBM."""
    pinned = _int_entries(kernel, "hbm_addresses")
    tensors = _tensor_arguments(kernel)
    where = f"tile.kernel @{kernel.sym_name.data}"
    names = [name for name, _ in tensors]
    if sorted(pinned) != sorted(names):
        raise DiagnosticException(
            f"{where}: hbm_addresses must pin every tensor argument ({', '.join(names)}), got "
            f"{', '.join(pinned) or 'none'}"
        )
    for name, typ in tensors:
        address, footprint = pinned[name], hbm_footprint(typ, target)
        shape = "x".join(map(str, typ.get_shape()))
        if address < 0 or address % HBM_ALIGNMENT:
            raise DiagnosticException(
                f"{where}: tensor %{name} is pinned to HBM byte {address}, not a non-negative "
                f"multiple of {HBM_ALIGNMENT}"
            )
        if address + footprint > target.hbm_bytes:
            raise DiagnosticException(
                f"{where}: tensor %{name} ({shape}x{typ.element_type}) does not fit in HBM: "
                f"pinned to byte {address} and taking {footprint} bytes MX-packed, it ends at "
                f"byte {address + footprint}, the target has only {target.hbm_bytes}"
            )


def _place_tensors(kernel: KernelOp, target: Target) -> None:
    tensors = _tensor_arguments(kernel)
    try:
        addresses = hbm_addresses(
            [typ for _, typ in tensors], target, [f"%{name}" for name, _ in tensors]
        )
    except LayoutError as e:
        raise DiagnosticException(f"tile.kernel @{kernel.sym_name.data}: {e}") from None
    kernel.attributes["hbm_addresses"] = int_dict_attr(
        {name: address for (name, _), address in zip(tensors, addresses, strict=True)}
    )
