"""The HBM address of every tensor of a chain.

    plan = plan_hbm(chain, target, reuse_intermediates=True)
    plan.addresses["h"]                  # byte address (of the MX-packed image)

1. The chain's tensor arguments, back to back from byte 0 in argument order with their
   MX-packed footprints (`layout.hbm_addresses`): the image `build_hbm_image` makes of the
   host's tensors passed in that order.
2. The intermediates above them, first fit in order of first use (`plena_mlir.memory.first_fit`):
   an intermediate may take the bytes of one whose calls do not overlap its own (the live
   ranges of `chain_reading`, in calls).  With `reuse_intermediates=False` each gets bytes of
   its own (so the host can read every intermediate after the run).

A view is its source, so it has its source's address.  Sizes are MX-packed footprints
(64-byte multiples): the same numbers address elements in an fp32 HBM, where each tensor
fits in its footprint too.  A tensor that does not fit is a DiagnosticException naming it,
its size, and what is live at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.analysis.buffer_liveness import LiveRange
from plena_mlir.ir.addresses import LayoutError, hbm_addresses, hbm_footprint
from plena_mlir.linking.chain_reading import Chain, ChainTensor
from plena_mlir.memory.first_fit import NoRoom, first_fit
from plena_mlir.target import Target


@dataclass(frozen=True)
class HbmPlan:
    """Byte address of every chain tensor (arguments, then intermediates)."""

    addresses: dict[str, int]
    arguments_end: int
    """The first byte above the chain arguments: where intermediates start."""


@dataclass
class _Request:
    tensor: ChainTensor
    units: int
    live: LiveRange
    start: int = -1


def plan_hbm(chain: Chain, target: Target, reuse_intermediates: bool = True) -> HbmPlan:
    """Place every tensor of `chain` (module docstring)."""
    arguments = chain.arguments
    try:
        placed = hbm_addresses(
            [t.typ for t in arguments], target, [f"%{t.name}" for t in arguments]
        )
    except LayoutError as e:
        raise DiagnosticException(f"tile.chain @{chain.name}: argument {e}") from None
    addresses = {t.name: a for t, a in zip(arguments, placed, strict=True)}
    arguments_end = sum(hbm_footprint(t.typ, target) for t in arguments)
    whole_chain = LiveRange(0, len(chain.calls))
    requests = [
        _Request(
            tensor,
            hbm_footprint(tensor.typ, target),
            tensor.live if reuse_intermediates and tensor.live is not None else whole_chain,
        )
        for tensor in chain.intermediates
    ]
    try:
        first_fit(requests, arguments_end, target.hbm_bytes)
    except NoRoom as e:
        _overflow(chain, e.request, e.live, arguments_end, target)
    addresses |= {r.tensor.name: r.start for r in requests}
    return HbmPlan(addresses, arguments_end)


def _describe(tensor: ChainTensor, target: Target) -> str:
    shape = "x".join(map(str, tensor.typ.get_shape()))
    size = hbm_footprint(tensor.typ, target)
    return f"{tensor.name} ({shape}x{tensor.typ.element_type}, {size} bytes)"


def _overflow(
    chain: Chain, request: _Request, live: list[_Request], arguments_end: int, target: Target
) -> None:
    others = ", ".join(_describe(r.tensor, target) for r in live) or "none"
    raise DiagnosticException(
        f"tile.chain @{chain.name}: the intermediate tensor {_describe(request.tensor, target)} "
        f"does not fit in HBM: the target has {target.hbm_bytes} bytes, the chain arguments "
        f"take bytes [0, {arguments_end}), the intermediates live at the same time take "
        f"{sum(r.units for r in live)} bytes above them ({others})"
    )
