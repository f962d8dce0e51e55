"""`{name = N : i64}` dictionaries: how passes record per-name addresses and entries on ops
(`hbm_addresses` and `fpram_arguments` of a kernel, `intermediates` of a linked chain).

    attr = int_dict_attr({"x": 0, "y": 4608})     # {x = 0 : i64, y = 4608 : i64}
    int_dict(attr, "tile.kernel @k: hbm_addresses")  # {"x": 0, "y": 4608}
"""

from __future__ import annotations

from collections.abc import Mapping

from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, i64
from xdsl.ir import Attribute
from xdsl.utils.exceptions import DiagnosticException


def int_dict_attr(values: Mapping[str, int]) -> DictionaryAttr:
    """The dictionary attribute of `values`, each an i64."""
    return DictionaryAttr({name: IntegerAttr(value, i64) for name, value in values.items()})


def int_dict(attr: Attribute, what: str) -> dict[str, int]:
    """The values of a dictionary of integers; DiagnosticException `{what} must be a
    dictionary of integers, got ...` for anything else."""
    if not isinstance(attr, DictionaryAttr) or not all(
        isinstance(v, IntegerAttr) for v in attr.data.values()
    ):
        raise DiagnosticException(f"{what} must be a dictionary of integers, got {attr}")
    return {name: value.value.data for name, value in attr.data.items()}
