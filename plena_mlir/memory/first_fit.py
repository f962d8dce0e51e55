"""First-fit placement of things with live ranges in a linear memory.

    first_fit(requests, first=32, end=768)     # sets request.start; NoRoom when one fails

A request whose `start` is already set (>= 0) is pinned there: it is not moved and not
checked against the bounds.  The others are taken in order of the start of their live range;
each takes the lowest start in [first, end) that does not overlap a pinned request or a
request placed before it whose live range intersects its own.

plena-allocate-memory places on-chip buffers with it (units: VRAM rows, MRAM tiles,
FPRAM entries), plena-link-kernels the intermediate HBM tensors of a chain (units: bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from plena_mlir.analysis.buffer_liveness import LiveRange


class Placeable(Protocol):
    """`units` long, live over `live`; `start` is set by `first_fit` (pinned when >= 0)."""

    units: int
    live: LiveRange
    start: int


class NoRoom(Exception):
    """`request` does not fit; `live` are the placed requests live at the same time."""

    def __init__(self, request: Placeable, live: Sequence[Placeable]):
        super().__init__(request)
        self.request = request
        self.live = list(live)


def first_fit(requests: Sequence[Placeable], first: int, end: int) -> None:
    """Place every request in [first, end) (module docstring); NoRoom for the first that
    does not fit."""
    placed = [r for r in requests if r.start >= 0]
    for request in sorted((r for r in requests if r.start < 0), key=lambda r: r.live.start):
        live = sorted((p for p in placed if p.live.overlaps(request.live)), key=lambda p: p.start)
        start = first
        for other in live:
            if start + request.units <= other.start:
                break
            start = max(start, other.start + other.units)
        if start + request.units > end:
            raise NoRoom(request, live)
        request.start = start
        placed.append(request)
