"""The target description: the plena-tvm preset, TOML loading, overrides and geometry errors."""

import dataclasses
from pathlib import Path

import pytest

from plena_mlir.target import PLENA_TVM, Target, TargetError, get_target, load_settings_toml

SETTINGS = (
    Path(__file__).resolve().parents[2] / "plena_mlir" / "data" / "plena_settings.tvm-mlen64.toml"
)


def test_tvm_preset_geometry_and_sizes():
    t = get_target("plena-tvm")
    assert (t.mlen, t.vlen, t.blen, t.hlen, t.lanes) == (64, 64, 2, 16, 4)
    assert (t.gp_registers, t.fp_registers, t.addr_registers, t.operand_bits) == (32, 8, 8, 5)
    assert (t.imm_bits, t.imm2_bits, t.imm_max, t.imm2_max) == (21, 16, 2**21 - 1, 65535)
    assert (t.mram_rows, t.mram_tiles, t.vram_rows) == (32768, 512, 131072)
    assert (t.fpram_entries, t.intram_entries, t.hbm_bytes) == (65536, 1024, 1 << 30)
    assert (t.hbm_m_prefetch_rows, t.hbm_v_prefetch_rows, t.hbm_v_writeback_rows) == (64, 16, 16)
    assert t.hbm_v_act_format.is_mxfp8 and t.fp_format == "fp16" and t.bmm_scale == 1.0
    assert t.btmm_lane_paired and t.mm_column_granularity == "element"
    assert t.latency("VECTOR_SUM_CYCLES") == 8 and t.latency("VECTOR_RECI_CYCLES") == 2


def test_shared_settings_file_loads_to_exactly_the_preset():
    loaded = load_settings_toml(SETTINGS)
    assert dataclasses.replace(loaded, name=PLENA_TVM.name) == PLENA_TVM


def test_get_target_accepts_a_toml_path_and_overrides():
    t = get_target(str(SETTINGS), gp_registers=16, mlen=128)
    assert (t.gp_registers, t.mlen, t.vlen, t.lanes, t.hbm_m_prefetch_rows) == (
        16,
        128,
        128,
        8,
        128,
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"vlen": 128}, "VLEN (128) must equal MLEN (64)"),
        ({"mlen": 128, "vlen": 64}, "VLEN (64) must equal MLEN (128)"),
        ({"blen": 3}, "MLEN (64) must be a multiple of BLEN (3)"),
        ({"hlen": 24}, "MLEN (64) must be a multiple of HLEN (24)"),
        ({"gp_registers": 33}, "does not fit a 5-bit register field"),
        ({"hbm_m_prefetch_rows": 96}, "HBM_M_Prefetch_Amount (96) must be a multiple of MLEN (64)"),
        ({"fp_format": "fp8"}, "fp_format must be"),
    ],
)
def test_inconsistent_geometry_is_rejected(overrides, message):
    with pytest.raises(TargetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PLENA_TVM.with_overrides(**overrides)


def test_unknown_override_and_unknown_target():
    with pytest.raises(TargetError, match="unknown target field"):
        PLENA_TVM.with_overrides(registers=3)
    with pytest.raises(TargetError, match="unknown target 'plena-x'"):
        get_target("plena-x")


def test_broken_settings_files_name_the_problem(tmp_path):
    text = SETTINGS.read_text()
    missing = tmp_path / "missing.toml"
    missing.write_text(text.replace("[BEHAVIOR.CONFIG.HLEN]\nvalue = 16\n", ""))
    with pytest.raises(TargetError, match=r"missing CONFIG\.HLEN"):
        load_settings_toml(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("[BEHAVIOR\n")
    with pytest.raises(TargetError, match="not valid TOML"):
        load_settings_toml(bad)
    with pytest.raises(TargetError, match="cannot read target file"):
        load_settings_toml(tmp_path / "nope.toml")


def test_target_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLENA_TVM.mlen = 128  # type: ignore[misc]
    assert isinstance(PLENA_TVM, Target)
