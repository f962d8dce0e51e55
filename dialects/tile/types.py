"""The types of the `tile` dialect: HBM tensors and on-chip buffers.

    !tile.tensor<128x1024xf32>            a tensor in HBM, a kernel argument
    !tile.buffer<64x64xbf16, vram>        an on-chip buffer in VRAM
    !tile.buffer<64x64xbf16, mram>        ... in MRAM (the B operand of a gemm)
    !tile.buffer<64xf32, fpram>           ... in FPRAM (one scalar per row)
    !tile.buffer<64x64xbf16, ?>           memory space left to inference (see `spaces.py`)

Shapes are static and positive.  VRAM and MRAM buffers are rank 2 (rows x columns, the unit
the vector and matrix engines work on); FPRAM buffers are rank 1.  The element type is the
author's declaration (bf16, f16 or f32); the storage format is the machine's (bf16 VRAM, f32
MRAM, the target's fp_format in FPRAM, MX or f32 in HBM), see docs/dialects/tile.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    BFloat16Type,
    Float16Type,
    Float32Type,
    IntAttr,
    StringAttr,
)
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum


class MemorySpace(StrEnum):
    """Where an on-chip buffer lives; INFERRED (`?`) is decided by `plena-infer-memory`."""

    VRAM = "vram"
    MRAM = "mram"
    FPRAM = "fpram"
    INFERRED = "?"


#: The spellings of the memory spaces in a buffer type.
SPACE_NAMES = frozenset(space.value for space in MemorySpace)

#: The rank a buffer must have in each memory space.
RANK_OF_SPACE = {MemorySpace.VRAM: 2, MemorySpace.MRAM: 2, MemorySpace.FPRAM: 1}

ELEMENT_TYPES = (BFloat16Type, Float16Type, Float32Type)


def format_shape(shape: Sequence[int]) -> str:
    """`64x64`, as a shape is written in a type."""
    return "x".join(str(d) for d in shape)


def squeeze(shape: Sequence[int]) -> tuple[int, ...]:
    """The shape without its unit dimensions (which do not change the row-major order)."""
    return tuple(d for d in shape if d != 1)


def verify_shape(kind: str, shape: Sequence[int], element_type: Attribute) -> None:
    if not shape:
        raise VerifyException(f"{kind} must have at least one dimension")
    if any(d <= 0 for d in shape):
        raise VerifyException(
            f"{kind} dimensions must be static and positive, got "
            f"{'x'.join('?' if d < 0 else str(d) for d in shape)}"
        )
    if not isinstance(element_type, ELEMENT_TYPES):
        raise VerifyException(f"{kind} element type must be bf16, f16 or f32, got {element_type}")


class ShapedTileType(ParametrizedAttribute, TypeAttribute):
    """The accessors both tile types share (each declares its own parameters: xDSL compares
    and hashes only the parameters declared by the concrete class)."""

    shape: ArrayAttr[IntAttr]
    element_type: Attribute

    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    @property
    def rank(self) -> int:
        return len(self.shape.data)

    @property
    def num_elements(self) -> int:
        return math.prod(self.get_shape())

    def _print_shape(self, printer: Printer) -> None:
        printer.print_dimension_list(self.get_shape())
        printer.print_string("x")
        printer.print_attribute(self.element_type)


@irdl_attr_definition
class TensorType(ShapedTileType):
    """A tensor in HBM: `!tile.tensor<1x128x8x16xf32>` (any rank, BSHD for heads)."""

    name = "tile.tensor"

    shape: ArrayAttr[IntAttr]
    element_type: Attribute

    def __init__(self, shape: Sequence[int], element_type: Attribute):
        super().__init__(ArrayAttr(IntAttr(d) for d in shape), element_type)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            dims, element_type = parser.parse_ranked_shape()
        return (ArrayAttr(IntAttr(d) for d in dims), element_type)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            self._print_shape(printer)

    def verify(self) -> None:
        verify_shape("!tile.tensor", self.get_shape(), self.element_type)


@irdl_attr_definition
class BufferType(ShapedTileType):
    """An on-chip buffer: `!tile.buffer<64x64xbf16, vram>`."""

    name = "tile.buffer"

    shape: ArrayAttr[IntAttr]
    element_type: Attribute
    memory_space: StringAttr

    def __init__(self, shape: Sequence[int], element_type: Attribute, space: MemorySpace | str):
        super().__init__(ArrayAttr(IntAttr(d) for d in shape), element_type, StringAttr(str(space)))

    @property
    def space(self) -> MemorySpace:
        return MemorySpace(self.memory_space.data)

    def with_space(self, space: MemorySpace) -> BufferType:
        return BufferType(self.get_shape(), self.element_type, space)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            dims, element_type = parser.parse_ranked_shape()
            parser.parse_punctuation(",")
            if parser.parse_optional_punctuation("?") is not None:
                space = MemorySpace.INFERRED.value
            else:
                pos = parser.pos
                space = parser.parse_identifier("memory space: vram, mram, fpram or ?")
                if space not in SPACE_NAMES:
                    parser.raise_error(
                        f"unknown memory space '{space}': expected vram, mram, fpram or ?",
                        pos,
                        parser.pos,
                    )
        return (ArrayAttr(IntAttr(d) for d in dims), element_type, StringAttr(space))

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            self._print_shape(printer)
            printer.print_string(f", {self.memory_space.data}")

    def verify(self) -> None:
        verify_shape("!tile.buffer", self.get_shape(), self.element_type)
        if self.memory_space.data not in SPACE_NAMES:
            raise VerifyException(
                f"unknown memory space '{self.memory_space.data}': expected vram, mram, fpram or ?"
            )
        rank = RANK_OF_SPACE.get(self.space)
        if rank is not None and self.rank != rank:
            raise VerifyException(
                f"{self.space} buffers have rank {rank} "
                f"({'rows x columns' if rank == 2 else 'one scalar per entry'}), got "
                f"{format_shape(self.get_shape())}"
            )
        if self.space is MemorySpace.INFERRED and self.rank not in (1, 2):
            raise VerifyException(
                f"a buffer must have rank 1 (fpram) or 2 (vram, mram), got "
                f"{format_shape(self.get_shape())}"
            )
