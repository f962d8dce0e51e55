"""Run one program on the simulator and on the reference model, then compare everything.

`Harness.run` fails the test unless both machines complete and end in the same state:
every GP/FP/address register, SCALE/STRIDE/V_MASK, all of VRAM, MRAM, FPRAM, INTRAM, the
four accumulators, the HBM contents (`Simulator.hbm.dump()`), the instruction counts and,
for programs without DMA, the cycle count.  `Harness.expect_abort` requires both to abort at
the same pc, the simulator with `SimulationError`.

Floating-point values are compared bit for bit (so -0.0 != 0.0), except that any NaN
equals any NaN (payloads are not specified).
"""

from __future__ import annotations

import numpy as np
import pytest

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import decode
from plena_mlir.isa.instruction import Instruction, IsaError
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.errors import SimulationError
from plena_mlir.target import PLENA_TVM, Target

from .ref_numerics import mx_encode
from .reference_model import RefAbort, RefMachine

F32 = np.float32

#: mnemonics dispatched by the reference model during the current test (see conftest.py)
EXECUTED: set[str] = set()

Program = str | list[int] | list[Instruction]


def covers(*mnemonics: str) -> pytest.MarkDecorator:
    """The `covers` marker: the opcodes whose semantics a test (or a parameter) checks."""
    return pytest.mark.covers(*mnemonics)


def each_opcode(mnemonics) -> list:
    """Parameters for a test parametrized by mnemonic, each marked as covering its opcode."""
    return [pytest.param(m, marks=covers(m), id=m) for m in mnemonics]


def same_bits(actual, expected) -> np.ndarray:
    """Element-wise: identical float32 bit patterns, or both NaN."""
    a = np.ascontiguousarray(actual, dtype=F32)
    e = np.ascontiguousarray(expected, dtype=F32)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    return (a.view(np.uint32) == e.view(np.uint32)) | (np.isnan(a) & np.isnan(e))


def assert_same(actual, expected, what: str) -> None:
    """Bit-exact float comparison with a message naming the first differing elements."""
    ok = same_bits(actual, expected)
    if ok.all():
        return
    a, e = np.asarray(actual, dtype=F32), np.asarray(expected, dtype=F32)
    bad = np.argwhere(~ok)
    shown = "; ".join(
        f"[{', '.join(map(str, idx))}] got {a[tuple(idx)]!r} expected {e[tuple(idx)]!r}"
        for idx in bad[:6]
    )
    raise AssertionError(f"{what}: {len(bad)} element(s) differ: {shown}")


def to_instructions(program: Program, target: Target) -> list[Instruction | None]:
    """The program as the reference model runs it; None marks a word with no instruction."""
    if isinstance(program, str):
        return list(parse_asm(program, target))
    out: list[Instruction | None] = []
    for item in program:
        if isinstance(item, Instruction):
            out.append(item)
            continue
        try:
            out.append(decode(item, target))
        except IsaError:
            out.append(None)
    return out


def _state_mismatches(sim: Simulator, ref: RefMachine) -> list[str]:
    s = sim.state
    problems = []
    for name in ("gp", "areg"):
        got, want = [int(v) for v in getattr(s, name)], getattr(ref, name)
        if got != want:
            diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
            problems.append(f"{name}: (index, got, expected) {diff[:6]}")
    for name in ("scale", "stride", "vmask"):
        if int(getattr(s, name)) != getattr(ref, name):
            problems.append(f"{name}: got {int(getattr(s, name))} expected {getattr(ref, name)}")
    for name in ("fp", "vram", "mram", "fpram", "m_accum", "v_accum", "hm_accum", "hv_accum"):
        try:
            assert_same(getattr(s, name), getattr(ref, name), name)
        except AssertionError as e:
            problems.append(str(e))
    got_int = np.asarray(s.intram, dtype=np.uint32)
    if not np.array_equal(got_int, ref.intram):
        bad = np.argwhere(got_int != ref.intram)[:6, 0]
        problems.append(f"intram: index {list(bad)} got {got_int[bad]} expected {ref.intram[bad]}")
    dump = sim.hbm.dump()
    want = ref.hbm.dump()
    if len(dump) < len(want):
        problems.append(f"hbm dump is {len(dump)} bytes, the reference wrote up to {len(want)}")
    elif dump[: len(want)] != want or any(dump[len(want) :]):
        got_b = np.frombuffer(dump, dtype=np.uint8)
        want_b = np.zeros(len(dump), dtype=np.uint8)
        want_b[: len(want)] = np.frombuffer(want, dtype=np.uint8)
        bad = np.argwhere(got_b != want_b)[:8, 0]
        problems.append(
            f"hbm: byte {list(bad)} got {list(got_b[bad])} expected {list(want_b[bad])}"
        )
    return problems


