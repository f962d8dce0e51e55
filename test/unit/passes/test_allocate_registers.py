"""plena-allocate-registers: register constraints, spilling, diagnostics, and the allocated
programs run on the simulator against the meaning of the unallocated program."""

from __future__ import annotations

import numpy as np
import pytest
from plena_mlir.dialects.plena import (
    AddrRegisterType,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    PlenaRegisterType,
    Registers,
    YieldOp,
    target_of,
)
from plena_mlir.dialects.plena.control_ops import C_SetAddrRegOp
from plena_mlir.dialects.plena.hbm_ops import H_PrefetchVOp
from plena_mlir.dialects.plena.scalar_fp_ops import S_AddFpOp, S_MulFpOp, S_StFpOp
from plena_mlir.dialects.plena.scalar_int_ops import (
    S_AddiIntOp,
    S_AddIntOp,
    S_LdIntOp,
    S_LuiIntOp,
    S_MulIntOp,
    S_StIntOp,
)
from plena_mlir.dialects.plena.vector_ops import V_AddVvOp, V_RedSumOp
from plena_mlir.passes import get_all_passes
from plena_mlir.passes.allocate_registers import AllocateRegistersPass
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.emit import module_instructions
from plena_mlir.backend.import_program import program_to_module
from plena_mlir.backend.register_allocation import (
    AllocationReport,
    allocate_registers,
    spill_windows,
)
from plena_mlir.backend.register_spilling import RELOAD_COMMENT, SPILL_COMMENT
from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.sim.api import Simulator

# pytest names this test package `passes` (test/unit has no __init__.py); the relative
# import loads the sibling helper module, not the compiler's passes package.
from .regalloc_programs import (  # noqa: TID251
    INPUTS,
    ProgramBuilder,
    initial_fpram,
    initial_intram,
    interpret,
    random_program,
    results,
    simulate,
    stores_of_values_live_across_iterations,
)


# ---------------------------------------------------------------------------------- helpers
def allocate(module: ModuleOp, **options: int | None) -> AllocationReport:
    """Allocate with the pass's option names; check the invariants every allocation keeps."""
    windows = spill_windows(
        target_of(module),
        options.get("intram_spill_base"),
        options.get("intram_spill_slots", 256),  # type: ignore[arg-type]
        options.get("fpram_spill_base"),
        options.get("fpram_spill_slots", 256),  # type: ignore[arg-type]
    )
    report = allocate_registers(module, windows)
    module.verify()
    assert_allocated(module)
    return report


def values_of(module: ModuleOp):
    for op in module.walk():
        yield from op.results
        for region in op.regions:
            for block in region.blocks:
                yield from block.args


def assert_allocated(module: ModuleOp) -> None:
    """Every register value is physical; only plena.get_register names a zero register; no
    spill store of a value live across iterations inside a loop; no loop counter shared
    with a value live across its loop."""
    for value in values_of(module):
        register = value.type
        if isinstance(register, PlenaRegisterType):
            assert register.physical_index is not None, value
            zero = register in (Registers.ZERO, Registers.FZERO)
            assert not zero or isinstance(value.owner, GetRegisterOp), value
    assert stores_of_values_live_across_iterations(module) == []
    order = {op: i for i, op in enumerate(module.walk())}
    for loop in (op for op in module.walk() if isinstance(op, LoopOp)):
        first = order[loop]
        for value in values_of(module):
            owner = value.owner
            if isinstance(owner, GetRegisterOp):
                continue
            if isinstance(owner, LoopOp):  # a loop result, defined at the loop's end
                defined_at = max(order[op] for op in owner.walk())
            else:
                definition = owner if isinstance(owner, Operation) else owner.parent_op()
                defined_at = order[definition]  # type: ignore[index]
            if defined_at >= first:
                continue
            if any(order[use.operation] > first for use in value.uses):
                assert value.type != loop.counter.type, (value, loop.counter.type)


def assert_same_meaning(build, **options: int | None) -> AllocationReport:
    """Allocate the program `build()` makes; its INTRAM and FPRAM results on the simulator
    must be those of the unallocated program."""
    module = build()
    expected = interpret(module)
    report = allocate(module, **options)
    got = results(simulate(module))
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    return report


def spill_stores(module: ModuleOp) -> list[Operation]:
    return [op for op in module.walk() if _commented(op, SPILL_COMMENT)]


