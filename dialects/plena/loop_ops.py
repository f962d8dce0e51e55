"""The structured hardware loop `plena.loop` and its terminator `plena.yield`.

    %r = plena.loop %c : !plena.gp<gp5> = 16 iter_args(%acc = %init) -> (!plena.fp<f1>) {
      ...
      plena.yield %next : !plena.fp<f1>
    }

prints in assembly as

    C_LOOP_START gp5, 16
        ...
    C_LOOP_END gp5

The body's first block argument is the counter register, which the machine sets to the count
and decrements at the loop end (the body sees N, N-1, ..., 1; it is 0 after the loop).  The
other block arguments are loop-carried values, matched by the operands (initial values), the
`plena.yield` operands (next values) and the results (final values).  No instruction moves
them, so once registers are allocated all four must be the same register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from plena_mlir.dialects.plena.attrs import target_of
from plena_mlir.dialects.plena.pseudo_ops import GetRegisterOp
from plena_mlir.dialects.plena.registers import GpRegisterType, PlenaRegisterType
from xdsl.backend.register_type import RegisterResource
from xdsl.dialects.builtin import I64, IntegerAttr, i64
from xdsl.dialects.utils import AbstractYieldOperation, parse_assignment, print_assignment
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    EffectInstance,
    HasParent,
    IsTerminator,
    MemoryEffectKind,
    Pure,
    RecursiveMemoryEffect,
    SingleBlockImplicitTerminator,
    ensure_terminator,
)
from xdsl.utils.exceptions import VerifyException

from plena_mlir.isa.instruction import operand_error
from plena_mlir.isa.opcodes import TVM_ISA

_LOOP_START = TVM_ISA["C_LOOP_START"]


@irdl_op_definition
class YieldOp(AbstractYieldOperation[PlenaRegisterType]):
    """The values the next iteration of the enclosing `plena.loop` starts with."""

    name = "plena.yield"

    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(LoopOp), Pure()))


class LoopEffects(RecursiveMemoryEffect):
    """The body's effects, plus the write of an allocated counter register."""

    @classmethod
    def get_effects(cls, op: Operation) -> set[EffectInstance] | None:
        effects = super().get_effects(op)
        counter = allocated_counter(op)
        if effects is not None and counter is not None:
            effects = set(effects)
            effects.add(EffectInstance(MemoryEffectKind.WRITE, resource=RegisterResource(counter)))
        return effects


def allocated_counter(loop: Operation) -> GpRegisterType | None:
    """The counter register of `loop` (a plena.loop) if it is allocated."""
    args = loop.regions[0].block.args
    counter = args[0].type if args else None
    if isinstance(counter, GpRegisterType) and counter.is_allocated:
        return counter
    return None


