"""A module of `plena` ops -> the flat instruction list it assembles to.

The module body is the program, in order.  `plena.loop` expands to C_LOOP_START, its body and
C_LOOP_END; `plena.comment` becomes a comment line; `plena.get_register` and `plena.yield`
emit nothing.  Every register must be allocated to a physical register.  A `plena.li`
constant has no encoding of its own (plena-optimize-scalar legalises it).  Anything else is a
DiagnosticException naming the op: emission makes no decisions, it only spells out what the
IR already says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.dialects.plena import (
    CommentOp,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    PlenaInstruction,
    YieldOp,
    target_of,
)
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.isa.instruction import Instruction, IsaError, check_instruction
from plena_mlir.target import Target


@dataclass(frozen=True)
class ProgramLine:
    """One line of the program: an instruction (with an optional trailing comment) or a
    comment alone, at a hardware-loop nesting depth."""

    depth: int
    instruction: Instruction | None
    comment: str | None = None


def program_lines(module: ModuleOp) -> Iterator[ProgramLine]:
    """The program of `module`, line by line, checked against the module's target."""
    yield from _block_lines(module.body.block, 0, _Checker(target_of(module)))


def module_instructions(module: ModuleOp) -> list[Instruction]:
    """The flat instruction list of `module`."""
    return [line.instruction for line in program_lines(module) if line.instruction is not None]


def instruction_count(block: Block) -> int:
    """How many instructions `block` emits (each plena instruction one, a plena.loop its body
    and C_LOOP_START / C_LOOP_END), without building or checking them."""
    count = 0
    for op in block.ops:
        if isinstance(op, PlenaInstruction):
            count += 1
        elif isinstance(op, LoopOp):
            count += 2 + instruction_count(op.body.block)
    return count


def _block_lines(block: Block, depth: int, checker: _Checker) -> Iterator[ProgramLine]:
    for op in block.ops:
        if isinstance(op, PlenaInstruction):
            comment = op.comment.data if op.comment is not None else None
            yield ProgramLine(depth, checker.checked(op.to_instruction(), op.name), comment)
        elif isinstance(op, LoopOp):
            counter = _loop_counter(op)
            start = Instruction("C_LOOP_START", (counter, op.count.value.data))
            yield ProgramLine(depth, checker.checked(start, op.name))
            yield from _block_lines(op.body.block, depth + 1, checker)
            end = Instruction("C_LOOP_END", (counter,))
            yield ProgramLine(depth, checker.checked(end, op.name))
        elif isinstance(op, CommentOp):
            yield ProgramLine(depth, None, op.text.data)
        elif isinstance(op, LoadImmediateOp):
            raise DiagnosticException(
                f"cannot emit plena.li {op.value.value.data}: plena.li must be legalised by "
                "plena-optimize-scalar before emission"
            )
        elif not isinstance(op, GetRegisterOp | YieldOp):
            raise DiagnosticException(
                f"cannot emit {op.name} as PLENA code: only plena instructions, plena.loop, "
                "plena.comment and plena.get_register can be emitted; lower it first"
            )


def _loop_counter(op: LoopOp) -> int:
    counter = op.counter.type
    assert isinstance(counter, GpRegisterType)
    if counter.physical_index is None:
        raise DiagnosticException(
            f"cannot emit plena.loop: its counter is {counter}, not a physical register; "
            "allocate registers first"
        )
    return counter.physical_index


@dataclass
class _Checker:
    """Checks instructions against `target`, each distinct instruction once (a program
    repeats most of its instructions: flash_attention has 518 distinct in 3772)."""

    target: Target
    legal: set[Instruction] = field(default_factory=set)

    def checked(self, instr: Instruction, op_name: str) -> Instruction:
        """`instr`; DiagnosticException naming `op_name` if the target cannot run it."""
        if instr not in self.legal:
            try:
                check_instruction(instr, self.target)
            except IsaError as e:
                raise DiagnosticException(f"cannot emit {op_name}: {e}") from None
            self.legal.add(instr)
        return instr
