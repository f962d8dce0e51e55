"""Chains: several kernels in one module, run one after the other on shared HBM tensors.

    tile.kernel @layernorm grid(...) args(%x : !tile.tensor<128x128xf32>, ..., %eps : f32) {...}
    tile.kernel @rmsnorm grid(...) args(...) {...}
    tile.chain @block args(%x : !tile.tensor<128x128xf32>, ..., %out : !tile.tensor<128x128xf32>) {
      %h = tile.hbm_tensor "h" : !tile.tensor<128x128xf32>
      %eps = arith.constant 1.000000e-06 : f32
      tile.call @layernorm(%x, %g, %b, %h, %eps) stage "layernorm" : (...) -> ()
      %h3 = tile.view %h : !tile.tensor<128x128xf32> to !tile.tensor<128x8x16xf32>
      tile.call @rmsnorm(%h3, %w, %out3, %eps) stage "rmsnorm" : (...) -> ()
    }

`tile.chain` is the top-level sequence: its arguments are the tensors the host sees (inputs
and outputs) and f32 scalars the host writes to FPRAM; its body declares intermediate HBM
tensors (`tile.hbm_tensor`, placed by `plena-link-kernels`), relabels tensors
(`tile.view`), binds f32 constants (`arith.constant`) and calls the module's kernels in order
(`tile.call`, one named stage per call).
"""

from __future__ import annotations

from collections.abc import Sequence

from plena_mlir.dialects.tile.kernel_ops import (
    KernelOp,
    parse_args_and_body,
    print_args_and_body,
)
from plena_mlir.dialects.tile.types import TensorType, format_shape
from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import (
    ArrayAttr,
    FlatSymbolRefAttrConstr,
    Float32Type,
    FunctionType,
    StringAttr,
    SymbolRefAttr,
)
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsolatedFromAbove, NoTerminator, SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException

#: What a chain body may hold besides tile.hbm_tensor, tile.view and tile.call.
BODY_OPS = "tile.hbm_tensor, tile.view, tile.call and f32 arith.constant"


def _describe(typ: Attribute) -> str:
    """`128x128xf32 (16384 elements)`, how a view's diagnostic names a tensor type."""
    assert isinstance(typ, TensorType)
    return f"{format_shape(typ.get_shape())}x{typ.element_type} ({typ.num_elements} elements)"


def _check_in_chain(op: Operation) -> None:
    parent = op.parent_op()
    if parent is not None and not isinstance(parent, ChainOp):
        raise VerifyException(f"{op.name} must be in a tile.chain, not in {parent.name}")


@irdl_op_definition
class HbmTensorOp(IRDLOperation):
    """An intermediate HBM tensor of the chain, placed by the linker:

        %h = tile.hbm_tensor "h" : !tile.tensor<128x128xf32>

        h = hbm[address : address + packed_size(128x128 f32)]   # address chosen by the linker

    Its contents are undefined until a call writes it; the host does not see it.
    """

    name = "tile.hbm_tensor"

    tensor_name = prop_def(StringAttr)
    result = result_def(TensorType)

    def __init__(self, name: str, typ: TensorType):
        super().__init__(properties={"tensor_name": StringAttr(name)}, result_types=[typ])

    @property
    def tensor(self) -> str:
        return self.tensor_name.data

    @classmethod
    def parse(cls, parser: Parser) -> HbmTensorOp:
        name = parser.parse_str_literal("the tensor's name")
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        op = cls(name, parser.parse_type())
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.tensor)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        _check_in_chain(self)
        if not self.tensor.isidentifier():
            raise VerifyException(f"tile.hbm_tensor: '{self.tensor}' is not a valid name")


