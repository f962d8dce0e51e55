"""Multi-lane or per-lane: a trait of every `lane` op, checked where the op stands.

`MultiLane`: one instruction (one DMA, one allocation) covers all L lanes.  Such an op must not
stand inside `lane.for_lanes`, where it would run once per lane: the published compiler's
output "off by exactly L" (a whole-tile add re-run per lane) and its VRAM<->FPRAM map fired
L times (reference-compiler.md section 6, pitfalls 1 and 2).

`PerLane`: the op works on one lane, named by its `lane` operand, which must be the index of
the enclosing `lane.for_lanes` (pitfall 9: a per-lane op selects its lane, a multi-lane op
spans all).  Row ops under V_MASK, FPRAM scalar ops and the per-head gemm are per-lane.

Because the trait comes with the op definition, an op a later pass creates is classified the
moment it exists; there is no side table to forget to update.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.ir import Operation
from xdsl.traits import OpTrait
from xdsl.utils.exceptions import VerifyException


@dataclass(frozen=True)
class LaneLoop(OpTrait):
    """Marks the loop over lanes (`lane.for_lanes`): its body runs once per lane."""


def enclosing_lane_loop(op: Operation) -> Operation | None:
    """The nearest op strictly enclosing `op` that is a loop over lanes, if any."""
    current = op.parent_op()
    while current is not None:
        if current.has_trait(LaneLoop):
            return current
        current = current.parent_op()
    return None


@dataclass(frozen=True)
class MultiLane(OpTrait):
    """One instruction covers every lane; never inside a loop over lanes."""

    def verify(self, op: Operation) -> None:
        if enclosing_lane_loop(op) is not None:
            raise VerifyException(
                f"{op.name} is multi-lane (one instruction covers all lanes) and must not be "
                "inside lane.for_lanes, where it would run once per lane: move it out of the "
                "loop"
            )


@dataclass(frozen=True)
class PerLane(OpTrait):
    """The op acts on the lane its `lane` operand names: the index of the enclosing loop."""

    def verify(self, op: Operation) -> None:
        loop = enclosing_lane_loop(op)
        if loop is None:
            raise VerifyException(
                f"{op.name} is per-lane (it works on one head, selected by V_MASK or by "
                "address) and must be inside a lane.for_lanes loop over the lanes"
            )
        if op.lane is not loop.regions[0].block.args[0]:  # every PerLane op has a lane operand
            raise VerifyException(
                f"{op.name}: the lane operand must be the lane index of the enclosing "
                "lane.for_lanes"
            )
