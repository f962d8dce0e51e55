"""`flash_decode`: attention of one query token per head over kv blocks, one head per
program instance (the head axis is the lane axis):

    O[0, 0, h, :] = softmax(Q[0, 0, h, :] · K[0, :, h, :]ᵀ / sqrt(16)) V[0, :, h, :]

Q and O are [1, 1, heads, 16], K and V [1, kv_blocks*64, heads, 16].  The online softmax of
`flash_attention` (see there) with one query row: Q is 1 x 16, the scores of a kv block one row
of 64 (Q·Kᵀ: M_BTMV for all lanes), P·V one row (the per-lane gemm form plena-select-gemm
picks: on plena-tvm M_BMM with a lane sum, M_BMV aborting there), and the softmax state
(running max, sum, rescale) one FPRAM entry per head.  The published kernel writes O to a VRAM
cache the testbench reads; here O is an HBM tensor like every output: the one row of a head
group goes out with one H_STORE_V at STRIDE = 0, which writes its 16 rows all onto that HBM
row, the O row last (plena_mlir/lowering/tile/dma.py).
"""

from collections.abc import Mapping

from xdsl.dialects.builtin import ModuleOp

from plena_mlir.kernels.flash_attention import (
    Attention,
    attention_golden,
    build_attention,
    make_inputs,
)
from plena_mlir.kernels.spec import KernelSpec
from plena_mlir.target import DEFAULT_TARGET, Target


def _shape(sizes: Mapping[str, int]) -> Attention:
    heads = sizes["heads"]
    return Attention("flash_decode", heads, heads, 1, sizes["kv_blocks"], heads, 0, q_rows=1)


def build(heads: int = 8, kv_blocks: int = 2, target: Target = DEFAULT_TARGET) -> ModuleOp:
    return build_attention(_shape({"heads": heads, "kv_blocks": kv_blocks}), target)


SPECS = (
    KernelSpec(
        name="flash_decode",
        summary="O = softmax(q·Kᵀ/sqrt(16)) V for one query token per head of 16, online "
        "softmax over kv blocks of 64",
        sizes={"heads": 8, "kv_blocks": 2},
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(_shape(sizes), rng),
        golden=lambda inputs, sizes, target, hbm_format: attention_golden(
            _shape(sizes), inputs, target, hbm_format
        ),
        test_sizes=({"heads": 16, "kv_blocks": 3},),
    ),
)