@irdl_op_definition
class ViewOp(IRDLOperation):
    """The same HBM tensor with another shape (no data moves):

        %q3 = tile.view %q : !tile.tensor<128x128xf32> to !tile.tensor<128x8x16xf32>

        q3 = q.reshape(128, 8, 16)          # same address, same bytes

    A view relabels the same bytes, so it keeps the element count and the element type.  That
    is exact in every HBM format: an MX-packed tensor is its elements row-major, then its scale
    rows, quantised in blocks of 8 along the flattened tensor, so any reshape with the same
    element count is byte-identical.  A part of a tensor or a concatenation is not a tensor:
    copy it with a kernel (s_split, s_concat, concat).
    """

    name = "tile.view"

    source = operand_def(TensorType)
    result = result_def(TensorType)

    def __init__(self, source: SSAValue, typ: TensorType):
        super().__init__(operands=[source], result_types=[typ])

    @classmethod
    def parse(cls, parser: Parser) -> ViewOp:
        source = parser.parse_unresolved_operand()
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        source_type = parser.parse_type()
        parser.parse_keyword("to")
        op = cls(parser.resolve_operand(source, source_type), parser.parse_type())
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.source)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.source.type)
        printer.print_string(" to ")
        printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        _check_in_chain(self)
        source, result = self.source.type, self.result.type
        assert isinstance(source, TensorType) and isinstance(result, TensorType)
        if source.num_elements != result.num_elements or source.element_type != result.element_type:
            raise VerifyException(
                f"tile.view: {_describe(source)} to {_describe(result)}: a view relabels the "
                "same bytes, so it keeps the element count and the element type; a part of a "
                "tensor or a concatenation is another tensor: copy it with a kernel "
                "(s_split, s_concat, concat)"
            )


@irdl_op_definition
class CallOp(IRDLOperation):
    """One stage of the chain: run a kernel of the module over its whole grid.

        tile.call @linear(%h, %w, %q) stage "q_proj" : (!tile.tensor<...>, ...) -> ()

        for every point p of linear's grid:
            linear.body(p, h, w, q)          # the arguments bound in order, by reference

    Tensors are passed by reference (the kernel reads and writes the chain's HBM tensor);
    f32 values become the kernel's FPRAM scalar arguments.  The stage name is unique in the
    chain: it names the call in reports and diagnostics.
    """

    name = "tile.call"

    callee = prop_def(FlatSymbolRefAttrConstr)
    stage = prop_def(StringAttr)
    args = var_operand_def()

    def __init__(self, callee: str, stage: str, args: Sequence[SSAValue]):
        super().__init__(
            operands=[args],
            properties={"callee": SymbolRefAttr(callee), "stage": StringAttr(stage)},
        )

    @property
    def callee_name(self) -> str:
        return self.callee.root_reference.data

    @property
    def stage_name(self) -> str:
        return self.stage.data

    @property
    def kernel(self) -> KernelOp:
        """The called tile.kernel (of a verified module)."""
        found = SymbolTable.lookup_symbol(self, self.callee)
        assert isinstance(found, KernelOp), f"tile.call: @{self.callee_name} is not a kernel"
        return found

    @classmethod
    def parse(cls, parser: Parser) -> CallOp:
        callee = parser.parse_symbol_name().data
        args = parser.parse_comma_separated_list(
            Parser.Delimiter.PAREN, parser.parse_unresolved_operand
        )
        parser.parse_keyword("stage")
        stage = parser.parse_str_literal("the stage name")
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        pos = parser.pos
        function_type = parser.parse_function_type()
        if function_type.outputs.data:
            parser.raise_error("tile.call has no results: its type ends in '-> ()'", pos)
        values = parser.resolve_operands(args, function_type.inputs.data, pos)
        op = cls(callee, stage, values)
        op.attributes |= attributes
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.callee_name)
        printer.print_string("(")
        printer.print_list(self.args, printer.print_operand)
        printer.print_string(") stage ")
        printer.print_string_literal(self.stage_name)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(FunctionType.from_lists(self.args.types, []))

    def verify_(self) -> None:
        _check_in_chain(self)
        chain = self.parent_op()
        if chain is None or chain.parent_op() is None:
            return  # not in a module yet: the callee is checked once it is
        call = f"tile.call @{self.callee_name} (stage '{self.stage_name}')"
        found = SymbolTable.lookup_symbol(self, self.callee)
        if found is None:
            raise VerifyException(f"{call}: there is no tile.kernel @{self.callee_name}")
        if not isinstance(found, KernelOp):
            raise VerifyException(f"{call}: @{self.callee_name} is a {found.name}, not a kernel")
        names = [a.data for a in found.arg_names.data]
        if len(self.args) != len(names):
            raise VerifyException(
                f"{call}: the kernel takes {len(names)} arguments ({', '.join(names)}), "
                f"got {len(self.args)}"
            )
        for name, param, arg in zip(names, found.arguments, self.args, strict=True):
            if arg.type != param.type:
                raise VerifyException(
                    f"{call}: argument '{name}' must be {param.type}, got {arg.type}"
                )


