"""Programs for the register allocator's tests, and the oracles that check it.

- `ProgramBuilder`: a `plena` program on unallocated registers, built from Python (loops with
  carried values as `loop(count, inits, body)`).
- `interpret`: the program's meaning from its SSA form alone (no registers), for the scalar
  instructions the test programs use: INTRAM and FPRAM after the run.
- `simulate`: the allocated program emitted (`module_instructions`) and run on the simulator.
- `random_program`: a seeded random program with loop nests, carried values (permuted,
  passed through, the counter), values live across loops, loads and stores.
- `stores_of_values_live_across_iterations`: the allocator's spill stores that store a value
  live across iterations of a loop around them (there must be none).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
from plena_mlir.dialects.plena import (
    TARGET_ATTR_NAME,
    CommentOp,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    Registers,
    TargetAttr,
    YieldOp,
    target_of,
)
from plena_mlir.dialects.plena.scalar_fp_ops import (
    S_AddFpOp,
    S_LdFpOp,
    S_MaxFpOp,
    S_MulFpOp,
    S_StFpOp,
    S_SubFpOp,
)
from plena_mlir.dialects.plena.scalar_int_ops import (
    S_AddiIntOp,
    S_AddIntOp,
    S_LdIntOp,
    S_LuiIntOp,
    S_MulIntOp,
    S_SlliIntOp,
    S_StIntOp,
    S_SubIntOp,
)
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Block, Operation, SSAValue

from plena_mlir.backend.emit import module_instructions
from plena_mlir.backend.register_spilling import SPILL_COMMENT
from plena_mlir.sim.api import Simulator

#: INTRAM / FPRAM words [0, RESULTS) receive the results of test programs; the inputs are at
#: [INPUTS, INPUTS + INPUT_WORDS).
RESULTS = 128
INPUTS = 256
INPUT_WORDS = 64
U32 = 0xFFFFFFFF


def initial_intram() -> np.ndarray:
    memory = np.zeros(INPUTS + INPUT_WORDS, dtype=np.uint32)
    memory[INPUTS:] = (np.arange(INPUT_WORDS, dtype=np.uint64) * 2654435761 + 12345) & U32
    return memory


def initial_fpram() -> np.ndarray:
    memory = np.zeros(INPUTS + INPUT_WORDS, dtype=np.float32)
    memory[INPUTS:] = np.float16(np.linspace(-2.0, 3.0, INPUT_WORDS, dtype=np.float32))
    return memory


class ProgramBuilder:
    """Appends ops to a module targeting plena-tvm with `target_overrides`."""

    def __init__(self, **target_overrides: int):
        overrides = {name: IntegerAttr(v, i64) for name, v in target_overrides.items()}
        self.module = ModuleOp([])
        self.module.attributes[TARGET_ATTR_NAME] = TargetAttr("plena-tvm", overrides)
        self._blocks: list[Block] = [self.module.body.block]
        self.zero = self.add(GetRegisterOp(Registers.ZERO)).results[0]
        self.fzero = self.add(GetRegisterOp(Registers.FZERO)).results[0]

    def add(self, op: Operation) -> Operation:
        self._blocks[-1].add_op(op)
        return op

    def value(self, op: Operation) -> SSAValue:
        return self.add(op).results[0]

    def const(self, n: int) -> SSAValue:
        return self.value(S_AddiIntOp(self.zero, imm=n))

    def load_int(self, address: int) -> SSAValue:
        return self.value(S_LdIntOp(self.zero, imm=address))

    def load_fp(self, address: int) -> SSAValue:
        return self.value(S_LdFpOp(self.zero, imm=address))

    def store_int(self, value: SSAValue, address: int) -> None:
        self.add(S_StIntOp(value, self.zero, imm=address))

    def store_fp(self, value: SSAValue, address: int) -> None:
        self.add(S_StFpOp(value, self.zero, imm=address))

    def loop(
        self,
        count: int,
        inits: Sequence[SSAValue],
        body: Callable[[SSAValue, list[SSAValue]], Sequence[SSAValue]],
    ) -> list[SSAValue]:
        """A plena.loop; `body(counter, carried)` builds the body and returns the yielded
        values; the loop's results."""
        loop = LoopOp(count, list(inits))
        block = loop.body.block
        if block.last_op is not None:
            block.erase_op(block.last_op)
        self._blocks.append(block)
        next_values = body(block.args[0], list(block.args[1:]))
        self._blocks.pop()
        block.add_op(YieldOp(*next_values))
        self.add(loop)
        return list(loop.results)


