"""`flash_decode`: attention of one query token per head over kv blocks, one head per
program instance (the head axis is the lane axis):

    O[0, 0, h, :] = softmax(Q[0, 0, h, :] · K[0, :, h, :]ᵀ / sqrt(D)) V[0, :, h, :]

Q and O are [1, 1, heads, D], K and V [1, kv_blocks*M, heads, D] (M = MLEN, D = head_dim).
The online softmax of `flash_attention` (see there) with one query row: Q is 1 x D, the
scores of a kv block one row of M (Q·Kᵀ: with heads of HLEN one M_BTMV for all lanes), P·V
one row (the gemm form plena-select-gemm picks: on plena-tvm M_BMM with a lane sum, M_BMV
aborting there), and the softmax state (running max, sum, rescale) one FPRAM entry per head.
The published kernel writes O to a VRAM cache the testbench reads; here O is an HBM tensor
like every output: the one row of a head group goes out with one H_STORE_V at STRIDE = 0,
which writes its rows all onto that HBM row, the O row last (plena_mlir/lowering/tile/dma.py).
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


def _shape(sizes: Mapping[str, int], target: Target) -> Attention:
    heads = sizes["heads"]
    return Attention(
        "flash_decode",
        heads,
        heads,
        1,
        sizes["kv_blocks"],
        heads,
        0,
        sizes["head_dim"],
        target,
        decode=True,
    )


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """flash_decode on `target` for `sizes` (a size not given takes its default there)."""
    return build_attention(_shape(SPECS[0].resolve(sizes, target), target))


def default_sizes(target: Target) -> dict[str, int]:
    """Two lane groups of heads of HLEN over two kv blocks (on plena-tvm 8 heads of 16)."""
    return {"heads": 2 * target.lanes, "kv_blocks": 2, "head_dim": target.hlen}


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Four lane groups over three kv blocks; heads of one tile width."""
    return (
        {"heads": 4 * target.lanes, "kv_blocks": 3},
        {"heads": 3, "kv_blocks": 2, "head_dim": target.mlen},
    )


SPECS = (
    KernelSpec(
        name="flash_decode",
        summary="O = softmax(q·Kᵀ/sqrt(head_dim)) V for one query token per head, online "
        "softmax over kv blocks of MLEN keys",
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(_shape(sizes, target), rng),
        golden=lambda inputs, sizes, target, hbm_format: attention_golden(
            _shape(sizes, target), inputs, hbm_format
        ),
        test_sizes=test_sizes,
    ),
)
