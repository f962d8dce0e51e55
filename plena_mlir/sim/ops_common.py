"""What every instruction handler shares: the decoded word, the handler shape, memory checks.

The simulator decodes each 32-bit word once into `Fields` -- every field read the way the
emulator's decoder reads it (`plena-isa-tvm.md` A1.1: nothing sign-extended, `imm` = bits
31..11, `imm2` = bits 31..16) -- and turns it into a *handler*: a closure bound to those
fields with the signature

    handler(pc: int, tick: int) -> next pc

where `tick` is the number of instructions dispatched so far in this run, this one included
(only the loop instructions read it).  A handler raises `MachineFault(reason)` for every
condition the emulator aborts on; the executor adds the pc and the instruction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from plena_mlir.sim.errors import MachineFault

Handler = Callable[[int, int], int]

MASK32 = 0xFFFFFFFF


class Fields(NamedTuple):
    """Every field of one instruction word, unsigned (A1.1)."""

    word: int
    opcode: int
    rd: int
    rs1: int
    rs2: int
    rs3: int
    funct1: int
    imm: int
    imm2: int

    @classmethod
    def of(cls, word: int) -> Fields:
        return cls(
            word,
            word & 0x3F,
            (word >> 6) & 0x1F,
            (word >> 11) & 0x1F,
            (word >> 16) & 0x1F,
            (word >> 21) & 0x1F,
            (word >> 26) & 0x1F,
            (word >> 11) & 0x1FFFFF,
            (word >> 16) & 0xFFFF,
        )


def skip(pc: int, tick: int) -> int:
    """The handler of an instruction that does nothing (the dispatch loop leaves it out of
    straight-line blocks)."""
    return pc + 1


def aborting(reason: str) -> Handler:
    """A handler for an instruction the emulator aborts on whenever it is executed."""

    def handler(pc: int, tick: int) -> int:
        raise MachineFault(reason)

    handler.always_aborts = True
    return handler


def always_aborts(handler: Handler) -> bool:
    """Whether `handler` is an `aborting` one."""
    return getattr(handler, "always_aborts", False)


def register_error(kind: str, index: int, count: int) -> str | None:
    """Why register `index` of a file of `count` registers cannot be used, or None."""
    if index < count:
        return None
    prefix = {"FP": "f", "address": "a"}[kind]
    return (
        f"{kind} register {prefix}{index} does not exist "
        f"(the machine has {prefix}0..{prefix}{count - 1}; the emulator aborts)"
    )


def vram_rows_checker(vlen: int, vram_rows: int) -> Callable[[int, int], int]:
    """`first_row(addr, count)`: the VRAM row of element address `addr`, checked.

    Every VRAM access needs `addr` to be a multiple of VLEN and rows `addr/VLEN ..
    addr/VLEN + count - 1` to exist (A2, `vsram:94,147`); otherwise MachineFault.
    """

    def first_row(addr: int, count: int = 1) -> int:
        if addr % vlen:
            raise MachineFault(f"VRAM address {addr} is not a multiple of VLEN ({vlen})")
        row = addr // vlen
        if row + count > vram_rows:
            bad = max(row, vram_rows)
            raise MachineFault(
                f"VRAM row {bad} (address {bad * vlen}) is past the end of VRAM "
                f"({vram_rows} rows)"
            )
        return row

    return first_row


def fmax(a: np.float32, b: np.float32) -> np.float32:
    """np.fmax(a, b) of two np.float32 scalars, bit for bit (NaN payloads and signed zeros
    included: b unless a > b or b is NaN), without the cost of a ufunc call."""
    return a if a > b or b != b else b


class RowViews(dict):
    """views[addr]: the VRAM row at element address `addr`, a view made (and its address
    checked by `first_row`) on first use and kept: a single-row operand costs one dict
    lookup.  One per executor, so views never outlive the arrays they look into."""

    def __init__(self, vram: np.ndarray, first_row: Callable[[int, int], int]):
        super().__init__()
        self.vram = vram
        self.first_row = first_row

    def __missing__(self, addr: int) -> np.ndarray:
        view = self[addr] = self.vram[self.first_row(addr)]
        return view
