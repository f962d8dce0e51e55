"""The published tool chain's file formats: HBM image, SRAM preloads and memory dumps.

HBM image (plena-isa-tvm.md A4.8, `hbm_for_behave_sim.bin`): tensors back to back from byte 0,
each flattened and MX-quantised with the writer rounding, laid out as

    element bytes, zero-padded to whole rows of hbm_width_bits/8 (128) bytes
    scale bytes,   zero-padded the same way
    zero padding up to a multiple of 64 bytes

so a tensor's scale region starts at addr + n rounded up to a row, which is addr + n (the
SCALE a compiler sets) only when n is a multiple of the row size.

Preloads and dumps (A5.2, A5.3), all little-endian:

    fp_sram.bin      fp16, len/2 entries (an odd trailing byte ignored)   -> FPRAM[0 .. n)
    int_sram.bin     u32, len/4 entries (a partial trailing word ignored)  -> INTRAM[0 .. n)
    VRAM preload     bf16 rows of VLEN from row 0, a short last row zero-padded
    vram_dump.bin    every VRAM row as bf16
    mram_dump.bin    every MRAM tile, M*M values each, f32 rounded to bf16 (RNE)
    fpsram_dump.bin  every FPRAM entry in the target's FP format (fp16 or bf16)
    intsram_dump.bin every INTRAM entry as u32 (the TVM emulator writes none)

A preload larger than its memory is a `MachineFault` (the emulator aborts for FPRAM and
INTRAM; for VRAM it silently drops the extra rows, which we report instead).
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from plena_mlir.numerics.formats import mx_decode, mx_encode, round_fp
from plena_mlir.numerics.hbm_format import MX_BLOCK, image_footprint, round_up, row_bytes
from plena_mlir.sim.errors import MachineFault
from plena_mlir.target import DEFAULT_TARGET, Target


def build_hbm_image(
    tensors: list[np.ndarray], target: Target = DEFAULT_TARGET
) -> tuple[bytes, list[int]]:
    """The HBM image of `tensors` in order, and the byte address of each."""
    chunks: list[bytes] = []
    addresses: list[int] = []
    addr = 0
    row = row_bytes(target)
    for tensor in tensors:
        flat = np.asarray(tensor, dtype=np.float32).ravel()
        n = flat.size
        blocks = -(-n // MX_BLOCK)
        padded = np.zeros(blocks * MX_BLOCK, dtype=np.float32)
        padded[:n] = flat
        codes, scales = mx_encode(padded, "writer")
        chunk = np.zeros(image_footprint(n, target), dtype=np.uint8)
        chunk[:n] = codes[:n]
        scale_start = round_up(n, row)
        chunk[scale_start : scale_start + blocks] = scales
        chunks.append(chunk.tobytes())
        addresses.append(addr)
        addr += chunk.size
    return b"".join(chunks), addresses


def read_hbm_tensor(
    image: bytes, addr: int, shape: tuple[int, ...], target: Target = DEFAULT_TARGET
) -> np.ndarray:
    """Decode the tensor of `shape` that `build_hbm_image` placed at `addr` of `image`."""
    n = int(np.prod(shape, dtype=np.int64))
    blocks = -(-n // MX_BLOCK)
    scale_start = addr + round_up(n, row_bytes(target))
    if addr < 0 or scale_start + blocks > len(image):
        raise ValueError(
            f"a tensor of {n} elements at byte {addr} does not fit in the {len(image)}-byte image"
        )
    data = np.frombuffer(image, dtype=np.uint8)
    codes = np.zeros(blocks * MX_BLOCK, dtype=np.uint8)
    codes[:n] = data[addr : addr + n]
    return mx_decode(codes, data[scale_start : scale_start + blocks])[:n].reshape(shape)


# --------------------------------------------------------------------------------------------
# SRAM preloads
# --------------------------------------------------------------------------------------------


def check_preload(count: int, capacity: int, what: str, unit: str = "entries") -> None:
    if count > capacity:
        raise MachineFault(
            f"{what} preload of {count} {unit} is larger than {what} ({capacity} {unit})"
        )


def parse_fpram_preload(data: bytes, target: Target = DEFAULT_TARGET) -> np.ndarray:
    """fp_sram.bin: fp16 values for FPRAM[0 .. n), as float32 in the target's FP format."""
    values = np.frombuffer(data[: len(data) // 2 * 2], dtype="<f2").astype(np.float32)
    check_preload(values.size, target.fpram_entries, "FPRAM")
    return round_fp(values, target.fp_format)


def parse_intram_preload(data: bytes, target: Target = DEFAULT_TARGET) -> np.ndarray:
    """int_sram.bin: u32 values for INTRAM[0 .. n)."""
    values = np.frombuffer(data[: len(data) // 4 * 4], dtype="<u4").astype(np.uint32)
    check_preload(values.size, target.intram_entries, "INTRAM")
    return values


def parse_vram_preload(data: bytes, target: Target = DEFAULT_TARGET) -> np.ndarray:
    """A VRAM preload: bf16 rows of VLEN for VRAM rows 0.., as float32 (rows, vlen).

    A trailing odd byte is ignored.  More rows than the VRAM holds is a fault here (the
    emulator drops them silently)."""
    bits = np.frombuffer(data[: len(data) // 2 * 2], dtype="<u2")
    rows = -(-bits.size // target.vlen)
    check_preload(rows, target.vram_rows, "VRAM", "rows")
    out = np.zeros(rows * target.vlen, dtype=np.uint32)
    out[: bits.size] = bits.astype(np.uint32) << 16  # a bf16 is the top half of an f32
    return out.view(np.float32).reshape(rows, target.vlen)


# --------------------------------------------------------------------------------------------
# dumps
# --------------------------------------------------------------------------------------------


def _bf16_bytes(values: np.ndarray) -> bytes:
    """float32 values rounded to bf16 (RNE), little-endian."""
    bits = np.asarray(values, dtype=np.float32).astype(ml_dtypes.bfloat16).view(np.uint16)
    return bits.astype("<u2").tobytes()


def vram_dump(vram: np.ndarray) -> bytes:
    """vram_dump.bin: every VRAM row (rows, vlen), bf16 little-endian."""
    return _bf16_bytes(vram)


def mram_dump(mram: np.ndarray) -> bytes:
    """mram_dump.bin: every MRAM tile (tiles, M, M) in order, its f32 values rounded to bf16."""
    return _bf16_bytes(mram)


def fpram_dump(fpram: np.ndarray, fp_format: str) -> bytes:
    """fpsram_dump.bin: every FPRAM entry in the target's FP format ("fp16" or "bf16")."""
    if fp_format == "bf16":
        return _bf16_bytes(fpram)
    if fp_format == "fp16":
        with np.errstate(over="ignore"):
            return np.asarray(fpram, dtype=np.float32).astype("<f2").tobytes()
    raise ValueError(f"unknown FP format '{fp_format}' (expected 'fp16' or 'bf16')")


def intram_dump(intram: np.ndarray) -> bytes:
    """intsram_dump.bin: every INTRAM entry as u32 little-endian."""
    return np.asarray(intram, dtype=np.uint32).astype("<u4").tobytes()
