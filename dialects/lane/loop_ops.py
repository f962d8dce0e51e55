"""`lane.for_lanes`: the explicit loop over lanes, the only place per-lane ops may stand.

lane.for_lanes %l = 4 {
  lane.row_max %m, %s lane %l : !lane.buffer<4x64xf32, fpram, fp_lane>, ...
}
"""

from __future__ import annotations

from plena_mlir.dialects.lane.traits import LaneLoop, enclosing_lane_loop
from plena_mlir.dialects.plena.attrs import target_of
from xdsl.dialects.builtin import I64, IndexType, IntegerAttr, i64
from xdsl.ir import Block, Region
from xdsl.irdl import IRDLOperation, irdl_op_definition, prop_def, region_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import NoTerminator
from xdsl.utils.exceptions import VerifyException


@irdl_op_definition
class ForLanesOp(IRDLOperation):
    """Run the body once per lane, in order:

        for l in 0 .. count-1:  body(l)          # count = L = MLEN/HLEN of the target

    The block argument `%l` is the lane index that every per-lane op in the body names.
    Multi-lane ops and buffer allocations stay outside; loops over lanes do not nest.
    """

    name = "lane.for_lanes"

    count = prop_def(IntegerAttr[I64])
    body = region_def("single_block")

    traits = traits_def(LaneLoop(), NoTerminator())

    def __init__(self, count: int, body: Region | None = None):
        """A loop over `count` lanes; without `body`, an empty body taking the lane index."""
        if body is None:
            body = Region(Block(arg_types=[IndexType()]))
        super().__init__(properties={"count": IntegerAttr(count, i64)}, regions=[body])
        body.block.args[0].name_hint = body.block.args[0].name_hint or "lane"

    @property
    def lane(self):
        """The lane index, the body's block argument."""
        return self.body.block.args[0]

    @classmethod
    def parse(cls, parser: Parser) -> ForLanesOp:
        arg = parser.parse_argument(expect_type=False).resolve(IndexType())
        parser.parse_punctuation("=")
        count = parser.parse_integer(allow_boolean=False)
        attributes = parser.parse_optional_attr_dict_with_keyword()
        op = cls(count, parser.parse_region([arg]))
        if attributes is not None:
            op.attributes |= attributes.data
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.lane)
        printer.print_string(f" = {self.count.value.data}")
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False, print_empty_block=False)

    def verify_(self) -> None:
        args = self.body.block.args
        if len(args) != 1 or not isinstance(args[0].type, IndexType):
            raise VerifyException(
                "lane.for_lanes: the body takes one block argument, the lane index (index), got "
                f"{len(args)}"
            )
        if enclosing_lane_loop(self) is not None:
            raise VerifyException("lane.for_lanes: loops over lanes do not nest")
        target = target_of(self)
        count = self.count.value.data
        if count != target.lanes:
            raise VerifyException(
                f"lane.for_lanes: head count/lanes mismatch: the loop runs {count} lanes but "
                f"target '{target.name}' packs MLEN/HLEN = {target.mlen}/{target.hlen} = "
                f"{target.lanes} heads in a row"
            )
