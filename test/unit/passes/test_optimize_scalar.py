"""plena-optimize-scalar: each step on small programs with exact IR assertions, the static
MAX_LOOP_INSTRUCTIONS error, and seeded random programs whose original and optimised forms
leave the same observable machine state on the simulator (`scalar_programs`)."""

from __future__ import annotations

import pytest
from plena_mlir.dialects.plena import GetRegisterOp, LoopOp, PlenaInstruction
from plena_mlir.dialects.plena.control_ops import (
    C_SetScaleRegOp,
    C_SetStrideRegOp,
    C_SetVMaskRegOp,
)
from plena_mlir.dialects.plena.pseudo_ops import LoadImmediateOp
from plena_mlir.dialects.plena.scalar_int_ops import S_AddiIntOp, S_LuiIntOp
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.emit import module_instructions
from plena_mlir.isa.instruction import check_instruction
from plena_mlir.target import get_target

# pytest names this test package `passes` (test/unit has no __init__.py); the relative
# import loads the sibling helper module, not the compiler's passes package.
from .scalar_programs import (  # noqa: TID251
    allocate,
    observable_state,
    optimise,
    parse,
    random_program,
    run_both,
    simulate,
)

ZERO = "%zero = plena.get_register : !plena.gp<gp0>"
X = "%x = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp"


def body(module: ModuleOp) -> list[str]:
    """The printed ops of the module body, one stripped line each (nested ops included)."""
    lines = str(module).splitlines()[1:-1]
    return [line.strip() for line in lines]


def optimised(text: str, **options: int) -> list[str]:
    return body(optimise(parse(text), **options))


def module_with(target_overrides: str, text: str) -> str:
    return (
        f'builtin.module attributes {{plena.target = #plena.target<"plena-tvm", '
        f"{{{target_overrides}}}>}} {{\n{text}\n}}"
    )


def count(module: ModuleOp, op_type: type) -> int:
    return sum(isinstance(op, op_type) for op in module.walk())


# ------------------------------------------------------------------------------- folding
def test_folding_evaluates_with_u32_and_machine_division_rules():
    lines = optimised(f"""
{ZERO}
%max = plena.li 4294967295 : !plena.gp
%c40 = plena.li 40 : !plena.gp
%c7 = plena.li 7 : !plena.gp
%sll = plena.s_sll_int %c7, %c40 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %sll, %zero, 1 : !plena.gp, !plena.gp<gp0>
%srl = plena.s_srl_int %max, %c40 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %srl, %zero, 2 : !plena.gp, !plena.gp<gp0>
%div = plena.s_div_int %c40, %c7 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %div, %zero, 3 : !plena.gp, !plena.gp<gp0>
%rem = plena.s_rem_int %c40, %c7 : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %rem, %zero, 4 : !plena.gp, !plena.gp<gp0>
%remz = plena.s_rem_int %c40, %zero : (!plena.gp, !plena.gp<gp0>) -> !plena.gp
plena.s_st_int %remz, %zero, 5 : !plena.gp, !plena.gp<gp0>
%lui = plena.s_lui_int 1048575 : !plena.gp
%wrap = plena.s_addi_int %lui, 65535 : (!plena.gp) -> !plena.gp
plena.s_st_int %wrap, %zero, 6 : !plena.gp, !plena.gp<gp0>
""")
    # 7 << (40 & 31) = 1792; 0xFFFFFFFF >> 8 = 0xFFFFFF; 40 / 7 = 5; 40 % 7 = 5; 40 % 0 = 40;
    # 0xFFFFF000 + 65535 wraps to 0xEFFF = 61439
    assert lines == [
        ZERO,
        "%sll = plena.s_addi_int %zero, 1792 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %sll, %zero, 1 : !plena.gp, !plena.gp<gp0>",
        "%srl = plena.s_lui_int 4095 : !plena.gp",
        "%srl_1 = plena.s_addi_int %srl, 4095 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %srl_1, %zero, 2 : !plena.gp, !plena.gp<gp0>",
        "%div = plena.s_addi_int %zero, 5 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %div, %zero, 3 : !plena.gp, !plena.gp<gp0>",
        "plena.s_st_int %div, %zero, 4 : !plena.gp, !plena.gp<gp0>",
        "%remz = plena.s_addi_int %zero, 40 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %remz, %zero, 5 : !plena.gp, !plena.gp<gp0>",
        "%wrap = plena.s_addi_int %zero, 61439 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %wrap, %zero, 6 : !plena.gp, !plena.gp<gp0>",
    ]


