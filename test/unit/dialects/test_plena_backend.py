"""Module <-> instruction list, the plena-asm / plena-bin targets, and the plena-opt driver."""

import subprocess
import sys
from io import StringIO

import pytest
from plena_mlir.dialects.plena import (
    AddrRegisterType,
    FpRegisterType,
    GetRegisterOp,
    GpRegisterType,
    LoopOp,
    Registers,
)
from plena_mlir.dialects.plena.control_ops import C_SetScaleRegOp
from plena_mlir.tools.plena_opt import PlenaOptMain
from xdsl.context import Context
from xdsl.dialects import test as xdsl_test
from xdsl.dialects.builtin import ModuleOp
from xdsl.universe import Universe
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.backend.emit import module_instructions
from plena_mlir.backend.import_program import ProgramStructureError, program_to_module
from plena_mlir.backend.targets import PlenaAsmTarget, PlenaBinTarget
from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import encode, format_mem
from plena_mlir.isa.instruction import Instruction, format_instruction, operand_error
from plena_mlir.isa.opcodes import TVM_ISA
from plena_mlir.target import PLENA_TVM


def _sample(mnemonic: str, seed: int) -> Instruction:
    """A legal instance of `mnemonic`, with operand values varying with `seed`."""
    info = TVM_ISA[mnemonic]
    values = []
    for index in range(len(info.operands)):
        candidates = [*range(seed + index, seed + index + 32), *range(seed + index)]
        values.append(
            next(v for v in candidates if operand_error(info, index, v, PLENA_TVM) is None)
        )
    return Instruction(mnemonic, tuple(values))


def _every_opcode_program() -> tuple[str, list[Instruction]]:
    """Assembly text using every instruction of the target, half of them inside two nested
    hardware loops (counters gp30, gp31, which nothing in the bodies writes)."""
    straight = [m for m in TVM_ISA if m not in ("C_LOOP_START", "C_LOOP_END")]
    outside = [_sample(m, i % 7) for i, m in enumerate(straight[::2])]
    inside = [_sample(m, i % 7) for i, m in enumerate(straight[1::2])]
    lines = ["; every opcode", *map(format_instruction, outside), "C_LOOP_START gp30, 3"]
    lines += ["    " + format_instruction(i) for i in inside[:10]]
    lines += ["    C_LOOP_START gp31, 2"]
    lines += ["        " + format_instruction(i) for i in inside[10:]]
    lines += ["    C_LOOP_END gp31", "C_LOOP_END gp30", ""]
    text = "\n".join(lines)
    return text, parse_asm(text, PLENA_TVM, "every.asm")


def _emit(target, module: ModuleOp) -> str:
    out = StringIO()
    target.emit(Context(), module, out)
    return out.getvalue()


def _without_lines(program: list[Instruction]) -> list[Instruction]:
    return [Instruction(i.mnemonic, i.operands) for i in program]


def test_every_opcode_roundtrips_asm_dialect_asm():
    text, program = _every_opcode_program()
    assert {i.mnemonic for i in program} == set(PLENA_TVM.opcodes)
    module = program_to_module(program, PLENA_TVM, "every.asm")
    module.verify()
    emitted = _emit(PlenaAsmTarget(), module)
    assert emitted == text.replace("; every opcode\n", "")
    assert _without_lines(parse_asm(emitted)) == _without_lines(program)


def test_every_opcode_program_encodes_to_its_words():
    _, program = _every_opcode_program()
    module = program_to_module(program)
    assert module_instructions(module) == _without_lines(program)
    assert _emit(PlenaBinTarget(), module) == format_mem([encode(i) for i in program])


