"""Registering one implementation for a whole family of ops.

xDSL's interpreter dispatches on the exact op class, so an implementation written for an op
family (all binary vector ops, say) is registered once per concrete op of the family.
"""

from collections.abc import Callable, Iterable

from xdsl.interpreter import InterpreterFunctions, impl, register_impls
from xdsl.ir import Operation


def register_op_families(
    functions: type[InterpreterFunctions],
    ops: Iterable[type[Operation]],
    families: Iterable[tuple[type[Operation], Callable]],
) -> None:
    """Register `run` for every op of `ops` that is a subclass of its family, then the
    class itself (`register_impls`)."""
    ops = tuple(ops)
    for family, run in families:
        for op in ops:
            if issubclass(op, family):
                setattr(functions, f"run_{op.name.replace('.', '_')}", impl(op)(run))
    register_impls(functions)