def test_add_immediates_merge_only_while_the_sum_fits_imm2():
    lines = optimised(f"""
{ZERO}
{X}
%a = plena.s_addi_int %x, 65000 : (!plena.gp) -> !plena.gp
%b = plena.s_addi_int %a, 535 : (!plena.gp) -> !plena.gp
plena.s_st_int %b, %zero, 1 : !plena.gp, !plena.gp<gp0>
%c = plena.s_addi_int %a, 536 : (!plena.gp) -> !plena.gp
plena.s_st_int %c, %zero, 2 : !plena.gp, !plena.gp<gp0>
%big = plena.li 65536 : !plena.gp
%d = plena.s_add_int %big, %x : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %d, %zero, 3 : !plena.gp, !plena.gp<gp0>
""")
    assert lines == [
        ZERO,
        X,
        "%a = plena.s_addi_int %x, 65000 : (!plena.gp) -> !plena.gp",
        "%b = plena.s_addi_int %x, 65535 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %b, %zero, 1 : !plena.gp, !plena.gp<gp0>",
        "%c = plena.s_addi_int %a, 536 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %c, %zero, 2 : !plena.gp, !plena.gp<gp0>",
        "%big = plena.s_lui_int 16 : !plena.gp",
        "%d = plena.s_add_int %big, %x : (!plena.gp, !plena.gp) -> !plena.gp",
        "plena.s_st_int %d, %zero, 3 : !plena.gp, !plena.gp<gp0>",
    ]


def test_results_in_physical_registers_are_not_folded():
    """An op that writes a physical register may be read through it: it stays."""
    lines = optimised(f"""
{ZERO}
%c = plena.li 2 : !plena.gp
%fixed = plena.s_add_int %c, %c : (!plena.gp, !plena.gp) -> !plena.gp<gp5>
plena.s_st_int %fixed, %zero, 1 : !plena.gp<gp5>, !plena.gp<gp0>
""")
    assert "%fixed = plena.s_add_int %c, %c : (!plena.gp, !plena.gp) -> !plena.gp<gp5>" in lines


def test_constant_addresses_move_into_the_immediate_while_it_fits():
    lines = optimised(f"""
{ZERO}
{X}
%base = plena.li 65000 : !plena.gp
plena.s_st_int %x, %base, 535 : !plena.gp, !plena.gp
plena.s_st_int %x, %base, 536 : !plena.gp, !plena.gp
%f = plena.s_ld_fp %base, 7 : (!plena.gp) -> !plena.fp
plena.s_st_fp %f, %zero, 3 : !plena.fp, !plena.gp<gp0>
""")
    assert lines == [
        ZERO,
        X,
        "%base = plena.s_addi_int %zero, 65000 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %x, %zero, 65535 : !plena.gp, !plena.gp<gp0>",
        "plena.s_st_int %x, %base, 536 : !plena.gp, !plena.gp",
        "%f = plena.s_ld_fp %zero, 65007 : (!plena.gp<gp0>) -> !plena.fp",
        "plena.s_st_fp %f, %zero, 3 : !plena.fp, !plena.gp<gp0>",
    ]


