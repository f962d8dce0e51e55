"""`tile.kernel`: a kernel with a launch grid.

    tile.kernel @attention grid(%q = 2, %h = 8 lane) args(%Q : !tile.tensor<1x128x8x16xf32>,
                                                          %scale : f32) {
      ...                        // one program instance: query block %q, head %h
    }

The body describes one program instance.  Its block arguments are the grid indices (`index`,
0 <= %q < 2) and then the kernel arguments: HBM tensors (`!tile.tensor`) and scalar
parameters (`f32`, e.g. eps or a softmax scale, placed in FPRAM by the host).  Running the
kernel runs the body once for every point of the grid.  At most one grid axis is marked
`lane`: the head axis whose instances the compiler packs side by side into the lanes of one
MLEN-wide row (`plena-expand-lanes`).

The names of grid axes and arguments are part of the kernel (properties `grid_names`,
`arg_names`): they are how callers pass inputs and sizes (`interpret_kernel`).
"""

from __future__ import annotations

from collections.abc import Sequence

from plena_mlir.dialects.tile.types import TensorType
from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    Float32Type,
    IndexType,
    IntegerAttr,
    StringAttr,
    i64,
)
from xdsl.ir import Attribute, Block, BlockArgument, Region
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsolatedFromAbove, NoTerminator, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException


def parse_args_and_body(
    parser: Parser, leading: list[Parser.Argument]
) -> tuple[list[Parser.Argument], DictionaryAttr | None, Region]:
    """Parse ` args(%x : type, ...) attributes {...} {body}` (what `print_args_and_body`
    prints): the named arguments, the attributes and the body, whose entry block takes the
    `leading` arguments and then the named ones."""
    parser.parse_keyword("args")
    args = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parser.parse_argument)
    attributes = parser.parse_optional_attr_dict_with_keyword()
    return args, attributes, parser.parse_region([*leading, *args])


def print_args_and_body(printer: Printer, op: IRDLOperation, names: list[str]) -> None:
    """` args(%x : type, ...) attributes {...} {body}`: the tail of the syntax of tile.kernel
    and tile.chain, whose trailing entry block arguments are the named `names`."""
    arguments = op.body.block.args[len(op.body.block.args) - len(names) :]
    printer.print_string(" args(")
    for i, (arg, name) in enumerate(zip(arguments, names, strict=True)):
        if i:
            printer.print_string(", ")
        arg.name_hint = name
        printer.print_ssa_value(arg)
        printer.print_string(" : ")
        printer.print_attribute(arg.type)
    printer.print_string(")")
    printer.print_op_attributes(op.attributes, print_keyword=True)
    printer.print_string(" ")
    printer.print_region(op.body, print_entry_block_args=False, print_empty_block=False)


