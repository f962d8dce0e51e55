"""`plena-allocate-memory`: a static address for every buffer, HBM tensor and f32 scalar.

    plena-opt kernel.mlir -p 'plena-infer-memory,plena-allocate-memory{vram-base=4096}'

For every `tile.kernel` of the module (each allocated on its own, from the same bases):

- every `tile.alloc` gets `{address = N : i64}`: an element address in VRAM (on a whole
  VRAM row, so VLEN-aligned) or MRAM (on a whole tile, MLEN^2-aligned), an entry in FPRAM.
  Sizes come from `plena_mlir.ir.addresses` (VRAM column-block major with rows padded to BLEN,
  MRAM whole tiles, FPRAM one entry per element).  Buffers whose live ranges
  (`plena_mlir.analysis.buffer_liveness`) do not intersect may share memory: each buffer, in
  order of
  its first use, takes the lowest free place not used by a buffer live at the same time.
- every `lane.alloc` gets an `address` the same way, as a `tile.alloc` of its physical
  buffer (`LaneBufferType.physical`); a broadcast `lane.copy` into a col_pack buffer gets
  FPRAM staging live at that op only, `{fpram_scratch = N : i64}` on the op (lane_copy.py).
- the f32 scalar arguments get one FPRAM entry each, live over the whole kernel, recorded as
  `fpram_arguments = {eps = 32 : i64}` on the kernel: the host writes them there.
- the HBM tensor arguments are placed back to back from byte 0 in argument order with their
  MX-packed footprints (64-byte multiples), as `build_hbm_image` lays out the tensors passed
  in that order, recorded as `hbm_addresses = {x = 0 : i64, y = 4608 : i64}`.

Pinned addresses (what plena-link-kernels sets before compiling a kernel of a chain): a
kernel that already has `hbm_addresses` keeps them (they must name every tensor argument,
be multiples of 64 and fit in HBM with the tensor's MX-packed footprint); the scalar
arguments named in an existing `fpram_arguments` keep their entries (a constant pool slot
or one of the `fpram-chain-entries` entries reserved right after the pool), the others are
placed as above.  Kernel scratch (FPRAM buffers, unpinned scalars) starts above the pool and
the reserved entries, so it never lands on another kernel's pinned values.

FPRAM entries [0, fpram-constant-slots) are the constant pool (`plena_mlir.memory.fpram_pool`,
recorded on the module as `plena.fpram_pool`); every f32 `arith.constant` a tile or lane op
reads gets a slot now.  The top `fpram-reserved-top` entries are left to
plena-allocate-registers' FP spill window.  A buffer that does not fit, an MRAM buffer that
is not whole tiles and a buffer whose space is still `?` are errors naming the buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from plena_mlir.dialects import lane
from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import AllocOp, KernelOp, MemorySpace, TensorType, TileOp
from plena_mlir.passes.infer_memory import buffer_name
from xdsl.context import Context
from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import (
    Float32Type,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    i64,
)
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.buffer_liveness import LiveRange, live_range, program_spans
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
from plena_mlir.lowering.lane.copy import SCRATCH_ATTR, broadcast_scratch_entries, is_replicated
from plena_mlir.lowering.tile.onchip_copy import vram_staging_rows
from plena_mlir.memory.first_fit import NoRoom, first_fit
from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.target import Target


@dataclass
class _Request:
    """One thing to place in a memory: `units` allocation units live over `live`."""

    name: str
    units: int
    live: LiveRange
    alloc: AllocOp | lane.AllocOp | None = None  # None for a scalar argument
    start: int = -1  # the unit it is placed at
    staged: lane.CopyOp | None = None  # the broadcast copy whose FPRAM staging this is


@dataclass(frozen=True)
class _Region:
    """The units [first, end) of one memory this pass may use."""

    space: MemorySpace
    first: int
    end: int
    why: str  # how the bounds were chosen, for diagnostics


def _place(requests: list[_Request], region: _Region) -> None:
    """First fit in order of first use (`plena_mlir.memory.first_fit`) in the region."""
    try:
        first_fit(requests, region.first, region.end)
    except NoRoom as e:
        _overflow(e.request, e.live, region)


def _overflow(request: _Request, live: list[_Request], region: _Region) -> None:
    unit = UNIT_NAMES[region.space]
    taken = sum(p.units for p in live)
    others = ", ".join(p.name for p in live) or "none"
    raise DiagnosticException(
        f"{request.name} does not fit in {region.space.name}: it needs {request.units} {unit}; "
        f"{region.end - region.first} {unit} are available ({region.why}), {taken} of them "
        f"taken by buffers live at the same time ({others})"
    )


@dataclass(frozen=True)
class AllocateMemoryPass(ModulePass):
    """Place every buffer, scalar argument and HBM tensor of each kernel (module docstring)."""

    name = "plena-allocate-memory"

    vram_base: int = 0
    """First VRAM element address buffers may use (a multiple of VLEN)."""

    mram_base: int = 0
    """First MRAM element address buffers may use (a multiple of MLEN^2)."""

    fpram_constant_slots: int = 32
    """FPRAM entries reserved from entry 0 for the constant pool."""

    fpram_reserved_top: int = 256
    """FPRAM entries left free at the top (plena-allocate-registers' FP spill window)."""

    fpram_chain_entries: int = 0
    """FPRAM entries reserved right after the constant pool for the scalar arguments of a
    chain (pinned by plena-link-kernels); kernel scratch starts above them."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        target = target_of(op)
        regions = self._regions(target)
        pool = FpramPool(self.fpram_constant_slots)
        existing = FpramPool.of(op)
        for value in existing.constants if existing is not None else ():
            pool.slot(value)
        for kernel in op.walk():
            if isinstance(kernel, KernelOp):
                _pool_constants(kernel, pool)
                _allocate_kernel(kernel, target, regions)
        pool.attach(op)

    def _regions(self, target: Target) -> dict[MemorySpace, _Region]:
        vram_unit = unit_elements(MemorySpace.VRAM, target)
        mram_unit = unit_elements(MemorySpace.MRAM, target)
        for option, base, unit, space in (
            ("vram-base", self.vram_base, vram_unit, MemorySpace.VRAM),
            ("mram-base", self.mram_base, mram_unit, MemorySpace.MRAM),
        ):
            size = capacity(space, target) * unit
            if base < 0 or base % unit or base >= size:
                raise DiagnosticException(
                    f"plena-allocate-memory: {option}={base} must be a non-negative multiple "
                    f"of {unit} below the {size} elements of {space.name}"
                )
        fpram_end = target.fpram_entries - self.fpram_reserved_top
        fpram_first = self.fpram_constant_slots + self.fpram_chain_entries
        if min(
            self.fpram_constant_slots, self.fpram_reserved_top, self.fpram_chain_entries
        ) < 0 or (fpram_first > fpram_end):
            raise DiagnosticException(
                f"plena-allocate-memory: fpram-constant-slots={self.fpram_constant_slots}, "
                f"fpram-chain-entries={self.fpram_chain_entries} and "
                f"fpram-reserved-top={self.fpram_reserved_top} must be non-negative and fit "
                f"the {target.fpram_entries} FPRAM entries of {target.name}"
            )
        vram, mram = MemorySpace.VRAM, MemorySpace.MRAM
        return {
            vram: _Region(
                vram,
                self.vram_base // vram_unit,
                capacity(vram, target) - vram_staging_rows(target),
                f"VRAM has {capacity(vram, target)} rows, the top {vram_staging_rows(target)} "
                f"are the lowering's staging rows, vram-base={self.vram_base}",
            ),
            mram: _Region(
                mram,
                self.mram_base // mram_unit,
                capacity(mram, target),
                f"MRAM has {capacity(mram, target)} tiles, mram-base={self.mram_base}",
            ),
            MemorySpace.FPRAM: _Region(
                MemorySpace.FPRAM,
                fpram_first,
                fpram_end,
                f"FPRAM has {target.fpram_entries} entries, fpram-constant-slots="
                f"{self.fpram_constant_slots}, "
                + (
                    f"fpram-chain-entries={self.fpram_chain_entries}, "
                    if self.fpram_chain_entries
                    else ""
                )
                + f"fpram-reserved-top={self.fpram_reserved_top}",
            ),
        }


def _pool_constants(kernel: KernelOp, pool: FpramPool) -> None:
    """A pool slot for every f32 `arith.constant` read by a tile op of the kernel."""
    for op in kernel.walk():
        if (
            isinstance(op, ConstantOp)
            and isinstance(op.result.type, Float32Type)
            and isinstance(op.value, FloatAttr)
            and any(isinstance(use.operation, TileOp | lane.LaneOp) for use in op.result.uses)
        ):
            pool.slot(op.value.value.data)


def _allocate_kernel(kernel: KernelOp, target: Target, regions: dict[MemorySpace, _Region]):
    block = kernel.body.block
    spans = program_spans(block)
    whole_kernel = LiveRange(-1, len(spans))
    requests: dict[MemorySpace, list[_Request]] = {space: [] for space in regions}
    for alloc in kernel.walk():
        if not isinstance(alloc, AllocOp | lane.AllocOp):
            continue
        name = _alloc_name(alloc)
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
        requests[typ.space].append(_Request(name, layout.units, live_range(alloc, spans), alloc))
    for copy in kernel.walk():
        if isinstance(copy, lane.CopyOp) and is_replicated(copy):
            requests[MemorySpace.FPRAM].append(
                _Request(
                    "the FPRAM staging of a broadcast lane.copy",
                    broadcast_scratch_entries(copy, target),
                    spans[copy],
                    staged=copy,
                )
            )
    scalars = [
        name.data
        for name, arg in zip(kernel.arg_names.data, kernel.arguments, strict=True)
        if isinstance(arg.type, Float32Type)
    ]
    pinned = _pinned_scalars(kernel, scalars, regions[MemorySpace.FPRAM].end)
    scalar_requests = {
        name: _Request(
            f"scalar argument %{name} of @{kernel.sym_name.data}",
            1,
            whole_kernel,
            start=pinned.get(name, -1),
        )
        for name in scalars
    }
    fpram = regions[MemorySpace.FPRAM]
    requests[MemorySpace.FPRAM] += [  # a pin below the region (a pool or chain entry) takes none
        r for r in scalar_requests.values() if r.start < 0 or r.start >= fpram.first
    ]
    for space, region in regions.items():
        _place(requests[space], region)
    for space, placed in requests.items():
        for request in placed:
            if request.alloc is not None:
                address = request.start * unit_elements(space, target)
                request.alloc.attributes["address"] = IntegerAttr(address, i64)
            if request.staged is not None:
                request.staged.attributes[SCRATCH_ATTR] = IntegerAttr(request.start, i64)
    kernel.attributes["fpram_arguments"] = int_dict_attr(
        {name: request.start for name, request in scalar_requests.items()}
    )
    if "hbm_addresses" in kernel.attributes:
        _check_pinned_tensors(kernel, target)
    else:
        _place_tensors(kernel, target)


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


def _alloc_name(alloc: AllocOp | lane.AllocOp) -> str:
    """How diagnostics name a buffer: `tile.alloc %x (64x64xbf16, vram)`, or for a lane
    buffer `lane.alloc %x (!lane.buffer<...>)`."""
    if isinstance(alloc, AllocOp):
        return f"tile.alloc {buffer_name(alloc)}"
    name = f"%{alloc.result.name_hint}" if alloc.result.name_hint else "(unnamed)"
    return f"lane.alloc {name} ({alloc.result.type})"


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