# ----------------------------------------------------------------------------------- CSE
def test_cse_shares_pure_values_within_a_block_and_from_enclosing_blocks():
    lines = optimised(f"""
{ZERO}
{X}
%a = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp
%b = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp
plena.s_st_int %a, %b, 0 : !plena.gp, !plena.gp
plena.loop %i : !plena.gp = 4 {{
  plena.loop %j : !plena.gp = 4 {{
    %c = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp
    %d = plena.s_add_int %c, %j : (!plena.gp, !plena.gp) -> !plena.gp
    %e = plena.s_add_int %c, %j : (!plena.gp, !plena.gp) -> !plena.gp
    %y = plena.s_ld_int %d, 0 : (!plena.gp) -> !plena.gp
    plena.s_st_int %y, %e, 1 : !plena.gp, !plena.gp
    %z = plena.s_ld_int %d, 0 : (!plena.gp) -> !plena.gp
    plena.s_st_int %z, %e, 2 : !plena.gp, !plena.gp
  }}
}}
""")
    assert lines == [
        ZERO,
        X,
        "%a = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp",
        "plena.s_st_int %a, %a, 0 : !plena.gp, !plena.gp",
        "plena.loop %i : !plena.gp = 4 {",
        "plena.loop %j : !plena.gp = 4 {",
        "%d = plena.s_add_int %a, %j : (!plena.gp, !plena.gp) -> !plena.gp",
        # the second load stays: the store between them may write INTRAM[d]
        "%y = plena.s_ld_int %d, 0 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %y, %d, 1 : !plena.gp, !plena.gp",
        "%z = plena.s_ld_int %d, 0 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %z, %d, 2 : !plena.gp, !plena.gp",
        "}",
        "}",
    ]


def test_cse_does_not_merge_state_writes_or_allocated_results():
    lines = optimised(f"""
{ZERO}
{X}
%a = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp<gp3>
%b = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp<gp4>
plena.s_st_int %a, %b, 0 : !plena.gp<gp3>, !plena.gp<gp4>
""")
    assert lines[2:4] == [
        "%a = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp<gp3>",
        "%b = plena.s_mul_int %x, %x : (!plena.gp, !plena.gp) -> !plena.gp<gp4>",
    ]


# ---------------------------------------------------------------------------------- LICM
def test_address_math_leaves_every_loop_it_does_not_depend_on():
    """base*64 + 4096 is invariant in both loops; + i*128 only in the inner one; + j in
    neither.  Loads and what reads a counter stay."""
    lines = optimised(f"""
{ZERO}
%base = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
plena.loop %i : !plena.gp = 8 {{
  plena.loop %j : !plena.gp = 16 {{
    %c64 = plena.li 64 : !plena.gp
    %scaled = plena.s_mul_int %base, %c64 : (!plena.gp, !plena.gp) -> !plena.gp
    %tile = plena.s_addi_int %scaled, 4096 : (!plena.gp) -> !plena.gp
    %c128 = plena.li 128 : !plena.gp
    %row = plena.s_mul_int %i, %c128 : (!plena.gp, !plena.gp) -> !plena.gp
    %rowaddr = plena.s_add_int %tile, %row : (!plena.gp, !plena.gp) -> !plena.gp
    %addr = plena.s_add_int %rowaddr, %j : (!plena.gp, !plena.gp) -> !plena.gp
    %v = plena.s_ld_int %base, 1 : (!plena.gp) -> !plena.gp
    plena.s_st_int %v, %addr, 0 : !plena.gp, !plena.gp
  }}
}}
""")
    assert lines == [
        ZERO,
        "%base = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp",
        "%scaled = plena.s_slli_int %base, 6 : (!plena.gp) -> !plena.gp",
        "%tile = plena.s_addi_int %scaled, 4096 : (!plena.gp) -> !plena.gp",
        "plena.loop %i : !plena.gp = 8 {",
        "%row = plena.s_slli_int %i, 7 : (!plena.gp) -> !plena.gp",
        "%rowaddr = plena.s_add_int %tile, %row : (!plena.gp, !plena.gp) -> !plena.gp",
        "plena.loop %j : !plena.gp = 16 {",
        "%addr = plena.s_add_int %rowaddr, %j : (!plena.gp, !plena.gp) -> !plena.gp",
        "%v = plena.s_ld_int %base, 1 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %v, %addr, 0 : !plena.gp, !plena.gp",
        "}",
        "}",
    ]


