"""How a per-head kernel's heads meet the rows of the machine, one rule for every such kernel.

A head of `head_dim` columns is either one lane, HLEN wide (L = MLEN / HLEN heads share every
row; plena-expand-lanes packs L consecutive heads into one program), or whole rows, a positive
multiple of MLEN (one head per program instance, the head axis an ordinary grid axis).  A
head of any other width would straddle lanes: no instruction selects it.
"""

from plena_mlir.target import Target


def head_width_problem(head_dim: int, target: Target) -> str | None:
    """Why heads of `head_dim` columns cannot run on `target` (None when they can)."""
    if head_dim == target.hlen or (head_dim > 0 and head_dim % target.mlen == 0):
        return None
    return (
        f"head_dim ({head_dim}) must be HLEN = {target.hlen} (heads packed into lanes) or a "
        f"positive multiple of MLEN = {target.mlen} (one head per tile width): a head of "
        "another width would straddle lanes"
    )


def packs_heads(head_dim: int, target: Target) -> bool:
    """Whether heads of `head_dim` columns share rows, one lane each (HLEN-wide heads)."""
    return head_dim < target.mlen


def heads_per_program(head_dim: int, target: Target) -> int:
    """Heads one program instance holds: the L lanes for heads of HLEN, else 1."""
    return target.lanes if packs_heads(head_dim, target) else 1
