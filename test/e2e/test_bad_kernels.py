"""Kernels a compiler must refuse get one diagnostic naming the op or buffer and the reason
with its numbers, from `compile_kernel` (a DiagnosticException) and from `plena-opt -p
plena-compile` (one line on stderr, exit status 1, no Python traceback)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from plena_mlir.dialects.plena import TARGET_ATTR_NAME, TargetAttr
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.utils.exceptions import DiagnosticException

from plena_mlir.frontend.kernel_builder import KernelBuilder
from plena_mlir.pipeline import compile_kernel

PLENA_OPT = Path(sys.executable).with_name("plena-opt")
T = 64  # MLEN: one tile is T x T


def shape_mismatch(verify: bool = True) -> ModuleOp:
    k = KernelBuilder("bad")
    x = k.tensor("x", (T, 2 * T))
    a, b = k.alloc((T, 2 * T), "vram", name="a"), k.alloc((T, T), "vram", name="b")
    k.copy(x[0, 0], a)
    k.add(a, a, b)
    return k.finish() if verify else k.module


def vram_overflow() -> ModuleOp:
    """VRAM has 131072 rows of 64; the buffer takes 64 rows per 64 columns: 134400 rows."""
    with KernelBuilder("bad") as k:
        x = k.tensor("x", (T, T * 2100))
        big = k.alloc((T, T * 2100), "vram", name="big")
        k.copy(x, big)
        k.exp(big, big)
        k.copy(big, x)
    return k.module


def gemm_kernel(b_rows: int, roles: str = "mk,nk->mn") -> ModuleOp:
    with KernelBuilder("bad") as k:
        a_t, b_t = k.tensor("a", (T, T)), k.tensor("b", (b_rows, T))
        c_t = k.tensor("c", (T, b_rows))
        a, w = k.alloc((T, T), "vram", name="a"), k.alloc((b_rows, T), "mram", name="w")
        c = k.alloc((T, b_rows), "vram", name="c")
        k.copy(a_t, a)
        k.copy(b_t, w)
        k.gemm(c, a, w, roles)
        k.copy(c, c_t)
    return k.module


def fpram_overflow() -> ModuleOp:
    """Three 30000-entry FPRAM buffers live at once in 65248 usable entries."""
    with KernelBuilder("bad") as k:
        buffers = [k.alloc((30000,), "fpram", name=f"m{i}") for i in range(3)]
        for step in range(2):
            for buffer in buffers:
                k.fp_add(buffer[step], buffer[step], 1.0)
    return k.module


def hbm_overflow() -> ModuleOp:
    """For a target with 256 MiB of HBM (so the tensor that overflows it stays small)."""
    with KernelBuilder("bad") as k:
        small = k.tensor("small", (T, T))
        x = k.tensor("x", (T, 1 << 22))
        t = k.alloc((T, T), "vram", name="t")
        k.copy(small, t)
        k.copy(t, x[0, 0])
    overrides = {"hbm_bytes": IntegerAttr(1 << 28, i64)}
    k.module.attributes[TARGET_ATTR_NAME] = TargetAttr("plena-tvm", overrides)
    return k.module


def dynamic_for() -> ModuleOp:
    with KernelBuilder("bad", grid={"row": 2}) as k:
        x = k.tensor("x", (2 * T, T))
        t = k.alloc((T, T), "vram", name="t")
        for i in k.range(0, k.axis("row") + 1):
            k.copy(x[i * T, 0], t)
            k.exp(t, t)
            k.copy(t, x[i * T, 0])
    return k.module


#: (name, kernel, the diagnostic as a regular expression)
BAD_KERNELS: list[tuple[str, Callable[[], ModuleOp], str]] = [
    (
        "vram-overflow",
        vram_overflow,
        r"^tile\.alloc %big \(64x134400xbf16, vram\) does not fit in VRAM: it needs 134400 VRAM "
        r"rows; 131056 VRAM rows are available \(VRAM has 131072 rows, the top 16 are the "
        r"lowering's staging rows, vram-base=0\)",
    ),
    (
        "mram-overflow",
        lambda: gemm_kernel(600 * T),
        r"^tile\.alloc %w \(38400x64xbf16, mram\) does not fit in MRAM: it needs 600 MRAM "
        r"tiles; 512 MRAM tiles are available",
    ),
    (
        "fpram-overflow",
        fpram_overflow,
        r"^tile\.alloc %m2 \(30000xf32, fpram\) does not fit in FPRAM: it needs 30000 FPRAM "
        r"entries; 65248 FPRAM entries are available \(FPRAM has 65536 entries, "
        r"fpram-constant-slots=32, fpram-reserved-top=256\), 60000 of them taken by buffers "
        r"live at the same time \(tile\.alloc %m0 .*, tile\.alloc %m1 .*\)$",
    ),
    (
        "mram-not-tile-aligned",
        lambda: gemm_kernel(T // 2),
        r"^tile\.alloc %w \(32x64xbf16, mram\): an mram buffer must be whole 64x64 tiles "
        r"\(H_PREFETCH_M loads one tile\), got 32x64$",
    ),
    (
        "hbm-overflow",
        hbm_overflow,
        r"^tile\.kernel @bad: tensor %x \(64x4194304xf32\) does not fit in HBM: placed at byte "
        r"4608 and taking 301989888 bytes MX-packed, the tensors up to it need 301994496 bytes "
        r"of HBM, the target has only 268435456$",
    ),
    (
        "dynamic-scf-for",
        dynamic_for,
        r"scf\.for %\w+: the upper bound must be constant \(a hardware loop has a fixed count\)",
    ),
]


CASES = [pytest.param(build, message, id=name) for name, build, message in BAD_KERNELS]


@pytest.mark.parametrize("build, message", CASES)
def test_compile_kernel_gives_the_diagnostic(build, message) -> None:
    with pytest.raises(DiagnosticException, match=message):
        compile_kernel(build())


def test_a_shape_mismatch_is_a_verifier_diagnostic() -> None:
    with pytest.raises(DiagnosticException, match=r"^tile\.add: shape of rhs \(64x64\) does not "):
        shape_mismatch()


def test_a_gemm_whose_roles_no_instruction_reads_names_the_op() -> None:
    """A as [k, m]: the matrix unit reads A row by row as [m, k], and plena-tvm has no
    instruction reading it transposed."""
    with pytest.raises(DiagnosticException, match=r"tile\.gemm \(km,kn->mn.*A has roles \[k, m\]"):
        compile_kernel(gemm_kernel(T, roles="km,kn->mn"))


def plena_opt_compile(module: ModuleOp, tmp_path: Path) -> subprocess.CompletedProcess:
    source = tmp_path / "bad.mlir"
    source.write_text(str(module))
    return subprocess.run(
        [str(PLENA_OPT), str(source), "-p", "plena-compile"],
        capture_output=True,
        text=True,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(message, lines[0]), lines[0]


PLENA_OPT_CASES = [
    *CASES,
    pytest.param(
        lambda: gemm_kernel(T, roles="km,kn->mn"),
        r"tile\.gemm \(km,kn->mn.*A has roles \[k, m\]",
        id="gemm-roles",
    ),
]


@pytest.mark.parametrize("build, message", PLENA_OPT_CASES)
def test_plena_opt_prints_one_line_and_no_traceback(build, message, tmp_path) -> None:
    assert_one_clear_line(plena_opt_compile(build(), tmp_path), message)


def test_plena_opt_reports_a_verifier_error_on_its_first_line(tmp_path) -> None:
    """A verifier error is the message, then the module with the op marked (xDSL's form)."""
    result = plena_opt_compile(shape_mismatch(verify=False), tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    first, *annotated = result.stderr.splitlines()
    assert first == "tile.add: shape of rhs (64x64) does not match dst (64x128)"
    marked = next(i for i, line in enumerate(annotated) if line.strip().startswith("^^^"))
    assert '"tile.add"' in annotated[marked - 1]
    assert "Operation does not verify: tile.add: shape of rhs" in annotated[marked + 1]