def interpret(module: ModuleOp) -> tuple[np.ndarray, np.ndarray]:
    """INTRAM[0:RESULTS] and FPRAM[0:RESULTS] after the program, from its SSA form."""
    intram = np.zeros(1024, dtype=np.uint64)
    intram[: INPUTS + INPUT_WORDS] = initial_intram()
    fpram = np.zeros(1024, dtype=np.float32)
    fpram[: INPUTS + INPUT_WORDS] = initial_fpram()
    env: dict[SSAValue, float | int] = {}

    def fp(x: float) -> float:
        return float(np.float16(np.float32(x)))

    def run(block: Block) -> None:
        for op in block.ops:
            get = [env[o] for o in op.operands]
            imm = op.properties["imm"].value.data if "imm" in op.properties else 0  # type: ignore[attr-defined]
            match op:
                case GetRegisterOp():
                    assert op.res.type.physical_index == 0  # type: ignore[attr-defined]
                    env[op.res] = 0
                case S_AddiIntOp():
                    env[op.results[0]] = (get[0] + imm) & U32
                case S_AddIntOp():
                    env[op.results[0]] = (get[0] + get[1]) & U32
                case S_SubIntOp():
                    env[op.results[0]] = (get[0] - get[1]) & U32
                case S_MulIntOp():
                    env[op.results[0]] = (get[0] * get[1]) & U32
                case S_SlliIntOp():
                    env[op.results[0]] = (get[0] << (imm & 31)) & U32
                case S_LuiIntOp():
                    env[op.results[0]] = (imm << 12) & U32
                case S_LdIntOp():
                    env[op.results[0]] = int(intram[get[0] + imm])
                case S_StIntOp():
                    intram[get[1] + imm] = get[0]
                case S_AddFpOp():
                    env[op.results[0]] = fp(get[0] + get[1])
                case S_SubFpOp():
                    env[op.results[0]] = fp(get[0] - get[1])
                case S_MulFpOp():
                    env[op.results[0]] = fp(get[0] * get[1])
                case S_MaxFpOp():
                    env[op.results[0]] = max(get[0], get[1])
                case S_LdFpOp():
                    env[op.results[0]] = float(fpram[get[0] + imm])
                case S_StFpOp():
                    fpram[get[1] + imm] = get[0]
                case LoopOp():
                    carried = get
                    counter, *args = op.body.block.args
                    for k in range(op.count.value.data, 0, -1):
                        env[counter] = k
                        env.update(zip(args, carried, strict=True))
                        run(op.body.block)
                        yield_op = op.body.block.last_op
                        carried = [env[v] for v in yield_op.operands]  # type: ignore[union-attr]
                    env.update(zip(op.results, carried, strict=True))
                case YieldOp() | CommentOp():
                    pass
                case _:
                    raise NotImplementedError(op.name)

    run(module.body.block)
    return intram[:RESULTS].astype(np.uint32), fpram[:RESULTS]


def simulate(module: ModuleOp) -> Simulator:
    """The simulator after running the allocated `module` from the test inputs."""
    simulator = Simulator(target_of(module), "fp32")
    simulator.load_intram(initial_intram())
    simulator.load_fpram(initial_fpram())
    simulator.run(module_instructions(module))
    return simulator


def results(simulator: Simulator) -> tuple[np.ndarray, np.ndarray]:
    return simulator.state.intram[:RESULTS].copy(), simulator.state.fpram[:RESULTS].copy()


