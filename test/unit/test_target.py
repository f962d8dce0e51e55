"""The target description: the presets, settings files of both lineages, overrides and geometry
errors."""

import dataclasses
from pathlib import Path

import pytest
from plena_mlir.dialects.plena import target_attr

from plena_mlir.target import (
    PLENA_TVM,
    PRESETS,
    Target,
    TargetError,
    get_target,
    read_settings,
)

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
    loaded = read_settings(SETTINGS).target
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
        read_settings(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("[BEHAVIOR\n")
    with pytest.raises(TargetError, match="not valid TOML"):
        read_settings(bad)
    with pytest.raises(TargetError, match="cannot read target file"):
        read_settings(tmp_path / "nope.toml")


def test_target_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLENA_TVM.mlen = 128  # type: ignore[misc]
    assert isinstance(PLENA_TVM, Target)


#: Each preset's (MLEN, VLEN, BLEN, HLEN, MRAM tiles, VRAM rows, M / V prefetch and V store rows),
#: as the settings file it was published with has them (docs/target.md, "Presets").
PUBLISHED = {
    "plena-tvm": (64, 64, 2, 16, 512, 131072, 64, 16, 16),
    "plena-tvm-mlen1024": (1024, 1024, 128, 128, 32, 131072, 1024, 256, 256),
    "plena-tvm-mlen512": (512, 512, 4, 128, 8, 16384, 512, 128, 128),
    "plena-tvm-mlen256": (256, 256, 64, 64, 16, 4194304, 256, 64, 64),
    "plena-tvm-blen4": (64, 64, 4, 16, 64, 4194304, 64, 4, 4),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_presets_have_the_published_geometry(name):
    t = get_target(name)
    assert t.name == name and t.lanes == t.mlen // t.hlen
    assert (t.mlen, t.vlen, t.blen, t.hlen, t.mram_tiles, t.vram_rows, t.hbm_m_prefetch_rows,
            t.hbm_v_prefetch_rows, t.hbm_v_writeback_rows) == PUBLISHED[name]
    assert (t.gp_registers, t.opcodes, t.fp_format) == (32, PLENA_TVM.opcodes, "fp16")
    assert target_attr(t).target == t


def test_every_preset_is_listed():
    assert set(PRESETS) == set(PUBLISHED)


def _transactional(tmp_path, mlen=64, blen=4, v_rows=4):
    """The shipped file with its [BEHAVIOR] table renamed [TRANSACTIONAL] (the mainline
    emulator's: the same keys) and the mainline geometry."""
    text = SETTINGS.read_text().replace("[BEHAVIOR.", "[TRANSACTIONAL.")
    for key, value in (("BLEN", blen), ("HBM_V_Prefetch_Amount", v_rows),
                       ("HBM_V_Writeback_Amount", v_rows)):
        text = text.replace(f"[TRANSACTIONAL.CONFIG.{key}]\nvalue = ",
                            f"[TRANSACTIONAL.CONFIG.{key}]\nvalue = {value} #")
    path = tmp_path / "main.toml"
    path.write_text(text)
    return path


def test_a_transactional_table_is_read_when_there_is_no_behavior_table(tmp_path):
    settings = read_settings(_transactional(tmp_path))
    assert settings.table == "TRANSACTIONAL"
    t = settings.target
    assert (t.mlen, t.blen, t.hbm_v_prefetch_rows, t.hbm_v_writeback_rows) == (64, 4, 4, 4)
    assert get_target(f"{tmp_path / 'main.toml'}") == t
    assert target_attr(t).target == t


def test_file_colon_table_picks_a_table(tmp_path):
    both = tmp_path / "both.toml"
    transactional = _transactional(tmp_path).read_text()
    both.write_text(SETTINGS.read_text() + transactional[transactional.index("[TRANSACTIONAL."):])
    assert get_target(str(both)).blen == 2
    assert get_target(f"{both}:TRANSACTIONAL").blen == 4
    assert get_target(f"{both}:BEHAVIOR").blen == 2
    with pytest.raises(TargetError, match=r"no \[TRANSACTIONAL\] table"):
        get_target(f"{SETTINGS}:TRANSACTIONAL")


def test_settings_tell_which_keys_they_used():
    settings = read_settings(SETTINGS)
    assert settings.used["CONFIG.MLEN"] == 64 and settings.used["LATENCY.VECTOR_SUM_CYCLES"] == 8
    assert settings.used["PRECISION.HBM_V_ACT_TYPE"] == "MXFP8"
    assert "CONFIG.BROADCAST_AMOUNT" in settings.ignored
    assert "LATENCY.VECTOR_SHIFT_CYCLES" in settings.ignored
    line = settings.describe()
    assert line.startswith(f"{SETTINGS} [BEHAVIOR]: used ") and "MLEN=64" in line
    assert "ignored BROADCAST_AMOUNT" in line and "\n" not in line


def test_a_settings_file_that_is_not_text_is_one_error(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[BEHAVIOR]\n")
    with pytest.raises(TargetError, match="not a UTF-8 text file"):
        read_settings(binary)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"vram_rows": 1 << 40}, "VRAM of 70368744177664 elements is more than the 4294967296"),
        ({"mram_rows": 1 << 40}, "MRAM of"),
        ({"hbm_bytes": 1 << 50}, "HBM of 1125899906842624 bytes is more than"),
        ({"fpram_entries": 0}, "fpram_entries must be positive"),
        ({"hbm_v_prefetch_rows": 0}, "hbm_v_prefetch_rows must be positive"),
    ],
)
def test_absurd_memory_sizes_are_rejected(overrides, message):
    with pytest.raises(TargetError, match=message):
        PLENA_TVM.with_overrides(**overrides)
