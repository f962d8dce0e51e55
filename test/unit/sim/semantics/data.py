"""Seeded test data with known exactness properties, HBM images, and assembly snippets."""

from __future__ import annotations

import numpy as np

from .ref_numerics import bf16, fp16

F32 = np.float32


def exact_bf16(rng: np.random.Generator, shape, exponents=(-1, 0)) -> np.ndarray:
    """Random bf16 values +-(1 + k/128) * 2^e with e drawn from `exponents`.

    With a narrow exponent range, sums of products of these values need few mantissa bits,
    so f32 sums of them are exact in any order.
    """
    mantissa = 1 + rng.integers(0, 128, size=shape) / 128
    exponent = rng.choice(exponents, size=shape)
    sign = rng.choice([-1.0, 1.0], size=shape)
    return (sign * mantissa * np.exp2(exponent)).astype(F32)


def random_bf16(rng: np.random.Generator, shape, scale: float = 4.0) -> np.ndarray:
    """General bf16 values: a normal distribution rounded to bf16."""
    return bf16(rng.normal(0.0, scale, size=shape))


def random_fp16(rng: np.random.Generator, shape, scale: float = 4.0) -> np.ndarray:
    """General fp16 values: a normal distribution rounded to fp16."""
    return fp16(rng.normal(0.0, scale, size=shape))


def e4m3_bytes(rng: np.random.Generator, shape, exponent_codes=(6, 7)) -> np.ndarray:
    """Random E4M3 bytes with the exponent field drawn from `exponent_codes`."""
    sign = rng.integers(0, 2, size=shape) << 7
    exp = rng.choice(exponent_codes, size=shape) << 3
    man = rng.integers(0, 8, size=shape)
    return (sign | exp | man).astype(np.uint8)


class HbmImage:
    """An HBM image under construction: bytes placed at addresses, zero elsewhere."""

    def __init__(self) -> None:
        self.data = bytearray()

    def place(self, addr: int, values) -> None:
        raw = np.asarray(values).tobytes()
        end = addr + len(raw)
        if end > len(self.data):
            self.data.extend(bytes(end - len(self.data)))
        self.data[addr:end] = raw

    def bytes(self) -> bytes:
        return bytes(self.data) + bytes(-len(self.data) % 64)


def set_gp(reg: int, value: int) -> str:
    """Assembly that sets gp<reg> = value (any u32) without reading other registers."""
    return f"S_LUI_INT gp{reg}, {value >> 12}\nS_ADDI_INT gp{reg}, gp{reg}, {value & 0xFFF}\n"


def set_regs(**values: int) -> str:
    """set_regs(gp1=5, gp2=64) -> assembly setting those registers."""
    return "".join(set_gp(int(name[2:]), v) for name, v in values.items())


def load_fp(*values_at: int) -> str:
    """Assembly loading f1, f2, ... from FPRAM entries values_at[0], values_at[1], ...

    Uses gp31 as a scratch base register (set to 0).
    """
    lines = [set_gp(31, 0)]
    lines += [f"S_LD_FP f{i + 1}, gp31, {entry}\n" for i, entry in enumerate(values_at)]
    return "".join(lines)


def mram_tiles_setup(tiles: list[np.ndarray], scale_byte: int = 127) -> tuple[bytes, str]:
    """An image holding `tiles` (E4M3 byte arrays, M x M) and the program loading tile k
    into MRAM tile k with H_PREFETCH_M.

    Layout (plena-isa.md 5.2): tile k's elements at k*M^2, all scale bytes (= scale_byte)
    from SCALE = n*M^2 on; rows contiguous (rstride 0, so S = M).  Uses gp28..gp30 and a0.
    """
    m = tiles[0].shape[0]
    image = HbmImage()
    for k, tile in enumerate(tiles):
        image.place(k * m * m, tile.astype(np.uint8))
    scale_base = len(tiles) * m * m
    image.place(scale_base, np.full(len(tiles) * m * m // 8, scale_byte, dtype=np.uint8))
    asm = (
        set_regs(gp30=scale_base, gp29=0) + "C_SET_SCALE_REG gp30\nC_SET_ADDR_REG a0, gp29, gp29\n"
    )
    for k in range(len(tiles)):
        asm += set_gp(28, k * m * m) + "H_PREFETCH_M gp28, gp28, a0, 0, 0\n"
    return image.bytes(), asm
