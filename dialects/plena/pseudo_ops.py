"""Pseudo ops: no opcode, never encoded.

`plena.get_register` names the current value of a physical register as an SSA value (the
zero register gp0, or a register set up before the program); `plena.comment` is a line of
assembly commentary.
"""

from __future__ import annotations

from plena_mlir.dialects.plena.registers import PlenaRegisterType
from xdsl.backend.register_type import RegisterResource
from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Operation
from xdsl.irdl import IRDLOperation, irdl_op_definition, prop_def, result_def, traits_def
from xdsl.traits import EffectInstance, MemoryEffect, MemoryEffectKind
from xdsl.utils.exceptions import VerifyException


class ReadsResultRegister(MemoryEffect):
    """Reading the register the op's result names."""

    @classmethod
    def get_effects(cls, op: Operation) -> set[EffectInstance]:
        register = op.results[0].type
        assert isinstance(register, PlenaRegisterType)
        return {EffectInstance(MemoryEffectKind.READ, resource=RegisterResource(register))}


@irdl_op_definition
class GetRegisterOp(IRDLOperation):
    """%r = plena.get_register : !plena.gp<gp3>    # %r = the value gp3 holds here"""

    name = "plena.get_register"

    res = result_def(PlenaRegisterType)

    traits = traits_def(ReadsResultRegister())

    assembly_format = "attr-dict `:` type($res)"

    def __init__(self, register: PlenaRegisterType):
        super().__init__(result_types=[register])

    def verify_(self) -> None:
        register = self.res.type
        assert isinstance(register, PlenaRegisterType)
        if register.physical_index is None:
            raise VerifyException(
                f"plena.get_register needs a physical register, got {register}"
            )


@irdl_op_definition
class CommentOp(IRDLOperation):
    """plena.comment "text"                        # assembly: `; text`"""

    name = "plena.comment"

    text = prop_def(StringAttr)

    assembly_format = "$text attr-dict"

    def __init__(self, text: str):
        super().__init__(properties={"text": StringAttr(text)})

    def verify_(self) -> None:
        if "\n" in self.text.data:
            raise VerifyException("a plena.comment must be a single line")


PSEUDO_OPS = (GetRegisterOp, CommentOp)
