"""Every program the compiler emits, compared with the one recorded: a refactoring or a
compile-time change must not change a single instruction.

For every library kernel at its default and test sizes and every chain at its default sizes,
the program (its assembly text, `format_asm`) and its host interface (HBM addresses, FPRAM
arguments, the constant pool) are hashed and compared with `emitted_programs.json`.  A change
that is meant to change programs (a better lowering) records the new ones with

    PLENA_RECORD_PROGRAMS=1 pytest test/e2e/test_emitted_programs.py

and its commit says why they changed; the instruction counts in the file show by how much.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from plena_mlir.chains import all_chains
from plena_mlir.isa.asm_text import format_asm
from plena_mlir.kernels import all_kernels
from plena_mlir.pipeline import CompiledKernel, compile_kernel, link_chain

RECORD = Path(__file__).with_name("emitted_programs.json")


def _programs() -> dict[str, tuple]:
    """Program name -> (builder kind, spec, size overrides)."""
    programs = {}
    for name, spec in all_kernels().items():
        for i, overrides in enumerate(({}, *spec.sizes_to_test())):
            programs[f"{name}.{i}"] = ("kernel", spec, dict(overrides))
    for name, spec in all_chains().items():
        programs[f"chain-{name}"] = ("chain", spec, {})
    return programs


PROGRAMS = _programs()


def fingerprint(compiled: CompiledKernel) -> dict:
    interface = json.dumps(
        {
            "hbm": compiled.hbm_addresses,
            "fp": compiled.fpram_arguments,
            "pool": compiled.fpram_preload,
        },
        sort_keys=True,
    )
    text = format_asm(compiled.program) + "\n" + interface
    return {
        "instructions": len(compiled.program),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def compiled_program(kind: str, spec, overrides: dict) -> CompiledKernel:
    module = spec.build(spec.resolve(overrides))
    return compile_kernel(module) if kind == "kernel" else link_chain(module)


@pytest.fixture(scope="module")
def recorded() -> dict:
    if os.environ.get("PLENA_RECORD_PROGRAMS"):
        programs = {name: fingerprint(compiled_program(*how)) for name, how in PROGRAMS.items()}
        RECORD.write_text(json.dumps(programs, indent=1, sort_keys=True) + "\n")
    return json.loads(RECORD.read_text())


def test_every_program_is_recorded(recorded: dict):
    assert sorted(recorded) == sorted(PROGRAMS), "record with PLENA_RECORD_PROGRAMS=1"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_emitted_program_is_unchanged(name: str, recorded: dict):
    now = fingerprint(compiled_program(*PROGRAMS[name]))
    before = recorded.get(name)
    assert now == before, (
        f"{name}: the program changed ({before and before['instructions']} instructions "
        f"recorded, {now['instructions']} now); if that is intended, record the programs "
        "with PLENA_RECORD_PROGRAMS=1"
    )