def test_values_computed_from_carried_values_stay_in_the_loop():
    lines = optimised(f"""
{ZERO}
{X}
%r = plena.loop %i : !plena.gp = 8 iter_args(%acc = %x) -> (!plena.gp) {{
  %twice = plena.s_add_int %acc, %acc : (!plena.gp, !plena.gp) -> !plena.gp
  plena.s_st_int %twice, %i, 0 : !plena.gp, !plena.gp
  plena.yield %twice : !plena.gp
}}
plena.s_st_int %r, %zero, 0 : !plena.gp, !plena.gp<gp0>
""")
    assert lines[3] == "%twice = plena.s_add_int %acc, %acc : (!plena.gp, !plena.gp) -> !plena.gp"


# ---------------------------------------------------------------------------- immediates
def constant_instructions(module: ModuleOp) -> list[str]:
    """`mnemonic imm` of the instructions that build the constant the last op reads."""
    return [
        f"{op.name.removeprefix('plena.')} {op.properties['imm'].value.data}"
        for op in module.walk()
        if isinstance(op, S_AddiIntOp | S_LuiIntOp)
    ]


def constant_module(value: int, target_overrides: str = "") -> ModuleOp:
    text = f"{ZERO}\n%c = plena.li {value} : !plena.gp\nplena.c_set_stride_reg %c : !plena.gp"
    return optimise(parse(module_with(target_overrides, text)))


@pytest.mark.parametrize(
    "value, instructions",
    [
        (1, ["s_addi_int 1"]),
        (65535, ["s_addi_int 65535"]),
        (65536, ["s_lui_int 16"]),
        (65537, ["s_lui_int 16", "s_addi_int 1"]),
        (0x12345000, ["s_lui_int 74565"]),
        (0x12345FFF, ["s_lui_int 74565", "s_addi_int 4095"]),
        ((1 << 32) - 1, ["s_lui_int 1048575", "s_addi_int 4095"]),
    ],
)
def test_constants_become_addi_or_lui_plus_addi_at_the_imm2_edge(value, instructions):
    module = constant_module(value)
    assert constant_instructions(module) == instructions
    *_, last, stride = (op for op in module.walk() if isinstance(op, PlenaInstruction))
    assert stride.operands[0] is last.results[0]
    if instructions[0].startswith("s_addi_int"):
        assert isinstance(last.operands[0].owner, GetRegisterOp)


@pytest.mark.parametrize(
    "bits, value, instructions",
    [
        (12, 4095, ["s_addi_int 4095"]),
        (12, 4096, ["s_lui_int 1"]),
        (12, 4097, ["s_lui_int 1", "s_addi_int 1"]),
        (8, 255, ["s_addi_int 255"]),
        (8, 256, ["s_addi_int 255", "s_addi_int 1"]),
        (8, 600, ["s_addi_int 255", "s_addi_int 255", "s_addi_int 90"]),
        (8, 4096 + 300, ["s_lui_int 1", "s_addi_int 255", "s_addi_int 45"]),
    ],
)
def test_narrow_imm2_targets_get_legal_constants(bits, value, instructions):
    """Each S_ADDI_INT adds to the previous one's result; every instruction is legal."""
    module = constant_module(value, f"imm2_bits = {bits}")
    assert constant_instructions(module) == instructions
    target = get_target("plena-tvm", imm2_bits=bits)
    sim = simulate(allocate(module), target)
    assert sim.state.stride == value
    for instruction in module_instructions(module):
        check_instruction(instruction, target)