@irdl_op_definition
class KernelOp(IRDLOperation):
    """A kernel: for every point (i0, i1, ...) of the grid, run body(i0, i1, ..., args...)."""

    name = "tile.kernel"

    sym_name = prop_def(StringAttr)
    grid_sizes = prop_def(DenseArrayBase.constr(I64))
    grid_names = prop_def(ArrayAttr[StringAttr])
    arg_names = prop_def(ArrayAttr[StringAttr])
    lane_axis = opt_prop_def(IntegerAttr[I64])
    body = region_def("single_block")

    traits = traits_def(IsolatedFromAbove(), NoTerminator(), SymbolOpInterface())

    def __init__(
        self,
        name: str,
        grid: Sequence[tuple[str, int]],
        args: Sequence[tuple[str, Attribute]],
        lane: str | None = None,
        body: Region | None = None,
    ):
        """A kernel over `grid` (axis name, size) with `args` (name, type); `lane` names the
        lane axis.  Without `body`, the body is an empty block with the right arguments."""
        grid_names = [axis for axis, _ in grid]
        if body is None:
            body = Region(Block(arg_types=[IndexType()] * len(grid) + [t for _, t in args]))
        properties: dict[str, Attribute] = {
            "sym_name": StringAttr(name),
            "grid_sizes": DenseArrayBase.from_list(i64, [size for _, size in grid]),
            "grid_names": ArrayAttr(StringAttr(axis) for axis in grid_names),
            "arg_names": ArrayAttr(StringAttr(arg) for arg, _ in args),
        }
        if lane is not None:
            if lane not in grid_names:
                raise ValueError(f"lane axis '{lane}' is not a grid axis of kernel '{name}'")
            properties["lane_axis"] = IntegerAttr(grid_names.index(lane), i64)
        super().__init__(properties=properties, regions=[body])
        for arg, hint in zip(body.block.args, self.names, strict=False):
            arg.name_hint = hint

    # accessors ------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Grid axis names, then argument names: the names of the block arguments."""
        return [a.data for a in self.grid_names.data] + [a.data for a in self.arg_names.data]

    @property
    def grid(self) -> dict[str, int]:
        """Axis name -> size, in grid order."""
        sizes = self.grid_sizes.get_values()
        return dict(zip((a.data for a in self.grid_names.data), sizes, strict=True))

    @property
    def lane(self) -> str | None:
        """The name of the lane axis, if any."""
        if self.lane_axis is None:
            return None
        return self.grid_names.data[self.lane_axis.value.data].data

    @property
    def grid_indices(self) -> tuple[BlockArgument, ...]:
        return self.body.block.args[: len(self.grid_names.data)]

    @property
    def arguments(self) -> tuple[BlockArgument, ...]:
        return self.body.block.args[len(self.grid_names.data) :]

    def argument(self, name: str) -> BlockArgument:
        return self.arguments[[a.data for a in self.arg_names.data].index(name)]

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, parser: Parser) -> KernelOp:
        name = parser.parse_symbol_name().data
        parser.parse_keyword("grid")
        grid: list[tuple[str, int]] = []
        lanes: list[str] = []
        block_args: list[Parser.Argument] = []

        def parse_axis() -> None:
            arg = parser.parse_argument(expect_type=False)
            parser.parse_punctuation("=")
            size = parser.parse_integer(allow_boolean=False)
            axis = arg.name.text[1:]
            grid.append((axis, size))
            pos = parser.pos
            if parser.parse_optional_keyword("lane"):
                if lanes:
                    parser.raise_error(
                        f"at most one grid axis can be the lane axis, and '{lanes[0]}' is",
                        pos,
                        parser.pos,
                    )
                lanes.append(axis)
            block_args.append(arg.resolve(IndexType()))

        parser.parse_comma_separated_list(Parser.Delimiter.PAREN, parse_axis)
        args, attributes, body = parse_args_and_body(parser, block_args)
        op = cls(
            name,
            grid,
            [(arg.name.text[1:], arg.type) for arg in args],
            lanes[0] if lanes else None,
            body,
        )
        if attributes is not None:
            op.attributes |= attributes.data
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" grid(")
        lane = self.lane
        for i, (index, (axis, size)) in enumerate(
            zip(self.grid_indices, self.grid.items(), strict=True)
        ):
            if i:
                printer.print_string(", ")
            index.name_hint = axis
            printer.print_ssa_value(index)
            printer.print_string(f" = {size}{' lane' if axis == lane else ''}")
        printer.print_string(")")
        print_args_and_body(printer, self, [a.data for a in self.arg_names.data])

    # verification ---------------------------------------------------------------------------
    def verify_(self) -> None:
        kernel = f"tile.kernel @{self.sym_name.data}"
        sizes = self.grid_sizes.get_values()
        if len(sizes) != len(self.grid_names.data):
            raise VerifyException(
                f"{kernel}: {len(sizes)} grid sizes for {len(self.grid_names.data)} grid axes"
            )
        for axis, size in self.grid.items():
            if size < 1:
                raise VerifyException(f"{kernel}: grid axis '{axis}' has size {size}, must be >= 1")
        seen: set[str] = set()
        for name in self.names:
            if not name.isidentifier():
                raise VerifyException(f"{kernel}: '{name}' is not a valid name")
            if name in seen:
                raise VerifyException(f"{kernel}: the name '{name}' is used twice")
            seen.add(name)
        if self.lane_axis is not None and not 0 <= self.lane_axis.value.data < len(sizes):
            raise VerifyException(
                f"{kernel}: lane axis {self.lane_axis.value.data} is not one of the "
                f"{len(sizes)} grid axes"
            )
        expected = len(sizes) + len(self.arg_names.data)
        args = self.body.block.args
        if len(args) != expected:
            raise VerifyException(
                f"{kernel}: the body must take {len(sizes)} grid indices and "
                f"{len(self.arg_names.data)} arguments, it takes {len(args)} block arguments"
            )
        for axis, index in zip(self.grid_names.data, self.grid_indices, strict=True):
            if not isinstance(index.type, IndexType):
                raise VerifyException(
                    f"{kernel}: grid index '{axis.data}' must be an index, got {index.type}"
                )
        for name, arg in zip(self.arg_names.data, self.arguments, strict=True):
            if not isinstance(arg.type, TensorType | Float32Type):
                raise VerifyException(
                    f"{kernel}: argument '{name.data}' must be an HBM tensor (!tile.tensor) or "
                    f"an f32 scalar, got {arg.type}"
                )
