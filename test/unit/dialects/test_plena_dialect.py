"""The `plena` dialect against the opcode table: one op per instruction, built from the table."""

import re
from io import StringIO

import pytest
from plena_mlir.dialects.plena import (
    INSTRUCTION_OPS,
    OP_OF_MNEMONIC,
    REGISTER_TYPE_OF_KIND,
    GetRegisterOp,
    LoopOp,
    Plena,
    Role,
    TargetAttr,
)
from plena_mlir.dialects.plena.base import operand_role
from xdsl.backend.register_type import RegisterResource
from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, IntegerAttr, ModuleOp, i64
from xdsl.dialects.test import Test
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import EffectInstance, MemoryEffectKind, get_effects, is_side_effect_free
from xdsl.utils.exceptions import VerifyException

from plena_mlir.isa.instruction import Instruction, operand_error
from plena_mlir.isa.opcodes import TVM_ISA, Kind, OpcodeInfo
from plena_mlir.target import PLENA_TVM


def _context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Plena)
    ctx.load_dialect(Test)
    return ctx


def _parse(text: str) -> ModuleOp:
    module = Parser(_context(), text).parse_module()
    module.verify()
    return module


def _print(module: ModuleOp, generic: bool = False) -> str:
    out = StringIO()
    Printer(stream=out, print_generic_format=generic).print_op(module)
    return out.getvalue()


def _int(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


def _legal_value(info: OpcodeInfo, index: int, start: int) -> int:
    """The first value >= start (wrapping to 0) that the target accepts for operand `index`."""
    for value in [*range(start, start + 32), *range(start)]:
        if operand_error(info, index, value, PLENA_TVM) is None:
            return value
    raise AssertionError(f"no legal value for {info.mnemonic} operand {index}")


def _sample_instruction(mnemonic: str) -> Instruction:
    info = TVM_ISA[mnemonic]
    return Instruction(
        mnemonic, tuple(_legal_value(info, i, 1 + i) for i in range(len(info.operands)))
    )


def test_dialect_opcodes_equal_the_target_opcode_table():
    dialect = {op.INFO.mnemonic for op in INSTRUCTION_OPS} | set(LoopOp.OPCODES)
    table = set(PLENA_TVM.opcodes)
    assert not dialect - table, f"ops for instructions the target lacks: {dialect - table}"
    assert not table - dialect, f"instructions without an op: {table - dialect}"
    assert len(INSTRUCTION_OPS) == len(OP_OF_MNEMONIC) == len(table) - len(LoopOp.OPCODES)


@pytest.mark.parametrize("mnemonic", sorted(OP_OF_MNEMONIC))
def test_op_name_and_class_name_follow_the_mnemonic(mnemonic):
    op = OP_OF_MNEMONIC[mnemonic]
    prefix, rest = mnemonic.split("_", 1)
    assert op.name == "plena." + mnemonic.lower()
    assert op.__name__ == f"{prefix}_{''.join(w.capitalize() for w in rest.split('_'))}Op"
    assert op.INFO is TVM_ISA[mnemonic]
    assert op.INFO.opcode == PLENA_TVM.opcodes[mnemonic]
    assert op in Plena.operations
    assert op.__doc__ and op.__doc__.strip(), f"{op.__name__} needs a semantics docstring"


@pytest.mark.parametrize("mnemonic", sorted(OP_OF_MNEMONIC))
def test_every_op_builds_verifies_and_emits_its_instruction(mnemonic):
    instr = _sample_instruction(mnemonic)
    sources: list = []

    def read(kind: Kind, index: int):
        get = GetRegisterOp(REGISTER_TYPE_OF_KIND[kind].from_index(index))
        sources.append(get)
        return get.res

    op = OP_OF_MNEMONIC[mnemonic].from_instruction(instr, read)
    module = ModuleOp([*sources, op])
    module.verify()
    assert op.to_instruction() == instr


@pytest.mark.parametrize("mnemonic", sorted(OP_OF_MNEMONIC))
def test_python_constructor_takes_operands_in_assembly_order(mnemonic):
    cls = OP_OF_MNEMONIC[mnemonic]
    info = cls.INFO
    operands, properties = [], {}
    for index, operand in enumerate(info.operands):
        role = operand_role(info, operand)
        if role in (Role.READ, Role.UPDATE):
            operands.append(GetRegisterOp(REGISTER_TYPE_OF_KIND[operand.kind].from_index(1)))
        elif role is Role.PROPERTY:
            properties[operand.name] = _legal_value(info, index, 1)
    op = cls(*operands, comment="built in Python", **properties)
    ModuleOp([*operands, op]).verify()
    assert all(not r.type.is_allocated for r in op.results)
    assert op.comment is not None and op.comment.data == "built in Python"


def test_python_constructor_names_missing_properties():
    gp = GetRegisterOp(REGISTER_TYPE_OF_KIND[Kind.GP].from_index(1))
    with pytest.raises(TypeError, match=r"S_ADDI_INT takes properties \(imm\), got \(\)"):
        OP_OF_MNEMONIC["S_ADDI_INT"](gp)


def test_operand_roles_follow_the_instruction_semantics():
    def having(role: Role) -> set[str]:
        return {m for m, op in OP_OF_MNEMONIC.items() if role in op.ROLES}

    scalar_int_writers = {
        "S_ADD_INT", "S_ADDI_INT", "S_SUB_INT", "S_MUL_INT", "S_LUI_INT", "S_LD_INT",
        "S_SLL_INT", "S_SLLI_INT", "S_SRL_INT", "S_SRLI_INT", "S_DIV_INT", "S_REM_INT",
    }
    fp_writers = {
        "S_ADD_FP", "S_SUB_FP", "S_MAX_FP", "S_MUL_FP", "S_EXP_FP", "S_RECI_FP", "S_SQRT_FP",
        "S_LD_FP",
    }
    assert having(Role.WRITE) == scalar_int_writers | fp_writers | {"C_SET_ADDR_REG"}
    assert having(Role.UPDATE) == {"V_RED_SUM", "V_RED_MAX"}


def test_ignored_fields_are_not_operands():
    info = TVM_ISA["M_MM"]
    assert info.operands[0].kind is Kind.IGNORED
    operands = OP_OF_MNEMONIC["M_MM"].get_irdl_definition().operands
    assert [name for name, _ in operands] == ["mram", "vram"]


def test_register_only_ops_are_pure_until_allocated():
    module = _parse(
        """
        %a = "test.op"() : () -> !plena.gp
        %b = plena.s_addi_int %a, 1 : (!plena.gp) -> !plena.gp
        %c = plena.s_addi_int %a, 1 : (!plena.gp) -> !plena.gp<gp2>
        plena.c_set_scale_reg %b : !plena.gp
        """
    )
    _, unallocated, allocated, scale = module.body.block.ops
    assert is_side_effect_free(unallocated)
    assert not is_side_effect_free(allocated)
    assert {e.kind for e in get_effects(scale)} == {MemoryEffectKind.WRITE}


def test_stores_and_vector_ops_are_never_dead_code():
    for mnemonic in ("V_ADD_VV", "S_ST_INT", "H_STORE_V", "M_MM", "C_BREAK"):
        assert MemoryEffectKind.WRITE in OP_OF_MNEMONIC[mnemonic].MACHINE_EFFECTS


def test_generic_and_custom_forms_parse_to_the_same_ops():
    text = """
      %g = plena.get_register : !plena.gp<gp1>
      %f = plena.get_register : !plena.fp<f1>
      %r = plena.v_red_sum %f, %g, rmask 1 : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
      plena.v_sub_vf %g, %g, %r, rmask 0, reverse 1 : !plena.gp<gp1>, !plena.gp<gp1>, !plena.fp<f1>
    """
    module = _parse(text)
    generic = _print(module, generic=True)
    assert '"plena.v_sub_vf"(%g, %g, %r) <{rmask = 0 : i64, reverse = 1 : i64}>' in generic
    assert _parse(generic).is_structurally_equivalent(module)
    assert _print(_parse(generic)) == _print(module)


def test_target_attribute_overrides_reach_the_verifiers():
    attr = TargetAttr("plena-tvm", {"gp_registers": _int(16)})
    assert attr.target.gp_registers == 16
    module = _parse(
        'builtin.module attributes {plena.target = #plena.target<"plena-tvm", '
        "{gp_registers = 16 : i64}>} {\n"
        "  %g = plena.get_register : !plena.gp<gp15>\n"
        "  plena.c_set_scale_reg %g : !plena.gp<gp15>\n}"
    )
    message = "gp16 does not exist (the target has gp0..gp15)"
    with pytest.raises(VerifyException, match=re.escape(message)):
        _parse(_print(module).replace("gp15", "gp16"))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"gp_regs": 16}, "unknown target field 'gp_regs'"),
        ({"name": 3}, "override name = 3 : i64 must be of type str"),
        ({"latencies": 3}, "'latencies' is not an overridable target field"),
        ({"gp_registers": 33}, "does not fit a 5-bit register field"),
    ],
)
def test_target_attribute_rejects_bad_overrides(overrides, message):
    with pytest.raises(VerifyException, match=re.escape(message)):
        TargetAttr("plena-tvm", {k: _int(v) for k, v in overrides.items()})


