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
  FPRAM staging live at that op only, `{fpram_scratch = N : i64}` on the op (lowering/lane/copy.py).
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

from plena_mlir.dialects.plena import target_of
from plena_mlir.dialects.tile import KernelOp
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from plena_mlir.memory.fpram_pool import FpramPool
from plena_mlir.memory.placement import allocate_kernel, memory_regions, pool_constants


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
        regions = memory_regions(self, target)
        pool = FpramPool(self.fpram_constant_slots)
        existing = FpramPool.of(op)
        for value in existing.constants if existing is not None else ():
            pool.slot(value)
        for kernel in op.walk():
            if isinstance(kernel, KernelOp):
                pool_constants(kernel, pool)
                allocate_kernel(kernel, target, regions)
        pool.attach(op)