def test_a_module_that_writes_gp0_builds_constants_without_it():
    lines = optimised(f"""
{ZERO}
%w = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp<gp0>
%c = plena.li 5 : !plena.gp
%s = plena.s_add_int %c, %zero : (!plena.gp, !plena.gp<gp0>) -> !plena.gp
plena.s_st_int %s, %c, 0 : !plena.gp, !plena.gp
""")
    # 5 from S_LUI_INT; %zero + 5 is an S_ADDI_INT of whatever gp0 holds
    assert lines[2:] == [
        "%c = plena.s_lui_int 0 : !plena.gp",
        "%c_1 = plena.s_addi_int %c, 5 : (!plena.gp) -> !plena.gp",
        "%s = plena.s_addi_int %zero, 5 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %s, %c_1, 0 : !plena.gp, !plena.gp",
    ]


def test_a_zero_carried_into_a_loop_gets_its_own_register():
    lines = optimised(f"""
{ZERO}
%c0 = plena.li 0 : !plena.gp
plena.s_st_int %c0, %c0, 0 : !plena.gp, !plena.gp
%r = plena.loop %i : !plena.gp = 8 iter_args(%acc = %c0) -> (!plena.gp) {{
  %n = plena.s_add_int %acc, %i : (!plena.gp, !plena.gp) -> !plena.gp
  plena.yield %n : !plena.gp
}}
plena.s_st_int %r, %zero, 1 : !plena.gp, !plena.gp<gp0>
""")
    assert lines[1:4] == [
        "%c0 = plena.s_addi_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %zero, %zero, 0 : !plena.gp<gp0>, !plena.gp<gp0>",
        "%r = plena.loop %i : !plena.gp = 8 iter_args(%acc = %c0) -> (!plena.gp) {",
    ]


def test_no_plena_li_is_left():
    module = optimise(parse(random_program(3)))
    assert count(module, LoadImmediateOp) == 0


# ------------------------------------------------------------------------- state writes
STATE_PROGRAM = f"""
{ZERO}
%m = plena.s_ld_int %zero, 0 : (!plena.gp<gp0>) -> !plena.gp
%v = plena.s_ld_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
%one = plena.li 1 : !plena.gp
"""


def test_a_write_of_what_the_register_holds_is_dropped():
    lines = optimised(
        STATE_PROGRAM
        + """
plena.c_set_scale_reg %m : !plena.gp
%again = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
plena.c_set_stride_reg %one : !plena.gp
plena.c_set_scale_reg %m : !plena.gp
plena.c_set_stride_reg %again : !plena.gp
plena.loop %i : !plena.gp = 4 {
  plena.c_set_scale_reg %m : !plena.gp
  plena.v_add_vv %v, %v, %v, rmask 0 : !plena.gp, !plena.gp, !plena.gp
}
plena.c_set_scale_reg %m : !plena.gp
"""
    )
    assert [line for line in lines if "c_set" in line] == [
        "plena.c_set_scale_reg %m : !plena.gp",
        "plena.c_set_stride_reg %one : !plena.gp",
    ]


