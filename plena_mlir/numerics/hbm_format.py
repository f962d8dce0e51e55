"""How a tensor sits in HBM: the two storage formats and the MX image footprint.

Pure integer arithmetic (no NumPy), so address math in the compiler can use it without the
number codecs.  The image layout (plena-isa-tvm.md A4.8, `plena_mlir/sim/image.py` writes it):
a tensor's element bytes zero-padded to whole rows of hbm_width_bits/8 bytes, then its scale
bytes (one per MX_BLOCK elements) padded the same way, then zero padding to a multiple of 64.
"""

from __future__ import annotations

from typing import Literal

from plena_mlir.target import DEFAULT_TARGET, Target

#: "mxfp8": the hardware's MX-packed bytes; "fp32": one float32 per element address (exact).
HbmFormat = Literal["mxfp8", "fp32"]

#: Elements that share one MX scale byte.
MX_BLOCK = 8

#: Every tensor of the HBM image starts at a multiple of this many bytes.
IMAGE_ALIGN = 64


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def row_bytes(target: Target) -> int:
    """Bytes of one HBM row (the padding unit of the element and scale regions)."""
    return target.hbm_width_bits // 8


def image_footprint(n_elements: int, target: Target = DEFAULT_TARGET) -> int:
    """Bytes a tensor of `n_elements` takes in the image: element rows, scale rows, padding."""
    row = row_bytes(target)
    blocks = -(-n_elements // MX_BLOCK)
    return round_up(round_up(n_elements, row) + round_up(blocks, row), IMAGE_ALIGN)