def test_import_reads_registers_through_get_register_and_loop_counters():
    program = parse_asm(
        "S_ADDI_INT gp1, gp0, 1\n"
        "C_LOOP_START gp2, 4\n"
        "  C_LOOP_START gp3, 2\n"
        "    S_ADD_INT gp1, gp2, gp3\n"
        "  C_LOOP_END gp3\n"
        "C_LOOP_END gp2\n"
        "S_ADD_INT gp4, gp1, gp1\n"
    )
    module = program_to_module(program)
    module.verify()
    get_zero, addi, outer, get_gp1, add = module.body.block.ops
    assert isinstance(get_zero, GetRegisterOp) and get_zero.res.type == Registers.ZERO
    assert isinstance(outer, LoopOp) and outer.count.value.data == 4
    (inner,) = [op for op in outer.body.block.ops if isinstance(op, LoopOp)]
    inner_add = inner.body.block.first_op
    assert inner_add is not None
    assert inner_add.operands[0] is outer.counter  # the enclosing counter, not a re-read
    assert inner_add.operands[1] is inner.counter
    # gp1 was written inside the loop, so after it gp1 is read afresh, not taken from S_ADDI_INT
    assert isinstance(get_gp1, GetRegisterOp) and get_gp1.res.type == GpRegisterType.from_index(1)
    assert add.operands[0] is get_gp1.res and add.operands[0] is not addi.results[0]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "C_LOOP_START gp1, 2\nC_LOOP_START gp2, 2\nC_LOOP_END gp1\nC_LOOP_END gp2\n",
            "p.asm:3: C_LOOP_END gp1 does not close the innermost open loop "
            "(C_LOOP_START gp2 at p.asm:2); hardware loops must nest",
        ),
        ("C_BREAK\nC_LOOP_END gp1\n", "p.asm:2: C_LOOP_END gp1 closes no open loop"),
        (
            "C_LOOP_START gp7, 2\nC_LOOP_START gp8, 2\nC_LOOP_END gp8\n",
            "p.asm:1: C_LOOP_START gp7 is never closed by a C_LOOP_END gp7",
        ),
    ],
)
def test_import_names_the_line_of_improperly_nested_loops(text, message):
    with pytest.raises(ProgramStructureError) as info:
        program_to_module(parse_asm(text, PLENA_TVM, "p.asm"), PLENA_TVM, "p.asm")
    assert str(info.value) == message


def test_import_checks_decoded_instructions_against_the_target():
    small = PLENA_TVM.with_overrides(gp_registers=16)
    with pytest.raises(ProgramStructureError, match=r"^p.mem: #2: S_ADDI_INT operand 1 \(dst\): "):
        program_to_module(
            [Instruction("C_BREAK", ()), Instruction("S_ADDI_INT", (20, 0, 1))], small, "p.mem"
        )


def test_emission_names_ops_it_cannot_emit():
    with pytest.raises(DiagnosticException, match="cannot emit test.op as PLENA code"):
        module_instructions(ModuleOp([xdsl_test.TestOp()]))
    loop = LoopOp(2)
    with pytest.raises(DiagnosticException, match="plena.loop: its counter is !plena.gp,"):
        module_instructions(ModuleOp([loop]))
    virtual = GetRegisterOp(GpRegisterType.infinite_register(0))
    with pytest.raises(DiagnosticException, match="plena.c_set_scale_reg: register operand 'src'"):
        module_instructions(ModuleOp([virtual, C_SetScaleRegOp(virtual)]))


def test_allocatable_registers_come_from_the_target():
    assert [r.register_name.data for r in GpRegisterType.allocatable_registers()] == [
        f"gp{i}" for i in range(1, 32)
    ]
    small = PLENA_TVM.with_overrides(gp_registers=16, fp_registers=4, addr_registers=2)
    assert len(GpRegisterType.allocatable_registers(small)) == 15
    assert [r.register_name.data for r in FpRegisterType.allocatable_registers(small)] == [
        "f1", "f2", "f3",
    ]
    assert [r.register_name.data for r in AddrRegisterType.allocatable_registers(small)] == [
        "a0", "a1",
    ]


def test_plena_opt_registers_everything_once_and_the_universe_exposes_it(tmp_path):
    path = tmp_path / "empty.mlir"
    path.write_text("")
    opt = PlenaOptMain(args=[str(path)])
    assert "plena" in opt.ctx.registered_dialect_names
    assert {"plena-asm", "plena-bin"} <= set(opt.available_targets)
    multiverse = Universe.get_multiverse()
    assert "plena" in multiverse.all_dialects
    assert {"plena-asm", "plena-bin"} <= set(multiverse.all_targets)


def test_plena_opt_reports_asm_errors_without_traceback(tmp_path):
    path = tmp_path / "bad.asm"
    path.write_text("S_ADDI_INT gp1, gp0, 1\nV_ADD_VV gp1, gp1, gp1\n")
    result = subprocess.run(
        [sys.executable, "-m", "plena_mlir.tools.plena_opt", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{path}:2: V_ADD_VV takes 4 operands (dst, lhs, rhs, rmask), got 3"
    )
    assert "Traceback" not in result.stderr