def test_writes_needed_after_a_different_value_are_kept():
    """Kept: V_MASK = %m at the top of the loop body (the inner loop leaves 0 there, so
    from the second iteration on the register holds 0); STRIDE = 1 after the loop (the loop
    writes %v); SCALE = %m after SCALE = %v."""
    lines = optimised(
        STATE_PROGRAM
        + """
plena.c_set_v_mask_reg %m : !plena.gp
plena.c_set_stride_reg %one : !plena.gp
plena.loop %i : !plena.gp = 4 {
  plena.c_set_v_mask_reg %m : !plena.gp
  plena.v_add_vv %v, %v, %v, rmask 1 : !plena.gp, !plena.gp, !plena.gp
  plena.loop %j : !plena.gp = 2 {
    plena.c_set_v_mask_reg %zero : !plena.gp<gp0>
    plena.c_set_stride_reg %v : !plena.gp
    plena.v_add_vv %v, %v, %v, rmask 1 : !plena.gp, !plena.gp, !plena.gp
  }
}
plena.c_set_stride_reg %one : !plena.gp
plena.c_set_scale_reg %m : !plena.gp
plena.c_set_scale_reg %v : !plena.gp
plena.c_set_scale_reg %m : !plena.gp
"""
    )
    assert [line for line in lines if "c_set" in line] == [
        "plena.c_set_v_mask_reg %m : !plena.gp",
        "plena.c_set_stride_reg %one : !plena.gp",
        "plena.c_set_v_mask_reg %m : !plena.gp",
        "plena.c_set_v_mask_reg %zero : !plena.gp<gp0>",
        "plena.c_set_stride_reg %v : !plena.gp",
        "plena.c_set_stride_reg %one : !plena.gp",
        "plena.c_set_scale_reg %m : !plena.gp",
        "plena.c_set_scale_reg %v : !plena.gp",
        "plena.c_set_scale_reg %m : !plena.gp",
    ]


def test_a_value_loaded_in_each_iteration_is_written_again_each_iteration():
    """%s is one SSA value but a different number in every iteration: the first write of
    each iteration is needed, the second one of the same iteration is not."""
    lines = optimised(f"""
{ZERO}
%v = plena.s_ld_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp
plena.loop %i : !plena.gp = 4 {{
  %s = plena.s_ld_int %i, 0 : (!plena.gp) -> !plena.gp
  plena.c_set_stride_reg %s : !plena.gp
  plena.v_add_vv %v, %v, %v, rmask 0 : !plena.gp, !plena.gp, !plena.gp
  plena.c_set_stride_reg %s : !plena.gp
  plena.v_add_vv %v, %v, %v, rmask 0 : !plena.gp, !plena.gp, !plena.gp
}}
""")
    assert [line for line in lines if "c_set" in line] == ["plena.c_set_stride_reg %s : !plena.gp"]


def test_an_address_register_written_again_with_the_same_words_is_reused():
    lines = optimised(f"""
{ZERO}
{X}
%a = plena.c_set_addr_reg %zero, %x : (!plena.gp<gp0>, !plena.gp) -> !plena.areg<a1>
plena.h_prefetch_v %x, %x, %a, rstride 1, precision 0 : !plena.gp, !plena.gp, !plena.areg<a1>
%b = plena.c_set_addr_reg %zero, %x : (!plena.gp<gp0>, !plena.gp) -> !plena.areg<a1>
plena.h_prefetch_v %x, %x, %b, rstride 1, precision 0 : !plena.gp, !plena.gp, !plena.areg<a1>
%c = plena.c_set_addr_reg %x, %x : (!plena.gp, !plena.gp) -> !plena.areg<a1>
plena.h_prefetch_v %x, %x, %c, rstride 1, precision 0 : !plena.gp, !plena.gp, !plena.areg<a1>
""")
    assert lines[2:] == [
        "%a = plena.c_set_addr_reg %zero, %x : (!plena.gp<gp0>, !plena.gp) -> !plena.areg<a1>",
        "plena.h_prefetch_v %x, %x, %a, rstride 1, precision 0 : "
        "!plena.gp, !plena.gp, !plena.areg<a1>",
        "plena.h_prefetch_v %x, %x, %a, rstride 1, precision 0 : "
        "!plena.gp, !plena.gp, !plena.areg<a1>",
        "%c = plena.c_set_addr_reg %x, %x : (!plena.gp, !plena.gp) -> !plena.areg<a1>",
        "plena.h_prefetch_v %x, %x, %c, rstride 1, precision 0 : "
        "!plena.gp, !plena.gp, !plena.areg<a1>",
    ]


