"""The FPRAM constant pool: hoisted float constants at the bottom of FPRAM.

`plena-allocate-memory` reserves the first `slots` FPRAM entries of every kernel of a module
for constants and records the pool on the module:

    builtin.module attributes {plena.fpram_pool = {slots = 32 : i64,
                                                   constants = [1.000000e+00 : f32, ...]}}

Constant i lives in FPRAM entry i; entries past the constants are free for later passes (a
lowering that needs -inf to seed a V_RED_MAX asks for `pool.slot(-inf)`).  The host preloads
entries 0 .. len(constants) (`fp_sram.bin`, converted to the target's fp_format) before the
program runs.  Constants are f32 values, compared bit for bit (0.0 and -0.0 are two slots).

    pool = FpramPool.of(module)         # None when the module has no pool
    entry = pool.slot(0.5)              # its slot, added when missing
    pool.attach(module)                 # write the (grown) pool back
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    f32,
    i64,
)
from xdsl.utils.exceptions import DiagnosticException

#: Name of the module attribute that holds the pool.
POOL_ATTR_NAME = "plena.fpram_pool"


def _f32_bits(value: float) -> bytes:
    return struct.pack("<f", value)


@dataclass
class FpramPool:
    """`slots` reserved FPRAM entries from entry 0; `constants[i]` is in entry i."""

    slots: int
    constants: list[float] = field(default_factory=list)

    def lookup(self, value: float) -> int | None:
        """The slot holding the f32 value `value`, None when it has none."""
        bits = _f32_bits(value)
        return next((i for i, c in enumerate(self.constants) if _f32_bits(c) == bits), None)

    def slot(self, value: float) -> int:
        """The slot of `value` (rounded to f32), added when missing.  DiagnosticException
        when all slots are taken."""
        value = struct.unpack("<f", _f32_bits(value))[0]
        found = self.lookup(value)
        if found is not None:
            return found
        if len(self.constants) >= self.slots:
            raise DiagnosticException(
                f"the FPRAM constant pool is full: {self.slots} slots hold "
                f"{len(self.constants)} constants, no room for {value}; raise the "
                "fpram-constant-slots option of plena-allocate-memory (of plena-link-kernels "
                "for a chain)"
            )
        self.constants.append(value)
        return len(self.constants) - 1

    @classmethod
    def of(cls, module: ModuleOp) -> FpramPool | None:
        """The pool recorded on `module`, None when there is none."""
        attr = module.attributes.get(POOL_ATTR_NAME)
        if attr is None:
            return None
        if not isinstance(attr, DictionaryAttr):
            raise DiagnosticException(f"{POOL_ATTR_NAME} must be a dictionary, got {attr}")
        slots, constants = attr.data.get("slots"), attr.data.get("constants")
        if not isinstance(slots, IntegerAttr) or not isinstance(constants, ArrayAttr):
            raise DiagnosticException(
                f"{POOL_ATTR_NAME} must be {{slots = N : i64, constants = [...]}}, got {attr}"
            )
        values = []
        for c in constants.data:
            if not isinstance(c, FloatAttr) or not isinstance(c.type, Float32Type):
                raise DiagnosticException(f"{POOL_ATTR_NAME}: constant {c} is not an f32 value")
            values.append(c.value.data)
        return cls(slots.value.data, values)

    def attach(self, module: ModuleOp) -> None:
        """Record the pool on `module` (replacing any earlier one)."""
        module.attributes[POOL_ATTR_NAME] = DictionaryAttr(
            {
                "slots": IntegerAttr(self.slots, i64),
                "constants": ArrayAttr(FloatAttr(c, f32) for c in self.constants),
            }
        )
