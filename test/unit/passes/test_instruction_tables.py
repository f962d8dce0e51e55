"""The per-class tables of the plena instructions that the compiler's hot loops use
(PROPERTY_NAMES, OPERAND_COUNT, RESULT_TYPES, IN_PLACE) against the opcode table and
`get_register_constraints`."""

from __future__ import annotations

import pytest
from plena_mlir.dialects.plena import (
    INSTRUCTION_OPS,
    REGISTER_TYPE_OF_KIND,
    REGISTER_TYPES,
    GetRegisterOp,
    PlenaRegisterType,
    Role,
)


def _built(op_class):
    """An instance of `op_class` on fresh register values."""
    operands = [
        GetRegisterOp(REGISTER_TYPE_OF_KIND[op.kind].from_index(1)).res
        for op, role in zip(op_class.INFO.operands, op_class.ROLES, strict=True)
        if role in (Role.READ, Role.UPDATE)
    ]
    return op_class(*operands, **{name: 0 for name in op_class.PROPERTY_NAMES})


@pytest.mark.parametrize("op_class", INSTRUCTION_OPS, ids=lambda c: c.INFO.mnemonic)
def test_tables_describe_the_built_op(op_class):
    op = _built(op_class)
    assert len(op.operands) == op_class.OPERAND_COUNT
    assert op.result_types == op_class.RESULT_TYPES
    assert all(not t.is_allocated for t in op.result_types)
    assert tuple(op.properties) == op_class.PROPERTY_NAMES
    assert op.inouts() == list(op.get_register_constraints().inouts)
    op.verify()


def test_wrong_operand_counts_name_the_instruction():
    op_class = next(c for c in INSTRUCTION_OPS if c.INFO.mnemonic == "S_ADD_INT")
    with pytest.raises(TypeError, match="S_ADD_INT takes 2 operands and 1 results"):
        op_class(**{name: 0 for name in op_class.PROPERTY_NAMES})


def test_register_types_are_the_register_files():
    assert REGISTER_TYPES == set(PlenaRegisterType.__subclasses__())


@pytest.mark.parametrize("op_class", INSTRUCTION_OPS, ids=lambda c: c.INFO.mnemonic)
def test_table_sources_follow_the_opcode_table(op_class):
    operands = iter(range(op_class.OPERAND_COUNT))
    results = iter(range(len(op_class.RESULT_TYPES)))
    for (role, where), operand in zip(
        op_class.TABLE_SOURCES, op_class.INFO.operands, strict=True
    ):
        if role in (Role.READ, Role.UPDATE):
            assert where == next(operands)
            if role is Role.UPDATE:
                next(results)
        elif role is Role.WRITE:
            assert where == next(results)
        elif role is Role.PROPERTY:
            assert where == operand.name
        else:
            assert where is None
