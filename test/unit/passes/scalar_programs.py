"""Programs and oracles for the plena-optimize-scalar tests.

- `parse`, `optimise`: text -> module, the pass applied (and the result verified).
- `allocate`: a test-only register allocation, independent of plena-allocate-registers, so
  the original and the optimised program both run on the simulator.  Constants are built
  the plain way (S_LUI_INT + S_ADDI_INT, no decisions), every loop-carried value gets copies
  so that each carried class is written only by its own copies, and registers are assigned
  by linear scan over the program order, a value used inside a loop it was defined outside
  of staying live to the end of that loop.
- `simulate`, `observable_state`: the allocated program run from a fixed preload, and what
  it left in INTRAM, VRAM, SCALE, STRIDE and V_MASK.
- `random_program`: a seeded program of scalar integer arithmetic on constants at the edges
  of the immediate ranges, INTRAM loads and stores, state writes observed by masked vector
  ops, and loop nests with carried values.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from plena_mlir.dialects.plena import (
    LoopOp,
    Plena,
    PlenaRegisterType,
    YieldOp,
)
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddiIntOp, S_LuiIntOp
from plena_mlir.passes.optimize_scalar import OptimizeScalarPass
from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, OpResult, SSAValue
from xdsl.parser import Parser
from xdsl.rewriter import InsertPoint, Rewriter

from plena_mlir.backend.emit import module_instructions
from plena_mlir.sim.api import Simulator
from plena_mlir.target import PLENA_TVM, Target

#: INTRAM entries preloaded with seeded values; programs store results at 256 and above.
PRELOADED_INTRAM = 64
#: VRAM rows preloaded with 1.0; masked vector ops write rows 2 and above.
PRELOADED_VRAM_ROWS = 2


def parse(text: str) -> ModuleOp:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Plena)
    module = Parser(ctx, text).parse_module()
    module.verify()
    return module


def optimise(module: ModuleOp, **options: int) -> ModuleOp:
    OptimizeScalarPass(**options).apply(Context(), module)
    module.verify()
    return module


# ---------------------------------------------------------------------------- allocation
def allocate(module: ModuleOp) -> ModuleOp:
    """Give every unallocated value a physical register (see the module docstring)."""
    _build_constants_plainly(module)
    _copy_carried_values(module)
    _LinearScan(module).run()
    module.verify()
    return module


def _build_constants_plainly(module: ModuleOp) -> None:
    for constant in [op for op in module.walk() if isinstance(op, LoadImmediateOp)]:
        value = constant.value.value.data
        high = S_LuiIntOp(imm=value >> 12)
        low = S_AddiIntOp(high, imm=value & 0xFFF)
        Rewriter.replace_op(constant, [high, low])


def _copy_carried_values(module: ModuleOp) -> None:
    """Initial values are copied just before the loop, yielded values through temporaries
    (all read before any carried register is written, so swaps are safe)."""
    for loop in [op for op in module.walk() if isinstance(op, LoopOp)]:
        for index, value in enumerate(loop.iter_args):
            copy = S_AddiIntOp(value, imm=0)
            Rewriter.insert_op(copy, InsertPoint.before(loop))
            loop.operands[index] = copy.results[0]
        terminator = loop.body.block.last_op
        assert isinstance(terminator, YieldOp)
        temporaries = [S_AddiIntOp(v, imm=0) for v in terminator.operands]
        copies = [S_AddiIntOp(t, imm=0) for t in temporaries]
        Rewriter.insert_op([*temporaries, *copies], InsertPoint.before(terminator))
        terminator.operands = [c.results[0] for c in copies]


@dataclass
class _LinearScan:
    module: ModuleOp
    position: dict[Operation, int] = field(default_factory=dict)
    loop_end: dict[LoopOp, int] = field(default_factory=dict)

    def run(self) -> None:
        self._number(self.module.body.block)
        classes = self._classes()
        intervals = sorted(
            (min(self._defined(v) for v in members), max(self._last(v) for v in members), i)
            for i, members in enumerate(classes)
        )
        free_at: dict[PlenaRegisterType, int] = {}
        assignment: dict[int, PlenaRegisterType] = {}
        for start, end, index in intervals:
            register_class = type(classes[index][0].type)
            register = next(
                r
                for r in register_class.allocatable_registers(PLENA_TVM)
                if free_at.get(r, -1) < start
            )
            free_at[register] = end
            assignment[index] = register
        for index, members in enumerate(classes):
            for value in members:
                Rewriter.replace_value_with_new_type(value, assignment[index])

    def _number(self, block: Block) -> None:
        for op in block.ops:
            self.position[op] = len(self.position) + len(self.loop_end)
            if isinstance(op, LoopOp):
                self._number(op.body.block)
                self.loop_end[op] = len(self.position) + len(self.loop_end)

    def _classes(self) -> list[list[SSAValue]]:
        """Values that share a register: a loop's carried operand, block argument, yielded
        value and result; every other unallocated value alone."""
        classes: list[list[SSAValue]] = []
        grouped: set[SSAValue] = set()
        for loop in self.loop_end:
            counter, *carried = loop.body.block.args
            classes.append([counter])
            terminator = loop.body.block.last_op
            for i, arg in enumerate(carried):
                members = [loop.iter_args[i], arg, terminator.operands[i], loop.results[i]]
                classes.append(members)
                grouped.update(members)
        for op in self.position:
            for result in op.results:
                if result not in grouped and not result.type.is_allocated:
                    classes.append([result])
        return classes

    def _defined(self, value: SSAValue) -> int:
        if isinstance(value, BlockArgument):
            return self.position[value.block.parent_op()]
        assert isinstance(value, OpResult)
        op = value.op
        return self.loop_end[op] if isinstance(op, LoopOp) else self.position[op]

    def _last(self, value: SSAValue) -> int:
        """The last program position at which the value must still be in its register (a
        block argument: the whole loop, as the counter register must survive it)."""
        last = self._defined(value)
        if isinstance(value, BlockArgument):
            last = self.loop_end[value.block.parent_op()]
        for use in value.uses:
            at = self.position[use.operation]
            if isinstance(use.operation, YieldOp):
                at = self.loop_end[use.operation.parent_op()]
            parent = use.operation.parent_op()
            while isinstance(parent, LoopOp):
                if not parent.is_ancestor(_defining_op(value)):
                    at = max(at, self.loop_end[parent])
                parent = parent.parent_op()
            last = max(last, at)
        return last


def _defining_op(value: SSAValue) -> Operation:
    if isinstance(value, BlockArgument):
        return value.block.parent_op()
    return value.op


# ---------------------------------------------------------------------------- simulation
def simulate(module: ModuleOp, target: Target = PLENA_TVM, seed: int = 7) -> Simulator:
    """Run the allocated `module` from a seeded INTRAM and a VRAM of ones."""
    sim = Simulator(target, hbm_format="fp32")
    rng = np.random.default_rng(seed)
    sim.load_intram(rng.integers(0, 1 << 32, PRELOADED_INTRAM, dtype=np.uint64))
    sim.load_vram(np.ones((PRELOADED_VRAM_ROWS, target.vlen), dtype=np.float32))
    sim.run(module_instructions(module))
    return sim


def observable_state(sim: Simulator) -> dict[str, object]:
    state = sim.state
    return {
        "intram": state.intram.tolist(),
        "vram": state.vram[:64].tolist(),
        "scale": state.scale,
        "stride": state.stride,
        "vmask": state.vmask,
    }


def run_both(text: str, **options: int) -> tuple[Simulator, Simulator, ModuleOp]:
    """The simulators after the original and after the optimised program, and the
    optimised module (before the test allocation)."""
    original = simulate(allocate(parse(text)))
    optimised = optimise(parse(text), **options)
    optimised_text = str(optimised)
    return original, simulate(allocate(parse(optimised_text))), parse(optimised_text)


# ------------------------------------------------------------------------ random programs
#: Constants at the edges of what the machine and the legalisation distinguish.
EDGE_CONSTANTS = (0, 1, 2, 3, 8, 31, 32, 33, 64, 4095, 4096, 65535, 65536, 65537, 1 << 31)
EDGE_CONSTANTS += ((1 << 32) - 1, 0x12345000, 0xDEADBEEF)


class RandomProgram:
    """`random_program(seed)`: see the module docstring.  Every statement's result is
    stored to its own INTRAM slot (from 256), so every value is observable."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.names = 0
        self.slot = 256
        self.vram_row = PRELOADED_VRAM_ROWS

    def text(self) -> str:
        self.lines = ["%zero = plena.get_register : !plena.gp<gp0>"]
        self.lines.append("%row1 = plena.li 64 : !plena.gp")
        self.lines.append("%three = plena.li 3 : !plena.gp")
        self.lines.append("%five = plena.s_addi_int %zero, 5 : (!plena.gp<gp0>) -> !plena.gp")
        self._block(["%zero"], depth=0, indent="")
        return "\n".join(self.lines) + "\n"

    def _new(self) -> str:
        self.names += 1
        return f"%v{self.names}"

    def _block(self, scope: list[str], depth: int, indent: str) -> list[str]:
        scope = list(scope)
        for _ in range(self.rng.randint(3, 8)):
            kind = self.rng.choices(
                [
                    *("const", "binary", "immediate", "load", "store"),
                    *("state", "mask", "observe", "loop", "tiny_loop", "mask_loop"),
                ],
                [3, 5, 3, 1, 2, 2, 2, 1, 2 if depth < 2 else 0, 1, 1 if depth < 2 else 0],
            )[0]
            scope.extend(getattr(self, f"_statement_{kind}")(scope, depth, indent))
        return scope

    def _emit(self, indent: str, line: str) -> None:
        self.lines.append(indent + line)

    def _type(self, name: str) -> str:
        return "!plena.gp<gp0>" if name == "%zero" else "!plena.gp"

    def _statement_const(self, scope, depth, indent) -> list[str]:
        name = self._new()
        value = self.rng.choice([*EDGE_CONSTANTS, self.rng.randrange(1 << 32)])
        self._emit(indent, f"{name} = plena.li {value} : !plena.gp")
        return [name]

    def _statement_binary(self, scope, depth, indent) -> list[str]:
        name = self._new()
        op = self.rng.choice(["add", "sub", "mul", "sll", "srl", "div", "rem"])
        a, b = self.rng.choice(scope), self.rng.choice(scope)
        self._emit(
            indent,
            f"{name} = plena.s_{op}_int {a}, {b} : ({self._type(a)}, {self._type(b)}) -> !plena.gp",
        )
        self._store(name, indent)
        return [name]

    def _statement_immediate(self, scope, depth, indent) -> list[str]:
        name = self._new()
        op = self.rng.choice(["addi", "slli", "srli", "lui"])
        if op == "lui":
            self._emit(
                indent, f"{name} = plena.s_lui_int {self.rng.randrange(1 << 20)} : !plena.gp"
            )
            return [name]
        a = self.rng.choice(scope)
        imm = self.rng.choice([0, 1, 12, 31, 32, 33, 4095, 65535, self.rng.randrange(1 << 16)])
        self._emit(indent, f"{name} = plena.s_{op}_int {a}, {imm} : ({self._type(a)}) -> !plena.gp")
        self._store(name, indent)
        return [name]

    def _statement_load(self, scope, depth, indent) -> list[str]:
        name = self._new()
        index = self.rng.randrange(PRELOADED_INTRAM)
        self._emit(
            indent, f"{name} = plena.s_ld_int %zero, {index} : (!plena.gp<gp0>) -> !plena.gp"
        )
        return [name]

    def _store(self, name: str, indent: str) -> None:
        """INTRAM[next slot] = name, the slot as an immediate or as a constant base."""
        self.slot += 1
        if self.rng.random() < 0.5:
            base = self._new()
            self._emit(indent, f"{base} = plena.li {self.slot} : !plena.gp")
            self._emit(indent, f"plena.s_st_int {name}, {base}, 0 : {self._type(name)}, !plena.gp")
        else:
            self._emit(
                indent,
                f"plena.s_st_int {name}, %zero, {self.slot} : {self._type(name)}, !plena.gp<gp0>",
            )

    def _statement_store(self, scope, depth, indent) -> list[str]:
        self._store(self.rng.choice(scope), indent)
        return []

    def _state_value(self, scope: list[str]) -> str:
        """Mostly a few recurring values, so that redundant writes occur."""
        return self.rng.choice(["%zero", "%three", "%five", "%five", self.rng.choice(scope)])

    def _statement_state(self, scope, depth, indent) -> list[str]:
        register = self.rng.choice(["stride", "scale", "v_mask"])
        value = self._state_value(scope)
        self._emit(indent, f"plena.c_set_{register}_reg {value} : {self._type(value)}")
        return []

    def _statement_mask(self, scope, depth, indent) -> list[str]:
        value = self._state_value(scope)
        self._emit(indent, f"plena.c_set_v_mask_reg {value} : {self._type(value)}")
        return self._statement_observe(scope, depth, indent)

    def _statement_observe(self, scope, depth, indent) -> list[str]:
        """A masked add into a fresh VRAM row: which heads it changes shows V_MASK."""
        row = self._new()
        self._emit(indent, f"{row} = plena.li {64 * self.vram_row} : !plena.gp")
        self.vram_row += 1
        self._emit(
            indent,
            f"plena.v_add_vv {row}, %row1, %row1, rmask 1 : !plena.gp, !plena.gp, !plena.gp",
        )
        return []

    def _statement_mask_loop(self, scope, depth, indent) -> list[str]:
        """A loop of V_MASK writes and observations (and maybe one nested), the pattern
        where a write repeated in a loop may or may not be redundant."""
        self._emit(indent, f"plena.loop {self._new()} : !plena.gp = {self.rng.randint(2, 4)} {{")
        for _ in range(self.rng.randint(2, 5)):
            kind = self.rng.choice(
                ["mask", "mask", "observe", "mask_loop" if depth < 2 else "mask"]
            )
            getattr(self, f"_statement_{kind}")(scope, depth + 1, indent + "  ")
        self._emit(indent, "}")
        return []

    def _statement_tiny_loop(self, scope, depth, indent) -> list[str]:
        """A loop an unroller takes: counter-dependent stores or a carried chain."""
        counter, count = self._new(), self.rng.randint(1, 4)
        if self.rng.random() < 0.5:
            self.slot += 1
            self._emit(indent, f"plena.loop {counter} : !plena.gp = {count} {{")
            self._emit(
                indent + "  ",
                f"plena.s_st_int {counter}, %zero, {self.slot} : !plena.gp, !plena.gp<gp0>",
            )
            self._emit(indent, "}")
            return []
        carried, result, step = self._new(), self._new(), self._new()
        init = self.rng.choice([v for v in scope if v != "%zero"] or ["%three"])
        self._emit(
            indent,
            f"{result} = plena.loop {counter} : !plena.gp = {count} iter_args({carried} = "
            f"{init}) -> (!plena.gp) {{",
        )
        self._emit(
            indent + "  ",
            f"{step} = plena.s_mul_int {carried}, %three : (!plena.gp, !plena.gp) -> !plena.gp",
        )
        next_value = self._new()
        self._emit(
            indent + "  ",
            f"{next_value} = plena.s_add_int {step}, {counter} : (!plena.gp, !plena.gp) -> "
            "!plena.gp",
        )
        self._emit(indent + "  ", f"plena.yield {next_value} : !plena.gp")
        self._emit(indent, "}")
        self._store(result, indent)
        return [result]

    def _statement_loop(self, scope, depth, indent) -> list[str]:
        count = self.rng.randint(1, 5)
        counter = self._new()
        candidates = [v for v in scope if v != "%zero"]
        inits = self.rng.sample(candidates, min(len(candidates), self.rng.randint(0, 2)))
        carried = [self._new() for _ in inits]
        head = f"plena.loop {counter} : !plena.gp = {count}"
        results: list[str] = []
        if inits:
            pairs = ", ".join(f"{c} = {i}" for c, i in zip(carried, inits, strict=True))
            types = ", ".join("!plena.gp" for _ in inits)
            head += f" iter_args({pairs}) -> ({types})"
            name = self._new()
            if len(inits) == 1:
                results = [name]
                head = f"{name} = {head}"
            else:
                results = [f"{name}#{i}" for i in range(len(inits))]
                head = f"{name}:{len(inits)} = {head}"
        self._emit(indent, head + " {")
        inner = self._block([*scope, counter, *carried], depth + 1, indent + "  ")
        if inits:
            body_values = [v for v in inner if v != "%zero"]
            yielded = [self.rng.choice(body_values) for _ in inits]
            self._emit(
                indent + "  ",
                f"plena.yield {', '.join(yielded)} : {', '.join('!plena.gp' for _ in inits)}",
            )
        self._emit(indent, "}")
        for result in results:
            self._store(result, indent)
        return results


def random_program(seed: int) -> str:
    return RandomProgram(seed).text()
