"""`flash_attention_gqa`: grouped-query attention, `flash_attention` (see there) with fewer
kv heads than query heads:

    O[0, s, h, :] = softmax(Q[0, s, h, :] · K_hᵀ / sqrt(16)) V_h
    K_h = K[0, :, h % kv_heads, :],  V_h = V[0, :, h % kv_heads, :]

Q and O are [1, q_blocks*64, heads, 16], K and V [1, kv_blocks*64, kv_heads, 16]; kv_heads a
multiple of L = 4 dividing heads.  The groups are interleaved (query head h reads kv head
h % kv_heads, as the published kernel: the machine has no integer divide), so the L lanes of a
head group read L consecutive kv heads and K and V still load with one DMA per group.  The
kv head of a group, (g*L) % kv_heads, is computed by the scalar unit with a multiply and a
shift (plena_mlir/lowering/remainder.py: the machine has no integer divide).
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
    return Attention(
        "flash_attention_gqa",
        heads,
        sizes["kv_heads"],
        sizes["q_blocks"],
        sizes["kv_blocks"],
        heads,
        0,
    )


def build(
    heads: int = 8,
    kv_heads: int = 4,
    q_blocks: int = 2,
    kv_blocks: int = 2,
    target: Target = DEFAULT_TARGET,
) -> ModuleOp:
    sizes = {"heads": heads, "kv_heads": kv_heads, "q_blocks": q_blocks, "kv_blocks": kv_blocks}
    return build_attention(_shape(sizes), target)


SPECS = (
    KernelSpec(
        name="flash_attention_gqa",
        summary="grouped-query attention: query head h of 16 attends kv head h % kv_heads "
        "(online softmax over kv blocks of 64)",
        sizes={"heads": 8, "kv_heads": 4, "q_blocks": 2, "kv_blocks": 2},
        build_module=build,
        make_inputs=lambda sizes, rng, target: make_inputs(_shape(sizes), rng),
        golden=lambda inputs, sizes, target, hbm_format: attention_golden(
            _shape(sizes), inputs, target, hbm_format
        ),
        test_sizes=(
            {"heads": 16, "kv_heads": 8, "q_blocks": 2, "kv_blocks": 3},
            # h % 12: not a power of two, so the remainder is a multiply-and-shift
            {"heads": 24, "kv_heads": 12, "q_blocks": 1, "kv_blocks": 1},
        ),
    ),
)