def reloads(module: ModuleOp) -> list[Operation]:
    return [op for op in module.walk() if _commented(op, RELOAD_COMMENT)]


def _commented(op: Operation, text: str) -> bool:
    comment = op.attributes.get("comment")
    return comment is not None and comment.data == text  # type: ignore[attr-defined]


def loop_depth(op: Operation) -> int:
    depth, parent = 0, op.parent_op()
    while isinstance(parent, LoopOp):
        depth, parent = depth + 1, parent.parent_op()
    return depth


def named(value: SSAValue, name: str) -> SSAValue:
    value.name_hint = name
    return value


# ---------------------------------------------------------------------- the pass and basics
def test_pass_is_registered_with_its_options():
    assert get_all_passes()["plena-allocate-registers"]() is AllocateRegistersPass
    assert AllocateRegistersPass.name == "plena-allocate-registers"
    module = random_program(3, depth=2, gp_registers=8)
    expected = interpret(module)
    AllocateRegistersPass(intram_spill_slots=64).apply(Context(), module)
    module.verify()
    got = results(simulate(module))
    np.testing.assert_array_equal(got[0], expected[0])


def test_zero_registers_are_never_allocated_and_counts_follow_the_target():
    module = random_program(5, depth=3, gp_registers=16)
    allocate(module)
    gp = {v.type.physical_index for v in values_of(module) if isinstance(v.type, GpRegisterType)}
    assert max(gp) < 16


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(
    "gp_registers, fp_registers, depth", [(32, 8, 4), (16, 8, 4), (10, 6, 3), (7, 5, 2)]
)
def test_random_programs_keep_their_meaning(seed, gp_registers, fp_registers, depth):
    assert_same_meaning(
        lambda: random_program(
            seed, depth=depth, gp_registers=gp_registers, fp_registers=fp_registers
        )
    )


def test_random_programs_under_pressure_do_spill():
    """The random programs above exercise spilling, not only colouring."""
    spilled = fp_spills = 0
    for seed in range(40):
        module = random_program(seed, depth=2, gp_registers=7, fp_registers=5)
        spilled += allocate(module).spilled
        fp_spills += sum(isinstance(op, S_StFpOp) for op in spill_stores(module))
    assert spilled > 40 and fp_spills > 3


def test_a_large_budget_needs_no_spill():
    for seed in range(20):
        assert allocate(random_program(seed, depth=4, fp_registers=32)).spilled == 0


def test_fully_allocated_programs_are_left_alone():
    text = (
        "S_ADDI_INT gp5, gp0, 3\nC_LOOP_START gp7, 4\n    S_ADD_INT gp5, gp5, gp7\n"
        "C_LOOP_END gp7\nS_ST_INT gp5, gp0, 1\n"
    )
    module = program_to_module(parse_asm(text))
    before = str(module)
    assert allocate(module) == AllocationReport(0, 0, 0)
    assert str(module) == before


def test_fixed_registers_of_the_input_are_not_given_to_other_values():
    b = ProgramBuilder(gp_registers=6)
    preset = b.value(GetRegisterOp(GpRegisterType.from_index(3)))
    values = [b.load_int(INPUTS + i) for i in range(4)]
    total = values[0]
    for v in values[1:]:
        total = b.value(S_AddIntOp(total, v))
    b.store_int(b.value(S_AddIntOp(total, preset)), 0)
    allocate(b.module)
    assigned = {v.type for v in values_of(b.module) if v.owner is not preset.owner}
    assert GpRegisterType.from_index(3) not in assigned
    simulator = Simulator(target_of(b.module), "fp32")
    simulator.load_intram(initial_intram())
    simulator.state.gp[3] = 1000
    simulator.run(module_instructions(b.module))
    expected = (int(initial_intram()[INPUTS : INPUTS + 4].sum(dtype=np.uint64)) + 1000) & 0xFFFFFFFF
    assert simulator.state.intram[0] == expected


