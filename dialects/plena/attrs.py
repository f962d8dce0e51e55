"""`#plena.target<...>`: which PLENA machine a module is compiled for.

A module names its target with the `plena.target` attribute:

    builtin.module attributes {plena.target = #plena.target<"plena-tvm">} { ... }
    #plena.target<"plena-tvm", {gp_registers = 16}>

The first parameter is a preset name or a `plena_settings.toml` path (`get_target`); the
optional dictionary overrides `Target` fields.  Verifiers, passes and targets call
`target_of(op)`: the target of the nearest enclosing op carrying the attribute, plena-tvm when
there is none.  There is no global target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cache

from xdsl.dialects.builtin import (
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
)
from xdsl.ir import Attribute, Operation, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from plena_mlir.target import DEFAULT_TARGET, Target, TargetError, get_target

#: Name of the module attribute that holds a TargetAttr.
TARGET_ATTR_NAME = "plena.target"


@irdl_attr_definition
class TargetAttr(ParametrizedAttribute):
    """A PLENA target: a preset name or settings-file path, plus field overrides."""

    name = "plena.target"

    spec: StringAttr
    overrides: DictionaryAttr

    def __init__(self, spec: str, overrides: dict[str, Attribute] | None = None):
        super().__init__(StringAttr(spec), DictionaryAttr(overrides or {}))

    @property
    def target(self) -> Target:
        return _resolve(self)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            spec = parser.parse_str_literal("a target name or settings file")
            overrides = DictionaryAttr({})
            if parser.parse_optional_punctuation(","):
                pos = parser.pos
                parsed = parser.parse_attribute()
                if not isinstance(parsed, DictionaryAttr):
                    parser.raise_error("expected a dictionary of target field overrides", pos)
                overrides = parsed
        return (StringAttr(spec), overrides)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string_literal(self.spec.data)
            if self.overrides.data:
                printer.print_string(", ")
                printer.print_attribute(self.overrides)

    def verify(self) -> None:
        _resolve(self)


@cache
def _resolve(attr: TargetAttr) -> Target:
    """The Target an attribute denotes; VerifyException with the reason when it is invalid."""
    base = _get_target(attr.spec.data)
    overrides = {
        name: _override_value(base, name, value) for name, value in attr.overrides.data.items()
    }
    return _get_target(attr.spec.data, **overrides)


def _get_target(spec: str, **overrides: object) -> Target:
    try:
        return get_target(spec, **overrides)
    except TargetError as e:
        raise VerifyException(f"#plena.target: {e}") from None


def _override_value(base: Target, field: str, value: Attribute) -> object:
    """The Python value of one override, of the same type as the field it replaces."""
    if field not in {f.name for f in dataclasses.fields(base)}:
        raise VerifyException(f"#plena.target: unknown target field '{field}'")
    current = getattr(base, field)
    expected = type(current)
    converted: object = None
    if isinstance(value, IntegerAttr) and isinstance(value.type, IntegerType):
        number = value.value.data
        converted = bool(number) if value.type.width.data == 1 else number
    elif isinstance(value, FloatAttr):
        converted = value.value.data
    elif isinstance(value, StringAttr):
        converted = value.data
    if expected not in (bool, int, float, str):
        raise VerifyException(f"#plena.target: '{field}' is not an overridable target field")
    if expected is float and type(converted) is int:
        converted = float(converted)
    if type(converted) is not expected:
        raise VerifyException(
            f"#plena.target: override {field} = {value} must be of type {expected.__name__}"
        )
    return converted


def target_of(op: Operation) -> Target:
    """The target of the nearest op enclosing (or being) `op` that has a `plena.target`."""
    current: Operation | None = op
    while current is not None:
        attr = current.attributes.get(TARGET_ATTR_NAME)
        if attr is not None:
            if not isinstance(attr, TargetAttr):
                raise VerifyException(
                    f"{TARGET_ATTR_NAME} must be a #plena.target<...> attribute, got {attr}"
                )
            return attr.target
        current = current.parent_op()
    return DEFAULT_TARGET


def target_attr(target: Target | TargetAttr | str) -> TargetAttr:
    """The attribute recording `target`: a preset name or settings file (a string), a Target
    (its `spec`, with every scalar field that differs from what the spec resolves to as an
    override), or an attribute as it is.  TargetError for a Target whose tables (latencies,
    opcodes) differ from its spec's: an attribute cannot record them."""
    if isinstance(target, TargetAttr):
        return target
    if isinstance(target, str):
        return TargetAttr(target)
    base = get_target(target.spec)
    overrides: dict[str, Attribute] = {}
    for field in dataclasses.fields(target):
        value = getattr(target, field.name)
        if field.name in ("name", "source") or value == getattr(base, field.name):
            continue
        if isinstance(value, bool):
            overrides[field.name] = IntegerAttr(int(value), 1)
        elif isinstance(value, int):
            overrides[field.name] = IntegerAttr(value, 64)
        elif isinstance(value, float):
            overrides[field.name] = FloatAttr(value, 64)
        elif isinstance(value, str):
            overrides[field.name] = StringAttr(value)
        else:
            raise TargetError(
                f"target '{target.name}': its {field.name} differs from {target.spec}'s and "
                "cannot be recorded as a #plena.target override"
            )
    return TargetAttr(target.spec, overrides)