def random_program(seed: int, depth: int = 3, **target_overrides: int) -> ModuleOp:
    """A random program of scalar integer and FP code in loops nested up to `depth`."""
    rng = random.Random(seed)
    b = ProgramBuilder(**target_overrides)
    int_slots = iter(range(RESULTS))
    fp_slots = iter(range(RESULTS))

    def pick(values: list[SSAValue]) -> SSAValue:
        # favour old values, so that many are live across loops
        return values[min(int(rng.expovariate(1.5) * len(values) / 3), len(values) - 1)]

    def loop_body(ints: list[SSAValue], fps: list[SSAValue], level: int):
        """A body seeing `ints`, `fps`, the counter and the carried values, yielding random
        values of its scope (outer values, the counter, other carried values included)."""

        def body(counter: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            int_carried = [v for v in carried if isinstance(v.type, GpRegisterType)]
            fp_carried = [v for v in carried if not isinstance(v.type, GpRegisterType)]
            inner_ints, inner_fps = block(
                [*ints, counter, *int_carried], [*fps, *fp_carried], level + 1
            )
            return [
                rng.choice(inner_ints if isinstance(v.type, GpRegisterType) else inner_fps)
                for v in carried
            ]

        return body

    def block(ints: list[SSAValue], fps: list[SSAValue], level: int):
        ints, fps = list(ints), list(fps)
        for _ in range(rng.randint(3, 8)):
            choice = rng.random()
            if choice < 0.3:
                kind = rng.choice([S_AddIntOp, S_SubIntOp, S_MulIntOp, S_AddiIntOp, S_SlliIntOp])
                if kind in (S_AddiIntOp, S_SlliIntOp):
                    op = kind(pick(ints), imm=rng.randrange(1, 20))
                else:
                    op = kind(pick(ints), rng.choice(ints))
                ints.append(b.value(op))
            elif choice < 0.4:
                ints.append(b.load_int(INPUTS + rng.randrange(INPUT_WORDS)))
            elif choice < 0.55:
                kind = rng.choice([S_AddFpOp, S_SubFpOp, S_MulFpOp, S_MaxFpOp])
                fps.append(b.value(kind(pick(fps), rng.choice(fps))))
            elif choice < 0.62:
                fps.append(b.load_fp(INPUTS + rng.randrange(INPUT_WORDS)))
            elif choice < 0.72:
                if (slot := next(int_slots, None)) is not None:
                    b.store_int(rng.choice(ints), slot)
            elif choice < 0.8:
                if (slot := next(fp_slots, None)) is not None:
                    b.store_fp(rng.choice(fps), slot)
            elif level < depth:
                ints_in = rng.sample(ints, min(len(ints), rng.randint(0, 2)))
                fps_in = rng.sample(fps, min(len(fps), rng.randint(0, 1)))
                out = b.loop(rng.randint(1, 3), ints_in + fps_in, loop_body(ints, fps, level))
                ints += out[: len(ints_in)]
                fps += out[len(ints_in) :]
        return ints, fps

    ints, fps = block([b.const(7), b.load_int(INPUTS)], [b.load_fp(INPUTS + 1)], 0)
    for value in ints[:: max(1, len(ints) // 24)]:
        if (slot := next(int_slots, None)) is not None:
            b.store_int(value, slot)
    for value in fps[:: max(1, len(fps) // 12)]:
        if (slot := next(fp_slots, None)) is not None:
            b.store_fp(value, slot)
    return b.module


def stores_of_values_live_across_iterations(module: ModuleOp) -> list[str]:
    """Spill stores inside a loop that store a block argument of the loop, a value defined
    outside it, or a value it yields: each would run every iteration on a value whose register
    must survive the back edge (the published compiler's bug)."""
    found: list[str] = []
    for op in module.walk():
        if not isinstance(op, S_StIntOp | S_StFpOp):
            continue
        if op.comment is None or op.comment.data != SPILL_COMMENT:
            continue
        value = op.operands[0]
        loop = op.parent_op()
        while isinstance(loop, LoopOp):
            body = loop.body.block
            owner = value.owner
            defined_outside = not (
                owner is body or (isinstance(owner, Operation) and loop.is_ancestor(owner))
            )
            yielded = value in body.last_op.operands  # type: ignore[union-attr]
            if value in body.args or defined_outside or yielded:
                found.append(f"{op} stores {value} inside a plena.loop it is live across")
            loop = loop.parent_op()
    return found
