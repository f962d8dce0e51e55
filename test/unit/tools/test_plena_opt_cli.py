"""plena-opt never answers bad input with a Python traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

PLENA_OPT = Path(sys.executable).with_name("plena-opt")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLENA_OPT), *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.mlir", None, "plena-opt: error: cannot open '{path}': No such file or directory"),
        ("binary.asm", b"\x00\xff\xfe\x80", "plena-opt: error: {path} is not a text file"),
        ("image.bin", b"0x00000001\n", "plena-opt: error: Unrecognized file extension 'bin'"),
        ("imm.asm", b"S_ADDI_INT gp1, gp0, 70000\n", "{path}:1: S_ADDI_INT operand 3 (imm)"),
        ("undef.mlir", b"%0 = plena.s_lui_int 3 : !plena.gp<gp1>\n%1 = plena.s_addi_int %9, 1 "
         b": (!plena.gp<gp1>) -> !plena.gp<gp1>\n", "values used but not defined"),
        ("badreg.mlir", b"%0 = plena.s_lui_int 3 : !plena.gp<f1>\n", "'f1' is not a plena.gp"),
        ("verify.mlir", b"%0 = plena.s_lui_int 1048576 : !plena.gp<gp1>\n", "loses bits above"),
    ],
)
def test_bad_input_is_one_diagnostic_and_exit_2(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run(str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert message.format(path=path) in result.stderr + result.stdout
