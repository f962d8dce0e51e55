"""An instruction list -> a module of `plena` ops on physical registers.

The inverse of `emit.py`, for `.asm` and `.mem` programs written outside the compiler:

- each instruction becomes its op, registers typed by their physical names;
- a C_LOOP_START / C_LOOP_END pair on the same counter register that nests properly becomes
  a `plena.loop` whose first block argument is the counter; a C_LOOP_END that does not close
  the innermost open loop, or a loop never closed, is a ProgramStructureError naming the line;
- a read of the counter of an enclosing loop is that loop's block argument (a loop body
  never writes a counter); any other read of a register that no earlier instruction of the
  same block wrote goes through a `plena.get_register` placed just before the reader;
- after a loop, the registers its body wrote (and its counter, now 0) are read afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region, SSAValue

from plena_mlir.dialects.plena import (
    OP_OF_MNEMONIC,
    REGISTER_TYPE_OF_KIND,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    PlenaRegisterType,
    YieldOp,
)
from plena_mlir.isa.instruction import Instruction, IsaError, check_instruction
from plena_mlir.isa.opcodes import Kind
from plena_mlir.target import DEFAULT_TARGET, Target


class ProgramStructureError(IsaError):
    """An instruction or loop that cannot be imported; the message starts `file:line:`."""


@dataclass
class _Scope:
    """The block being filled: the whole program, or the body of an open loop."""

    block: Block
    #: the SSA value that currently holds each register
    values: dict[PlenaRegisterType, SSAValue] = field(default_factory=dict)
    #: registers written in this block or blocks nested in it
    written: set[PlenaRegisterType] = field(default_factory=set)
    #: the C_LOOP_START that opened this scope, and where it was
    start: Instruction | None = None
    start_where: str = ""

    def read(self, kind: Kind, index: int) -> SSAValue:
        register = REGISTER_TYPE_OF_KIND[kind].from_index(index)
        if register not in self.values:
            get = GetRegisterOp(register)
            self.block.add_op(get)
            self.values[register] = get.res
        return self.values[register]

    def define(self, value: SSAValue) -> None:
        assert isinstance(value.type, PlenaRegisterType)
        self.values[value.type] = value
        self.written.add(value.type)


def program_to_module(
    program: Sequence[Instruction], target: Target = DEFAULT_TARGET, filename: str = "<program>"
) -> ModuleOp:
    """The module of `program`, each instruction checked against `target`."""
    scopes = [_Scope(Block())]
    for position, instr in enumerate(program, 1):
        where = f"{filename}:{instr.line}" if instr.line is not None else f"{filename}: #{position}"
        try:
            check_instruction(instr, target)
        except IsaError as e:
            raise ProgramStructureError(f"{where}: {e}") from None
        if instr.mnemonic == "C_LOOP_START":
            counter = GpRegisterType.from_index(instr.operands[0])
            body = _Scope(Block(arg_types=[counter]), start=instr, start_where=where)
            body.values = {_counter_type(s): s.block.args[0] for s in scopes[1:]}
            body.values[counter] = body.block.args[0]
            scopes.append(body)
        elif instr.mnemonic == "C_LOOP_END":
            _close_loop(scopes, instr, where)
        else:
            scope = scopes[-1]
            op = OP_OF_MNEMONIC[instr.mnemonic].from_instruction(instr, scope.read)
            scope.block.add_op(op)
            for result in op.results:
                scope.define(result)
    if len(scopes) > 1:
        open_loop = scopes[-1]
        raise ProgramStructureError(
            f"{open_loop.start_where}: C_LOOP_START gp{_counter(open_loop)} is never closed by a "
            f"C_LOOP_END gp{_counter(open_loop)}"
        )
    return ModuleOp(Region(scopes[0].block))


def _counter_type(scope: _Scope) -> GpRegisterType:
    return GpRegisterType.from_index(_counter(scope))


def _counter(scope: _Scope) -> int:
    assert scope.start is not None
    return scope.start.operands[0]


def _close_loop(scopes: list[_Scope], end: Instruction, where: str) -> None:
    register = end.operands[0]
    if len(scopes) == 1:
        raise ProgramStructureError(f"{where}: C_LOOP_END gp{register} closes no open loop")
    body = scopes[-1]
    if _counter(body) != register:
        raise ProgramStructureError(
            f"{where}: C_LOOP_END gp{register} does not close the innermost open loop "
            f"(C_LOOP_START gp{_counter(body)} at {body.start_where}); hardware loops must nest"
        )
    scopes.pop()
    body.block.add_op(YieldOp())
    assert body.start is not None
    parent = scopes[-1]
    parent.block.add_op(LoopOp(body.start.operands[1], body=Region(body.block)))
    clobbered = body.written | {body.block.args[0].type}
    for register_type in clobbered:
        parent.values.pop(register_type, None)
    parent.written |= clobbered
