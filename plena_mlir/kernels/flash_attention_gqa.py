"""`flash_attention_gqa`: grouped-query attention, `flash_attention` (see there) with fewer
kv heads than query heads:

    O[0, s, h, :] = softmax(Q[0, s, h, :] · K_hᵀ / sqrt(D)) V_h
    K_h = K[0, :, h % kv_heads, :],  V_h = V[0, :, h % kv_heads, :]

Q and O are [1, q_blocks*M, heads, D], K and V [1, kv_blocks*M, kv_heads, D] (M = MLEN, D =
head_dim); kv_heads divides heads.  The groups are interleaved (query head h reads kv head
h % kv_heads, as the published kernel: the machine has no integer divide).  With heads of
HLEN, kv_heads is a multiple of the L lanes, so the L lanes of a head group read L consecutive
kv heads and K and V still load with one DMA per group; with heads of whole tile widths each
program reads its own kv head.  The kv head, (g*L) % kv_heads, is computed by the scalar unit
with a multiply and a shift (plena_mlir/lowering/remainder.py: the machine has no integer
divide).
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
        "flash_attention_gqa",
        heads,
        sizes["kv_heads"],
        sizes["q_blocks"],
        sizes["kv_blocks"],
        heads,
        0,
        sizes["head_dim"],
        target,
    )


def build(target: Target = DEFAULT_TARGET, **sizes: int) -> ModuleOp:
    """flash_attention_gqa on `target` for `sizes` (a size not given takes its default
    there)."""
    return build_attention(_shape(SPECS[0].resolve(sizes, target), target))


def default_sizes(target: Target) -> dict[str, int]:
    """Two lane groups of query heads over one of kv heads, two q and two kv blocks (on
    plena-tvm 8 query heads over 4 kv heads)."""
    lanes = target.lanes
    return {
        "heads": 2 * lanes,
        "kv_heads": lanes,
        "q_blocks": 2,
        "kv_blocks": 2,
        "head_dim": target.hlen,
    }


def test_sizes(target: Target) -> tuple[dict[str, int], ...]:
    """Four groups over two, three kv blocks; 6 groups over 3 (h % 3L: not a power of two,
    so the remainder is a multiply-and-shift); heads of one tile width, 4 over 2 kv heads;
    heads of two tile widths, 2 over 1."""
    lanes, mlen = target.lanes, target.mlen
    return (
        {"heads": 4 * lanes, "kv_heads": 2 * lanes, "q_blocks": 2, "kv_blocks": 3},
        {"heads": 6 * lanes, "kv_heads": 3 * lanes, "q_blocks": 1, "kv_blocks": 1},
        {"heads": 4, "kv_heads": 2, "q_blocks": 1, "kv_blocks": 2, "head_dim": mlen},
        {"heads": 2, "kv_heads": 1, "q_blocks": 1, "kv_blocks": 2, "head_dim": 2 * mlen},
    )


SPECS = (
    KernelSpec(
        name="flash_attention_gqa",
        summary="grouped-query attention: query head h attends kv head h % kv_heads "
        "(online softmax over kv blocks of MLEN keys)",
        sizes=default_sizes,
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(_shape(sizes, target), rng),
        golden=lambda inputs, sizes, target, hbm_format: attention_golden(
            _shape(sizes, target), inputs, hbm_format
        ),
        test_sizes=test_sizes,
    ),
)
