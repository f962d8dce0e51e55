"""The remainder lowering (plena_mlir/lowering/remainder.py): x % c as x - ((x * m) >> k) * c,
with a multiplier that divides every value the index takes exactly, in 32 bits; and the
diagnostics of a remainder it cannot lower."""

import pytest
from xdsl.dialects import arith
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.frontend.kernel_builder import Index, KernelBuilder
from plena_mlir.lowering.remainder import U32, reciprocal
from plena_mlir.pipeline import compile_kernel


@pytest.mark.parametrize("largest", [0, 1, 63, 1000, 4095])
def test_the_multiplier_divides_every_value_up_to_the_largest(largest):
    for divisor in range(1, 101):
        m, k = reciprocal(divisor, largest)
        for x in range(largest + 1):
            assert x * m < U32
            assert (x * m) >> k == x // divisor, (divisor, x, m, k)


def test_a_power_of_two_is_a_shift():
    assert reciprocal(8, 1000) == (1, 3)


def test_no_32_bit_multiplier_for_a_huge_range():
    assert reciprocal(7, U32 - 1) is None


def remainder_kernel(grid: int, divisor: int, shift: int = 0):
    """y[(block - shift) % divisor] = x[0]: a remainder selecting a row block."""
    with KernelBuilder("rem", grid={"block": grid}) as k:
        x, y = k.tensor("x", (64, 64)), k.tensor("y", (64 * divisor, 64))
        block = k.axis("block") - shift if shift else k.axis("block")
        rem = k.emit(arith.RemSIOp(block.value, k.index_value(divisor))).result
        t = k.alloc((64, 64), "vram", name="t")
        k.copy(x[0, 0], t)
        k.copy(t, y[Index(k, rem) * 64, 0])
    return k.module


def test_a_remainder_of_a_grid_index_compiles_to_a_multiply_and_a_shift():
    mnemonics = [i.mnemonic for i in compile_kernel(remainder_kernel(10, 3)).program]
    assert "S_SRLI_INT" in mnemonics and "S_SUB_INT" in mnemonics


def test_a_signed_remainder_of_a_possibly_negative_index_is_a_diagnostic():
    with pytest.raises(DiagnosticException, match=r"arith\.remsi of .*, which may be negative"):
        compile_kernel(remainder_kernel(4, 3, shift=1))