def test_loop_effects_are_the_body_effects_and_the_counter_write():
    module = _parse(
        """
        %f1 = plena.get_register : !plena.fp<f1>
        %sum = plena.loop %i : !plena.gp<gp3> = 4 iter_args(%acc = %f1) -> (!plena.fp<f1>) {
          %row0 = plena.s_addi_int %i, 0 : (!plena.gp<gp3>) -> !plena.gp<gp1>
          %acc2, %row2 = plena.loop %j : !plena.gp<gp4> = 2
              iter_args(%a = %acc, %row = %row0) -> (!plena.fp<f1>, !plena.gp<gp1>) {
            %a2 = plena.v_red_sum %a, %row, rmask 0
              : (!plena.fp<f1>, !plena.gp<gp1>) -> !plena.fp<f1>
            %next = plena.s_addi_int %row, 64 : (!plena.gp<gp1>) -> !plena.gp<gp1>
            plena.yield %a2, %next : !plena.fp<f1>, !plena.gp<gp1>
          }
          plena.yield %acc2 : !plena.fp<f1>
        }
        """
    )
    outer = next(op for op in module.walk() if isinstance(op, LoopOp))
    inner = next(op for op in outer.walk() if isinstance(op, LoopOp) and op is not outer)
    for loop in (outer, inner):
        body = set().union(*(get_effects(op) for op in loop.body.block.ops))
        write = EffectInstance(MemoryEffectKind.WRITE, resource=RegisterResource(loop.counter.type))
        assert write not in body
        assert get_effects(loop) == body | {write}