@irdl_op_definition
class ChainOp(IRDLOperation):
    """A sequence of kernel calls on shared HBM tensors:

    tile.chain @block args(%x : !tile.tensor<128x128xf32>, %y : ..., %eps : f32) {
      ... tile.hbm_tensor, tile.view, arith.constant (f32), tile.call ...
    }

    def block(x, y, eps):                # tensors: host-visible HBM (inputs and outputs)
        h = hbm_tensor(...)              # f32 args: host-written FPRAM scalars
        layernorm(x, ..., h, eps)        # each tile.call runs to completion, in order
        rmsnorm(view(h), ..., y, eps)
    """

    name = "tile.chain"

    sym_name = prop_def(StringAttr)
    arg_names = prop_def(ArrayAttr[StringAttr])
    body = region_def("single_block")

    traits = traits_def(IsolatedFromAbove(), NoTerminator(), SymbolOpInterface())

    def __init__(
        self, name: str, args: Sequence[tuple[str, Attribute]], body: Region | None = None
    ):
        """A chain with `args` (name, type); without `body`, an empty block with the right
        arguments."""
        if body is None:
            body = Region(Block(arg_types=[t for _, t in args]))
        super().__init__(
            properties={
                "sym_name": StringAttr(name),
                "arg_names": ArrayAttr(StringAttr(arg) for arg, _ in args),
            },
            regions=[body],
        )
        for arg, (hint, _) in zip(body.block.args, args, strict=False):
            arg.name_hint = hint

    # accessors ------------------------------------------------------------------------------
    @property
    def arguments(self) -> tuple[BlockArgument, ...]:
        return self.body.block.args

    @property
    def names(self) -> list[str]:
        return [a.data for a in self.arg_names.data]

    def argument(self, name: str) -> BlockArgument:
        return self.arguments[self.names.index(name)]

    @property
    def calls(self) -> list[CallOp]:
        return [op for op in self.body.block.ops if isinstance(op, CallOp)]

    @property
    def intermediates(self) -> list[HbmTensorOp]:
        return [op for op in self.body.block.ops if isinstance(op, HbmTensorOp)]

    # syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse(cls, parser: Parser) -> ChainOp:
        name = parser.parse_symbol_name().data
        args, attributes, body = parse_args_and_body(parser, [])
        op = cls(name, [(arg.name.text[1:], arg.type) for arg in args], body)
        if attributes is not None:
            op.attributes |= attributes.data
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        print_args_and_body(printer, self, self.names)

    # verification ---------------------------------------------------------------------------
    def verify_(self) -> None:
        chain = f"tile.chain @{self.sym_name.data}"
        if len(self.arguments) != len(self.names):
            raise VerifyException(
                f"{chain}: {len(self.names)} argument names for {len(self.arguments)} block "
                "arguments"
            )
        for name, arg in zip(self.names, self.arguments, strict=True):
            if not isinstance(arg.type, TensorType | Float32Type):
                raise VerifyException(
                    f"{chain}: argument '{name}' must be an HBM tensor (!tile.tensor) or an f32 "
                    f"scalar, got {arg.type}"
                )
        _check_unique(chain, "name", self.names + [op.tensor for op in self.intermediates])
        _check_unique(chain, "stage", [call.stage_name for call in self.calls])
        for op in self.body.block.ops:
            if isinstance(op, ConstantOp):
                if not isinstance(op.result.type, Float32Type):
                    raise VerifyException(
                        f"{chain}: a constant in a chain is an f32 kernel argument, got "
                        f"{op.result.type}"
                    )
            elif not isinstance(op, HbmTensorOp | ViewOp | CallOp):
                raise VerifyException(f"{chain}: {op.name} cannot be in a chain, only {BODY_OPS}")


def _check_unique(chain: str, kind: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not name.isidentifier():
            raise VerifyException(f"{chain}: '{name}' is not a valid {kind}")
        if name in seen:
            raise VerifyException(f"{chain}: the {kind} '{name}' is used twice")
        seen.add(name)


CHAIN_OPS = (ChainOp, HbmTensorOp, ViewOp, CallOp)