@irdl_op_definition
class LoopOp(IRDLOperation):
    """A hardware loop running its body `count` times (1 <= count < 2^21).

        C_LOOP_START gp[counter], count             # gp[counter] = count
        body(gp[counter], carried...)               # gp[counter] = count, count-1, ..., 1
        C_LOOP_END gp[counter]                      # > 1: decrement and repeat; else 0, exit
    """

    name = "plena.loop"

    #: The instructions a loop assembles to.
    OPCODES: ClassVar[tuple[str, ...]] = ("C_LOOP_START", "C_LOOP_END")

    count = prop_def(IntegerAttr[I64])
    iter_args = var_operand_def(PlenaRegisterType)
    res = var_result_def(PlenaRegisterType)
    body = region_def("single_block")

    traits = traits_def(SingleBlockImplicitTerminator(YieldOp), LoopEffects())

    def __init__(
        self,
        count: int,
        iter_args: Sequence[SSAValue] = (),
        body: Region | None = None,
        counter_type: GpRegisterType | None = None,
    ):
        """A loop over `body`, or over an empty body whose counter has `counter_type`
        (unallocated by default) and whose carried values have the types of `iter_args`."""
        if body is None:
            counter = counter_type or GpRegisterType.unallocated()
            block = Block(arg_types=(counter, *(v.type for v in iter_args)))
            if not iter_args:
                block.add_op(YieldOp())
            body = Region(block)
        super().__init__(
            operands=[list(iter_args)],
            result_types=[[v.type for v in iter_args]],
            properties={"count": IntegerAttr(count, i64)},
            regions=[body],
        )

    @property
    def counter(self) -> SSAValue:
        """The counter register, as the body's first block argument."""
        return self.body.block.args[0]

    def print(self, printer: Printer) -> None:
        counter, *carried = self.body.block.args
        printer.print_string(" ")
        printer.print_ssa_value(counter)
        printer.print_string(" : ")
        printer.print_attribute(counter.type)
        printer.print_string(f" = {self.count.value.data}")
        if carried:
            printer.print_string(" iter_args(")
            printer.print_list(
                zip(carried, self.iter_args, strict=True),
                lambda pair: print_assignment(printer, *pair),
            )
            printer.print_string(") -> (")
            printer.print_list((a.type for a in carried), printer.print_attribute)
            printer.print_string(")")
        printer.print_string(" ")
        printer.print_region(
            self.body,
            print_entry_block_args=False,
            print_empty_block=False,
            print_block_terminators=bool(carried),
        )
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> LoopOp:
        counter = parser.parse_argument()
        parser.parse_punctuation("=")
        count = parser.parse_integer(allow_boolean=False)
        carried_args: list[Parser.Argument] = []
        operands: list[SSAValue] = []
        if parser.parse_optional_characters("iter_args"):
            pos = parser.pos
            pairs = parser.parse_comma_separated_list(
                Parser.Delimiter.PAREN, lambda: parse_assignment(parser)
            )
            parser.parse_punctuation("->")
            types = parser.parse_comma_separated_list(
                Parser.Delimiter.PAREN, parser.parse_type
            )
            if len(types) != len(pairs):
                parser.raise_error(
                    f"{len(pairs)} loop-carried values but {len(types)} types", pos, parser.pos
                )
            carried_args = [arg.resolve(t) for (arg, _), t in zip(pairs, types, strict=True)]
            operands = parser.resolve_operands([v for _, v in pairs], types, pos)
        body = parser.parse_region((counter, *carried_args))
        attrs = parser.parse_optional_attr_dict()
        op = cls(count, operands, body)
        op.attributes |= attrs
        if not carried_args:
            for trait in op.get_traits_of_type(SingleBlockImplicitTerminator):
                ensure_terminator(op, trait)
        return op

    def verify_(self) -> None:
        block = self.body.block
        if not block.args or not isinstance(block.args[0].type, GpRegisterType):
            raise VerifyException(
                "the first block argument of plena.loop is its counter and must be a "
                "!plena.gp register"
            )
        carried = block.args[1:]
        yielded = block.last_op.operands if isinstance(block.last_op, YieldOp) else ()
        if not len(carried) == len(self.iter_args) == len(self.res) == len(yielded):
            raise VerifyException(
                f"plena.loop carries {len(self.iter_args)} values but its body has "
                f"{len(carried)} carried block arguments, yields {len(yielded)} values and "
                f"the loop has {len(self.res)} results"
            )
        for i, values in enumerate(zip(self.iter_args, carried, yielded, self.res, strict=True)):
            types = {v.type for v in values}
            if len(types) != 1:
                raise VerifyException(
                    f"loop-carried value {i} must have one register type as initial value, "
                    f"block argument, yielded value and result; got "
                    f"{', '.join(str(v.type) for v in values)}"
                )
        self._verify_against_target()
        self._verify_counter_register()

    def _verify_against_target(self) -> None:
        target = target_of(self)
        counter = self.counter.type
        assert isinstance(counter, GpRegisterType)
        for index, value in enumerate((counter.physical_index, self.count.value.data)):
            if value is not None and (message := operand_error(_LOOP_START, index, value, target)):
                raise VerifyException(message)

    def _verify_counter_register(self) -> None:
        """An allocated counter is owned by the loop: no enclosing loop counts in it, and no
        carried value or op of the body (other than a read by plena.get_register) writes it."""
        counter = self.counter.type
        assert isinstance(counter, GpRegisterType)
        if not counter.is_allocated:
            return
        name = counter.register_name.data
        parent = self.parent_op()
        while parent is not None:
            if isinstance(parent, LoopOp) and parent.counter.type == counter:
                raise VerifyException(
                    f"nested plena.loop reuses the counter {name} of an enclosing loop"
                )
            parent = parent.parent_op()
        if counter in self.iter_args.types:
            raise VerifyException(
                f"a loop-carried value cannot live in the counter register {name}"
            )
        for op in self.body.walk():
            if isinstance(op, GetRegisterOp):
                continue
            if any(result.type == counter for result in op.results):
                raise VerifyException(
                    f"{op.name} in the body of plena.loop writes the loop counter {name}"
                )


LOOP_OPS = (LoopOp, YieldOp)
