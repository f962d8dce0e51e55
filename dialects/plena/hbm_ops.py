"""HBM DMA instructions: H_*.

Operands (plena-isa-tvm.md A4): `sram` holds the VRAM/MRAM element address, `offset` the HBM
byte offset added to the address register `base`.  Row r moves between HBM byte
a[base] + gp[offset] + r*S and on-chip memory, with S = STRIDE when rstride = 1 and the row
length otherwise; `precision` selects the HBM element type (0: weights/activations, 1: KV).
MX scale bytes move along at a[base] + SCALE + gp[offset]/8 + r*S/8.
"""

from plena_mlir.dialects.plena.base import instruction
from xdsl.irdl import irdl_op_definition


@irdl_op_definition
class H_PrefetchMOp(instruction("H_PREFETCH_M")):
    """Load R = HBM_M_Prefetch_Amount rows into MRAM tiles.

        for r < R: TILE(gp[sram] + (r div M)*M^2)[r mod M] = dequant(HBM row r)
        # gp[sram] mod M^2 = 0
    """


@irdl_op_definition
class H_PrefetchVOp(instruction("H_PREFETCH_V")):
    """Load R = HBM_V_Prefetch_Amount rows into VRAM.

        for r < R: VROW(gp[sram] + r*V) = bf16(dequant(HBM row r))
    """


@irdl_op_definition
class H_StoreVOp(instruction("H_STORE_V")):
    """Store R = HBM_V_Writeback_Amount VRAM rows to HBM.

        for r < R: HBM row r = quant(VROW(gp[sram] + r*V))
    """


HBM_OPS = (H_PrefetchMOp, H_PrefetchVOp, H_StoreVOp)