class Harness:
    """A simulator and a reference machine fed the same preloads and programs."""

    def __init__(self, target: Target = PLENA_TVM, hbm_format: str = "mxfp8"):
        self.target = target
        self.sim = Simulator(target=target, hbm_format=hbm_format)
        self.ref = RefMachine(target, hbm_format)

    # preloads, applied to both machines
    def load_vram(self, rows: np.ndarray) -> None:
        self.sim.load_vram(np.asarray(rows, dtype=F32))
        self.ref.load_vram(rows)

    def load_fpram(self, values) -> None:
        self.sim.load_fpram(np.asarray(values, dtype=F32))
        self.ref.load_fpram(values)

    def load_intram(self, values) -> None:
        self.sim.load_intram(np.asarray(values, dtype=np.uint32))
        self.ref.load_intram(values)

    def load_hbm(self, image: bytes) -> None:
        self.sim.hbm.load_image(image)
        self.ref.hbm.load_image(image)

    def write_tensor(self, addr: int, array: np.ndarray) -> None:
        """The published image writer's layout (A4.8): element bytes, then scale bytes."""
        self.sim.hbm.write_tensor(addr, array)
        flat = np.asarray(array, dtype=F32).reshape(-1)
        elem, scale = mx_encode(flat, "writer")
        self.ref.hbm.write(addr, elem)
        self.ref.hbm.write(addr + flat.size, scale)

    # running
    def _run_reference(self, program: Program) -> tuple[list, RefAbort | None]:
        instructions = to_instructions(program, self.target)
        try:
            self.ref.run(instructions)
            return instructions, None
        except RefAbort as abort:
            return instructions, abort
        finally:
            EXECUTED.update(self.ref.per_opcode)

    def run(self, program: Program, check_cycles: bool | None = None):
        """Run on both; both must complete with identical state.  Returns the sim's stats.

        Cycles are compared unless the program contains DMA (whose timing test_hbm_dma
        checks separately) or check_cycles is False.
        """
        _, abort = self._run_reference(program)
        if abort is not None:
            pytest.fail(f"the reference model aborted ({abort}); the test expects completion")
        try:
            stats = self.sim.run(program)
        except SimulationError as e:
            pytest.fail(f"simulator aborted but the reference completed: {e}")
        problems = _state_mismatches(self.sim, self.ref)
        if stats.instructions != self.ref.instructions:
            problems.append(
                f"instructions: got {stats.instructions} expected {self.ref.instructions}"
            )
        if dict(stats.per_opcode) != self.ref.per_opcode:
            problems.append(
                f"per_opcode: got {dict(stats.per_opcode)} expected {self.ref.per_opcode}"
            )
        if check_cycles is not False and self.ref.cycles is not None:
            if stats.cycles != self.ref.cycles:
                problems.append(f"cycles: got {stats.cycles} expected {self.ref.cycles}")
        assert not problems, "simulator state differs from the reference:\n  " + "\n  ".join(
            problems
        )
        return stats

    def expect_abort(self, program: Program, pc: int) -> SimulationError:
        """Both machines must abort at `pc`; the simulator with a SimulationError naming it."""
        instructions, abort = self._run_reference(program)
        assert abort is not None, "test bug: the reference model did not abort"
        assert abort.pc == pc, f"test bug: the reference aborted at pc {abort.pc} ({abort})"
        with pytest.raises(SimulationError) as info:
            self.sim.run(program)
        err = info.value
        assert err.pc == pc, f"simulator aborted at pc {err.pc} ({err}); expected pc {pc}"
        if instructions[pc] is not None:
            assert instructions[pc].mnemonic in err.instruction, (
                f"SimulationError.instruction {err.instruction!r} does not name "
                f"{instructions[pc].mnemonic}"
            )
        if isinstance(program, str):
            assert err.line == instructions[pc].line, (
                f"SimulationError.line is {err.line}, the instruction is on line "
                f"{instructions[pc].line}"
            )
        return err