# ---------------------------------------------------------------------------- loops
def deep_nest(depth: int, live_ins: int, **target: int) -> ModuleOp:
    """`depth` nested loops, each carrying an address that advances by its level and reading
    the counter; the innermost adds `live_ins` values defined before the nest to an FP and a
    GP accumulator carried through every level."""
    b = ProgramBuilder(**target)
    outside = [b.load_int(INPUTS + i) for i in range(live_ins)]
    acc0 = b.load_int(INPUTS + 40)
    facc0 = b.load_fp(INPUTS + 3)
    scale = b.load_fp(INPUTS + 32)

    def level(k: int):
        def body(counter, carried):
            address, acc, facc = carried
            if k == depth - 1:
                for v in outside:
                    acc = b.value(S_AddIntOp(acc, v))
                acc = b.value(S_MulIntOp(acc, counter))
                facc = b.value(S_AddFpOp(b.value(S_MulFpOp(facc, scale)), scale))
            else:
                acc, facc = b.loop(2, [address, acc, facc], level(k + 1))[1:]
            acc = b.value(S_AddIntOp(acc, address))
            return [b.value(S_AddiIntOp(address, imm=k + 1)), acc, facc]

        return body

    address, acc, facc = b.loop(2, [b.const(5), acc0, facc0], level(0))
    b.store_int(address, 0)
    b.store_int(acc, 1)
    b.store_fp(facc, 0)
    for i, v in enumerate(outside):
        b.store_int(v, 2 + i)
    return b.module


@pytest.mark.parametrize("depth", [5, 6])
def test_deep_loop_nests_on_a_16_gp_target(depth):
    """Depth 5 fits 15 registers exactly (5 counters, 5 carried addresses, the accumulator
    and 4 live-ins); deeper nests spill live-ins before the nest, never inside it."""
    report = assert_same_meaning(lambda: deep_nest(depth, live_ins=4, gp_registers=16))
    assert (report.spilled == 0) == (depth == 5)
    module = deep_nest(depth, live_ins=4, gp_registers=16)
    allocate(module)
    loops = [op for op in module.walk() if isinstance(op, LoopOp)]
    assert len(loops) == depth
    assert len({loop.counter.type for loop in loops}) == depth
    assert all(loop_depth(op) == 0 for op in spill_stores(module))


def test_deep_loop_nest_with_many_live_ins_spills_them_before_the_nest():
    report = assert_same_meaning(lambda: deep_nest(5, live_ins=10, gp_registers=16))
    assert report.spilled > 0
    module = deep_nest(5, live_ins=10, gp_registers=16)
    allocate(module)
    stores = spill_stores(module)
    assert stores and all(loop_depth(op) == 0 for op in stores)
    assert all(loop_depth(op) == 5 for op in reloads(module) if op.parent_op() is not module)


def test_carried_values_keep_one_register_without_copies():
    """The common kernel loop: an address advanced at the end of the body and an accumulator
    updated in place need no copy at all."""
    b = ProgramBuilder()
    acc0 = b.value(S_AddFpOp(b.fzero, b.fzero))

    def body(counter, carried):
        row, acc = carried
        acc = b.value(V_RedSumOp(acc, row, rmask=0))
        return [b.value(S_AddiIntOp(row, imm=64)), acc]

    row, acc = b.loop(4, [b.const(0), acc0], body)
    b.store_fp(acc, 0)
    b.store_int(row, 0)
    report = allocate(b.module)
    assert report.copies == 0
    loop = next(op for op in b.module.walk() if isinstance(op, LoopOp))
    yielded = loop.body.block.last_op
    assert isinstance(yielded, YieldOp)
    for init, arg, next_value, result in zip(
        loop.iter_args, loop.body.block.args[1:], yielded.operands, loop.results, strict=True
    ):
        assert init.type == arg.type == next_value.type == result.type
    simulator = Simulator(target_of(b.module), "fp32")
    simulator.load_vram(np.arange(4 * 64, dtype=np.float32).reshape(4, 64) % 7)
    simulator.run(module_instructions(b.module))
    assert simulator.state.fpram[0] == float(np.float16((np.arange(256) % 7).sum()))
    assert simulator.state.intram[0] == 256


def test_carried_values_that_swap_pass_through_or_read_the_counter():
    def build():
        b = ProgramBuilder(gp_registers=8)
        x, y, z = (b.load_int(INPUTS + i) for i in range(3))

        def body(counter, carried):
            a, c, d, e = carried
            s = b.value(S_AddIntOp(a, counter))
            return [c, s, counter, e]  # swap a/c, yield the counter, pass e through

        out = b.loop(3, [x, y, x, z], body)
        for i, v in enumerate([*out, x, y, z]):  # inits read again after the loop
            b.store_int(v, i)
        return b.module

    assert_same_meaning(build)