# ----------------------------------------------------------------------------- unrolling
UNROLL_PROGRAM = f"""
{ZERO}
{X}
%r = plena.loop %i : !plena.gp = 3 iter_args(%acc = %x) -> (!plena.gp) {{
  %n = plena.s_add_int %acc, %i : (!plena.gp, !plena.gp) -> !plena.gp
  plena.yield %n : !plena.gp
}}
plena.s_st_int %r, %zero, 1 : !plena.gp, !plena.gp<gp0>
"""


def test_tiny_loops_unroll_with_the_counter_running_down_and_the_carried_chain():
    """Copies read the counter as 3, 2, 1 and chain the carried value: x + 3 + 2 + 1,
    which folding merges into one S_ADDI_INT."""
    assert optimised(UNROLL_PROGRAM) == [
        ZERO,
        X,
        "%n = plena.s_addi_int %x, 6 : (!plena.gp) -> !plena.gp",
        "plena.s_st_int %n, %zero, 1 : !plena.gp, !plena.gp<gp0>",
    ]


def test_unrolled_copies_read_the_counter_in_the_machine_order():
    lines = optimised(
        f"""
{ZERO}
{X}
%r = plena.loop %i : !plena.gp = 3 iter_args(%acc = %x) -> (!plena.gp) {{
  %n = plena.s_mul_int %acc, %i : (!plena.gp, !plena.gp) -> !plena.gp
  plena.yield %n : !plena.gp
}}
plena.s_st_int %r, %zero, 1 : !plena.gp, !plena.gp<gp0>
""",
        unroll_max_body=1,
    )
    # x * 3 * 2 * 1: the multiplication by 3 stays, * 2 is a shift, * 1 vanishes
    assert [line.split(" : ")[0] for line in lines[2:]] == [
        "%0 = plena.s_addi_int %zero, 3",
        "%n = plena.s_mul_int %x, %0",
        "%n_1 = plena.s_slli_int %n, 1",
        "plena.s_st_int %n_1, %zero, 1",
    ]


@pytest.mark.parametrize(
    "options",
    [
        {"unroll_max_iterations": 2},  # 3 iterations
        {"unroll_max_body": 0},  # a 1-instruction body
        {"unroll_max_iterations": 0},
    ],
)
def test_loops_over_the_unroll_limits_stay(options):
    module = optimise(parse(UNROLL_PROGRAM), **options)
    assert count(module, LoopOp) == 1


def test_loops_with_nested_loops_or_allocated_counters_stay():
    module = optimise(
        parse(f"""
{ZERO}
plena.loop %i : !plena.gp = 2 {{
  plena.loop %j : !plena.gp = 8 {{
    plena.s_st_int %j, %i, 0 : !plena.gp, !plena.gp
  }}
}}
plena.loop %k : !plena.gp<gp7> = 2 {{
  plena.s_st_int %k, %zero, 0 : !plena.gp<gp7>, !plena.gp<gp0>
}}
""")
    )
    assert count(module, LoopOp) == 3


def test_unrolling_exposes_folding_of_the_counter():
    lines = optimised(f"""
{ZERO}
plena.loop %i : !plena.gp = 2 {{
  plena.s_st_int %i, %zero, 100 : !plena.gp, !plena.gp<gp0>
}}
""")
    assert lines == [
        ZERO,
        "%0 = plena.s_addi_int %zero, 2 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %0, %zero, 100 : !plena.gp, !plena.gp<gp0>",
        "%1 = plena.s_addi_int %zero, 1 : (!plena.gp<gp0>) -> !plena.gp",
        "plena.s_st_int %1, %zero, 100 : !plena.gp, !plena.gp<gp0>",
    ]


