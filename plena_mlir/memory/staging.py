"""Scratch memory a lowering uses within one op, which plena-allocate-memory keeps free.

- The top `vram_staging_rows` rows of VRAM: short DMA loads, one-row stores and broadcast
  copies stage their rows there (`lowering/tile/onchip_copy.py` `staging_address`); no
  buffer is ever placed in them.
- The FPRAM staging of a broadcast `lane.copy` into a col_pack buffer (`is_replicated`): the
  machine replicates the region through FPRAM (S_MAP_FP_V, S_LD_FP / S_ST_FP, S_MAP_V_FP),
  so its values pass through the FP format, and it needs `broadcast_scratch_entries` FPRAM
  entries live at that op only.  plena-allocate-memory places them and records the first
  entry on the op as `SCRATCH_ATTR`; `lowering/lane/copy.py` reads it.
"""

from __future__ import annotations

from plena_mlir.dialects.lane import CopyOp, LaneBufferType, LaneLayout
from plena_mlir.dialects.tile import TensorType
from plena_mlir.target import Target

#: The attribute plena-allocate-memory puts on a broadcast col_pack lane.copy: the first
#: FPRAM entry of its staging (`broadcast_scratch_entries` entries).
SCRATCH_ATTR = "fpram_scratch"


def vram_staging_rows(target: Target) -> int:
    """The VRAM rows at the top of VRAM that lowerings use as scratch within one op (short
    DMA loads, one-row stores, broadcast copies): plena-allocate-memory places no buffer
    there."""
    return max(target.hbm_v_prefetch_rows, target.hbm_v_writeback_rows, target.blen)


def is_replicated(op: CopyOp) -> bool:
    """A broadcast copy (no lane dimension) from HBM into a col_pack buffer: lowered by
    replication through FPRAM."""
    dst = op.dst.type
    return (
        isinstance(op.src.type, TensorType)
        and op.lane_dimension is None
        and isinstance(dst, LaneBufferType)
        and dst.layout is LaneLayout.COL_PACK
    )


def broadcast_scratch_entries(op: CopyOp, target: Target) -> int:
    """FPRAM entries the replication of a broadcast col_pack copy stages: the region as
    whole VLEN-entry rows, then the R physical rows of L*D entries."""
    dst = op.dst.type
    assert isinstance(dst, LaneBufferType)
    rows, width = dst.lane_shape
    loaded = -(-rows * width // target.vlen) * target.vlen
    return loaded + rows * target.lanes * width