def test_values_live_across_sibling_loops():
    def build():
        b = ProgramBuilder(gp_registers=8)
        shared = [b.load_int(INPUTS + i) for i in range(9)]
        out = []
        for k in range(3):

            def body(counter, carried, k=k):
                (acc,) = carried
                for v in shared[k : k + 6]:
                    acc = b.value(S_AddIntOp(acc, v))
                return [b.value(S_MulIntOp(acc, counter))]

            out += b.loop(2 + k, [b.const(k)], body)
        for i, v in enumerate([*out, *shared]):
            b.store_int(v, i)
        return b.module

    report = assert_same_meaning(build)
    assert report.spilled > 0


def test_loop_counters_are_never_spilled_and_not_shared_with_live_values():
    module = deep_nest(5, live_ins=12, gp_registers=14)
    allocate(module)
    for store in spill_stores(module):
        assert not isinstance(store.operands[0].owner, LoopOp)
        assert store.operands[0] not in {
            loop.counter for loop in module.walk() if isinstance(loop, LoopOp)
        }


# ------------------------------------------------- the published bug: stores in loop bodies
def test_the_checker_finds_a_spill_store_of_a_carried_value_inside_a_loop():
    """The oracle of every test here must see the bug it is meant to catch."""
    b = ProgramBuilder()

    def body(counter, carried):
        (acc,) = carried
        b.add(S_StIntOp(acc, b.zero, imm=900, comment=SPILL_COMMENT))
        return [b.value(S_AddIntOp(acc, counter))]

    outside = b.load_int(INPUTS)

    def body_storing_live_in(counter, carried):
        b.add(S_StIntOp(outside, b.zero, imm=901, comment=SPILL_COMMENT))
        return []

    b.loop(3, [b.const(1)], body)
    b.loop(3, [], body_storing_live_in)
    assert len(stores_of_values_live_across_iterations(b.module)) == 2


def test_spill_heavy_nests_never_store_values_live_across_iterations_in_a_body():
    for seed in range(60):
        module = random_program(seed, depth=3, gp_registers=10, fp_registers=6)
        allocate(module)  # assert_allocated runs the checker
    module = deep_nest(5, live_ins=12, gp_registers=16)
    allocate(module)
    assert len(spill_stores(module)) > 0


def test_values_defined_and_dead_in_one_iteration_may_be_spilled_inside_it():
    def build():
        b = ProgramBuilder(gp_registers=5)

        def body(counter, carried):
            values = [b.load_int(INPUTS + i) for i in range(6)]
            total = b.value(S_MulIntOp(values[0], counter))
            for v in values[1:]:
                total = b.value(S_AddIntOp(total, v))
            total = b.value(S_AddIntOp(total, values[0]))
            b.add(S_StIntOp(total, b.zero, imm=0))
            return []

        b.loop(3, [], body)
        return b.module

    module = build()
    assert_same_meaning(lambda: module)
    assert any(loop_depth(store) == 1 for store in spill_stores(module))


# ------------------------------------------------------------------ spill slots and memory
def test_spills_use_the_top_of_intram_and_reuse_slots():
    module = deep_nest(5, live_ins=12, gp_registers=14)
    allocate(module)
    addresses = {op.imm.value.data for op in spill_stores(module)}  # type: ignore[attr-defined]
    assert addresses and all(768 <= a < 1024 for a in addresses)

    def two_phases():
        b = ProgramBuilder(gp_registers=6)
        for phase in range(2):
            values = [b.load_int(INPUTS + 8 * phase + i) for i in range(8)]

            def body(counter, carried, values=values):
                (acc,) = carried
                for v in values:
                    acc = b.value(S_AddIntOp(acc, v))
                return [acc]

            (acc,) = b.loop(2, [values[0]], body)
            b.store_int(acc, 10 * phase)
            for i, v in enumerate(values):
                b.store_int(v, 10 * phase + 1 + i)
        return b.module

    module = two_phases()
    report = assert_same_meaning(lambda: module, intram_spill_base=300, intram_spill_slots=40)
    addresses = [op.imm.value.data for op in spill_stores(module)]  # type: ignore[attr-defined]
    assert report.spilled >= 4 and all(300 <= a < 340 for a in addresses)
    assert len(set(addresses)) <= len(addresses) // 2  # the second phase reuses the slots