# ----------------------------------------------------------------- MAX_LOOP_INSTRUCTIONS
def limited_loop(limit: int, inner_count: int) -> str:
    """An outer loop (count 2) around an inner loop of `inner_count` iterations whose body
    has 2 instructions and 2 loop-invariant ones (hoisted before the check)."""
    return module_with(
        f"max_loop_instructions = {limit}",
        f"""
{ZERO}
{X}
plena.loop %outer : !plena.gp = 2 {{
  plena.loop %inner : !plena.gp = {inner_count} {{
    %a = plena.s_slli_int %x, 3 : (!plena.gp) -> !plena.gp
    %b = plena.s_addi_int %a, 5 : (!plena.gp) -> !plena.gp
    plena.v_add_vv %b, %b, %inner, rmask 0 : !plena.gp, !plena.gp, !plena.gp
    plena.v_exp_v %b, %inner, rmask 0 : !plena.gp, !plena.gp
  }}
}}
""",
    )


def test_the_loop_limit_is_checked_after_optimisation_at_its_exact_edge():
    # the 2 invariant ops leave both loops; an outer iteration is
    # C_LOOP_START + 16 * (2 + C_LOOP_END) + C_LOOP_END = 50
    optimise(parse(limited_loop(50, 16)))
    with pytest.raises(DiagnosticException) as error:
        optimise(parse(limited_loop(49, 16)))
    assert str(error.value) == (
        "plena-optimize-scalar: plena.loop #1 (counter %outer, count 2): one iteration can "
        "execute 50 instructions (49 in its body, nested loops included, + C_LOOP_END) but "
        "the target's MAX_LOOP_INSTRUCTIONS is 49, so the machine would abort; give one "
        "iteration less work. (#a.b is the b-th loop in the body of the a-th top-level loop.)"
    )


def test_the_innermost_loop_over_the_limit_is_named():
    expected = r"plena\.loop #1\.1 \(counter %inner, count 40\): one iteration can execute 3 "
    with pytest.raises(DiagnosticException, match=expected):
        optimise(parse(limited_loop(2, 40)))


# ------------------------------------------------------------- random programs, simulated
def assert_same_observable_state(text: str, **options: int) -> ModuleOp:
    original, optimised_sim, module = run_both(text, **options)
    before, after = observable_state(original), observable_state(optimised_sim)
    for name in before:
        assert before[name] == after[name], f"{name} differs"
    return module


@pytest.mark.parametrize("seed", range(50))
def test_random_programs_keep_their_observable_state(seed):
    module = assert_same_observable_state(random_program(seed))
    assert count(module, LoadImmediateOp) == 0


@pytest.mark.parametrize("seed", range(50, 60))
def test_random_programs_keep_their_state_when_unrolling_more_or_never(seed):
    assert_same_observable_state(random_program(seed), unroll_max_body=6, unroll_max_iterations=5)
    assert_same_observable_state(random_program(seed), unroll_max_iterations=0)


def test_random_programs_exercise_every_step():
    """The property test is not vacuous: over the seeds the pass removes state writes,
    unrolls loops and hoists ops out of loops."""
    removed_writes = unrolled = hoisted = 0
    state_ops = (C_SetScaleRegOp, C_SetStrideRegOp, C_SetVMaskRegOp)
    for seed in range(50):
        before = parse(random_program(seed))
        in_loops_before = _ops_in_loops(before)
        writes = sum(count(before, t) for t in state_ops)
        loops = count(before, LoopOp)
        after = optimise(parse(random_program(seed)), unroll_max_iterations=0)
        removed_writes += writes - sum(count(after, t) for t in state_ops)
        hoisted += in_loops_before > _ops_in_loops(after)
        unrolled += loops - count(optimise(parse(random_program(seed))), LoopOp)
    assert removed_writes > 20 and unrolled > 10 and hoisted > 10


def _ops_in_loops(module: ModuleOp) -> int:
    return sum(
        isinstance(op, PlenaInstruction | LoadImmediateOp)
        for loop in module.walk()
        if isinstance(loop, LoopOp)
        for op in loop.body.block.ops
    )
