"""Handlers written as one Python statement, which a straight-line block can run inline.

The hottest instructions are the cheapest ones (S_ADDI_INT, S_ADD_INT, S_LD_FP, S_ST_FP are
two thirds of a flash-attention run), so calling their handlers costs more than what they do.
`inlinable(statement, **values)` makes such a handler: the statement -- Python over the
names in `values` -- is compiled once per statement into a function making closures over
the values, and the handler keeps `(statement, values)` as its `inline` attribute.
`dispatch.py` compiles a block holding such instructions into one function with every
statement pasted in, its int values spelled out and the others bound under names of their
own.  The statement is the instruction's only definition: the handler and the block run the
same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from plena_mlir.sim.ops_common import Handler

_MAKERS: dict[tuple[str, tuple[str, ...]], Callable[..., Handler]] = {}


def inlinable(statement: str, **values: Any) -> Handler:
    """A handler that runs `statement` over `values`, then continues at pc + 1."""
    names = tuple(sorted(values))
    make = _MAKERS.get((statement, names))
    if make is None:
        namespace: dict[str, Any] = {}
        exec(  # the statement is one of this package's own
            f"def make({', '.join(names)}):\n"
            f"    def handler(pc, tick):\n"
            f"        {statement}\n"
            f"        return pc + 1\n"
            f"    return handler\n",
            namespace,
        )
        make = _MAKERS[statement, names] = namespace["make"]
    handler = make(**values)
    handler.inline = (statement, values)
    return handler


def inline_source(handler: Handler, namespace: dict[str, Any]) -> str | None:
    """The statement of an `inlinable` handler with its int values as literals and its other
    values bound in `namespace` (one name per object); None for any other handler."""
    inline = getattr(handler, "inline", None)
    if inline is None:
        return None
    statement, values = inline
    spelled = {}
    for name, value in values.items():
        if isinstance(value, int):
            spelled[name] = repr(value)
        else:
            spelled[name] = f"{name}_{id(value):x}"
            namespace[spelled[name]] = value
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, spelled)) + r")\b")
    return pattern.sub(lambda match: spelled[match.group(1)], statement)