def test_fp_values_spill_to_the_fpram_window():
    def build():
        b = ProgramBuilder(fp_registers=4)
        values = [b.load_fp(INPUTS + i) for i in range(8)]

        def body(counter, carried):
            (acc,) = carried
            for v in values:
                acc = b.value(S_AddFpOp(acc, v))
            return [acc]

        (acc,) = b.loop(2, [values[0]], body)
        b.store_fp(acc, 0)
        for i, v in enumerate(values):
            b.store_fp(v, 1 + i)
        return b.module

    module = build()
    assert_same_meaning(lambda: module, fpram_spill_base=1000, fpram_spill_slots=16)
    stores = [op for op in spill_stores(module) if isinstance(op, S_StFpOp)]
    assert stores and all(loop_depth(op) == 0 for op in stores)
    assert all(1000 <= op.imm.value.data < 1016 for op in stores)  # type: ignore[attr-defined]


def test_running_out_of_intram_spill_slots_names_the_value():
    b = ProgramBuilder(gp_registers=4)
    values = [named(b.load_int(INPUTS + i), f"input{i}") for i in range(8)]
    total = values[0]
    for v in values[1:]:
        total = b.value(S_AddIntOp(total, v))
    for i, v in enumerate(values):
        b.store_int(v, i)
    with pytest.raises(DiagnosticException, match=r"out of IntRAM spill slots: spilling %input\d"):
        allocate(b.module, intram_spill_slots=2)


def test_bad_spill_windows_are_diagnostics():
    module = random_program(1, depth=1)
    with pytest.raises(DiagnosticException, match=r"IntRAM spill window \[1000, 1100\)"):
        allocate(module, intram_spill_base=1000, intram_spill_slots=100)
    with pytest.raises(DiagnosticException, match="FPRAM spill window"):
        allocate(module, fpram_spill_slots=-1)


def test_constants_are_recomputed_instead_of_spilled():
    def build():
        b = ProgramBuilder(gp_registers=5)
        constants = [b.const(10 + i) for i in range(4)] + [b.value(S_LuiIntOp(imm=3))]

        def body(counter, carried):
            (acc,) = carried
            for c in constants:
                acc = b.value(S_AddIntOp(acc, c))
            return [b.value(S_MulIntOp(acc, counter))]

        (acc,) = b.loop(3, [b.load_int(INPUTS)], body)
        b.store_int(acc, 0)
        return b.module

    module = build()
    report = assert_same_meaning(lambda: module)
    assert report.rematerialised > 0 and report.spilled == 0
    assert not spill_stores(module)


# ---------------------------------------------------------------- in place, address regs
def test_in_place_reduction_shares_the_register_or_copies_a_live_accumulator():
    b = ProgramBuilder()
    row = b.const(0)
    seed = b.load_fp(INPUTS + 40)
    first = b.value(V_RedSumOp(seed, row, rmask=0))
    second = b.value(V_RedSumOp(first, row, rmask=0))  # `first` is read again below
    b.store_fp(b.value(S_AddFpOp(first, second)), 0)
    b.store_fp(seed, 1)
    report = allocate(b.module)
    reductions = [op for op in b.module.walk() if isinstance(op, V_RedSumOp)]
    for op in reductions:
        assert op.acc.type == op.acc_out.type
    assert report.copies == 2  # `seed` and `first` stay live after being accumulated into
    simulator = Simulator(target_of(b.module), "fp32")
    simulator.load_fpram(initial_fpram())
    simulator.load_vram(np.ones((1, 64), dtype=np.float32))
    simulator.run(module_instructions(b.module))
    s = float(initial_fpram()[INPUTS + 40])
    f = float(np.float16(s + 64))
    assert simulator.state.fpram[1] == s
    assert simulator.state.fpram[0] == float(np.float16(f + float(np.float16(f + 64))))


def test_in_place_reduction_into_the_zero_register_gets_a_copy():
    """V_RED_SUM into f0 does nothing, so accumulating onto the value 0.0 of f0 needs it in
    a real register."""
    b = ProgramBuilder()
    total = b.value(V_RedSumOp(b.fzero, b.const(0), rmask=0))
    b.store_fp(total, 0)
    allocate(b.module)
    reduction = next(op for op in b.module.walk() if isinstance(op, V_RedSumOp))
    assert reduction.acc.type != Registers.FZERO
    simulator = Simulator(target_of(b.module), "fp32")
    simulator.load_vram(np.full((1, 64), 2.0, dtype=np.float32))
    simulator.run(module_instructions(b.module))
    assert simulator.state.fpram[0] == 128.0


def test_eight_address_registers_fit_and_a_ninth_is_a_diagnostic():
    def program(count: int) -> ModuleOp:
        b = ProgramBuilder()
        bases = [
            named(b.value(C_SetAddrRegOp(b.zero, b.const(64 * i))), f"base{i}")
            for i in range(count)
        ]
        for base in bases:
            b.add(H_PrefetchVOp(b.zero, b.zero, base, rstride=0, precision=0))
        return b.module

    module = program(8)
    allocate(module)
    assert {v.type for v in values_of(module) if isinstance(v.type, AddrRegisterType)} == {
        AddrRegisterType.from_index(i) for i in range(8)
    }
    message = r"out of plena.areg registers.*cannot be spilled"
    with pytest.raises(DiagnosticException, match=message):
        allocate(program(9))


def test_too_many_unspillable_values_is_a_diagnostic_naming_them():
    b = ProgramBuilder(gp_registers=4)

    def body(counter, carried):
        a, c = carried
        return [b.value(S_AddIntOp(a, counter)), b.value(S_AddIntOp(c, a))]

    b.loop(2, [named(b.const(1), "first"), b.const(2)], body)
    message = r"out of plena.gp registers at .*1 loop counters, 2 loop-carried values"
    with pytest.raises(DiagnosticException, match=message):
        allocate(b.module)


def test_foreign_ops_holding_registers_are_a_diagnostic():
    from xdsl.dialects.test import TestOp

    b = ProgramBuilder()
    b.add(TestOp(operands=[b.const(1)]))
    with pytest.raises(DiagnosticException, match="cannot allocate registers around test.op"):
        allocate(b.module)


def test_loads_are_not_rematerialised():
    """S_LD_INT reads memory a later store may change, so it is spilled, never recomputed."""

    def build():
        b = ProgramBuilder(gp_registers=4)
        loaded = [b.value(S_LdIntOp(b.zero, imm=INPUTS + i)) for i in range(5)]
        b.store_int(b.const(99), INPUTS)  # overwrite the first input
        total = loaded[0]
        for v in loaded[1:]:
            total = b.value(S_AddIntOp(total, v))
        b.store_int(total, 0)
        for i, v in enumerate(loaded):
            b.store_int(v, 1 + i)
        return b.module

    report = assert_same_meaning(build)
    assert report.spilled > 0


def test_fpram_results_of_fp_programs_match_a_large_budget():
    """FP and vector results compared between a 7-FP-register and a 3-FP-register target."""

    def build(fp_registers: int) -> ModuleOp:
        b = ProgramBuilder(fp_registers=fp_registers)
        scales = [b.load_fp(INPUTS + i) for i in range(6)]

        def body(counter, carried):
            row, acc = carried
            b.add(V_AddVvOp(row, row, b.const(512), rmask=0))
            acc = b.value(V_RedSumOp(acc, row, rmask=0))
            for s in scales:
                acc = b.value(S_MulFpOp(acc, s))
            return [b.value(S_AddiIntOp(row, imm=64)), acc]

        _, acc = b.loop(4, [b.const(0), b.load_fp(INPUTS + 10)], body)
        b.store_fp(acc, 0)
        return b.module

    states = []
    for fp_registers in (8, 3):
        module = build(fp_registers)
        allocate(module)
        simulator = Simulator(target_of(module), "fp32")
        simulator.load_fpram(initial_fpram())
        simulator.load_vram(np.linspace(-1, 1, 9 * 64, dtype=np.float32).reshape(9, 64))
        simulator.run(module_instructions(module))
        states.append((simulator.state.vram[:9].copy(), simulator.state.fpram[:1].copy()))
    np.testing.assert_array_equal(states[0][0], states[1][0])
    np.testing.assert_array_equal(states[0][1], states[1][1])
    assert states[0][1][0] != 0
