"""`plena-sim` end to end, through a subprocess: one good run with every preload and dump,
and every kind of bad input as one `plena-sim: error:` line with the right exit status."""

import json
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from plena_mlir.tools import plena_sim as cli

from plena_mlir.isa.asm_text import parse_asm
from plena_mlir.isa.encoding import encode, format_mem
from plena_mlir.numerics.formats import mx_decode
from plena_mlir.sim.api import Simulator
from plena_mlir.sim.errors import SimulationInterrupted
from plena_mlir.sim.image import build_hbm_image
from plena_mlir.sim.stats import Stats
from plena_mlir.target import PLENA_TVM

STATS_KEYS = {
    "cycles",
    "instructions",
    "per_opcode",
    "per_class_cycles",
    "hbm_bytes_read",
    "hbm_bytes_written",
    "mac_utilisation",
}

# y = x * 2 + FPRAM[1]; stores one row block back to HBM after x; FPRAM[2] = sum(y row 0);
# INTRAM[3] = INTRAM[0] + 1
PROGRAM = """\
; CLI smoke program
S_ADDI_INT gp1, gp0, 4096          ; SCALE: the tensor's element count
C_SET_SCALE_REG gp1
C_SET_ADDR_REG a0, gp0, gp0
H_PREFETCH_V gp0, gp0, a0, 0, 0    ; 16 rows of x -> VRAM rows 0..15
S_LD_FP f1, gp0, 1
S_ADDI_INT gp2, gp0, 2048          ; VRAM row 32
V_ADD_VV gp2, gp0, gp0, 0
V_ADD_VF gp2, gp2, f1, 0
V_RED_SUM f2, gp2, 0
S_ST_FP f2, gp0, 2
S_LD_INT gp3, gp0, 0
S_ADDI_INT gp3, gp3, 1
S_ST_INT gp3, gp0, 3
S_ADDI_INT gp4, gp0, 8192          ; HBM offset of the output (SCALE stays 4096)
H_STORE_V gp2, gp4, a0, 0, 0
"""


def plena_sim(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "plena_mlir.tools.plena_sim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, status: int, *fragments: str):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    # a target read from a settings file is described on a line of its own first
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("plena-sim: target ")]
    assert len(lines) == 1 and lines[0].startswith("plena-sim: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    x = (np.arange(64 * 64, dtype=np.float32) % 16 - 8).reshape(64, 64) / 4
    hbm, addresses = build_hbm_image([x])
    assert addresses == [0]
    files = {
        "asm": tmp_path / "prog.asm",
        "hbm": tmp_path / "hbm.bin",
        "fpsram": tmp_path / "fp_sram.bin",
        "intsram": tmp_path / "int_sram.bin",
        "vram": tmp_path / "vram.bin",
    }
    files["asm"].write_text(PROGRAM)
    files["hbm"].write_bytes(hbm)
    files["fpsram"].write_bytes(np.array([0, 0.5, 0], dtype="<f2").tobytes())
    files["intsram"].write_bytes(np.array([41], dtype="<u4").tobytes())
    vram_rows = np.full((17, 64), 3.0, dtype=np.float32).astype(ml_dtypes.bfloat16)
    files["vram"].write_bytes(vram_rows.view(np.uint16).astype("<u2").tobytes())
    return files


def test_good_run_writes_every_dump_and_the_statistics(inputs, tmp_path):
    out = tmp_path / "out"
    result = plena_sim(
        inputs["asm"], "--hbm", inputs["hbm"], "--fpsram", inputs["fpsram"],
        "--intsram", inputs["intsram"], "--vram", inputs["vram"], "--out-dir", out,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    summary = result.stdout.splitlines()
    assert summary[1] == "instructions     15" and "  S_ADDI_INT                  4" in summary

    t = PLENA_TVM
    sizes = {
        "vram_dump.bin": t.vram_rows * t.vlen * 2,
        "mram_dump.bin": t.mram_tiles * t.mlen * t.mlen * 2,
        "fpsram_dump.bin": t.fpram_entries * 2,
        "intsram_dump.bin": t.intram_entries * 4,
    }
    for name, size in sizes.items():
        assert (out / name).stat().st_size == size, name

    x = (np.arange(64 * 64, dtype=np.float32) % 16 - 8).reshape(64, 64) / 4
    y = x[0] * 2 + 0.5
    vram = np.frombuffer((out / "vram_dump.bin").read_bytes(), dtype="<u2")
    vram = (vram.astype(np.uint32) << 16).view(np.float32).reshape(t.vram_rows, t.vlen)
    np.testing.assert_array_equal(vram[:16], x[:16])  # prefetch overwrote the VRAM preload
    np.testing.assert_array_equal(vram[16], np.full(64, 3.0))  # ... except its last row
    np.testing.assert_array_equal(vram[32], y)
    fpsram = np.frombuffer((out / "fpsram_dump.bin").read_bytes(), dtype="<f2")
    assert fpsram[1] == 0.5 and fpsram[2] == np.float16(y.sum())
    intsram = np.frombuffer((out / "intsram_dump.bin").read_bytes(), dtype="<u4")
    assert intsram[0] == 41 and intsram[3] == 42

    # the image is untouched; H_STORE_V wrote 16 rows at 8192 and their scales at
    # SCALE + 8192/8 = 5120 (y is exact in MXFP8, the other rows are zero)
    image = inputs["hbm"].read_bytes()
    hbm = np.frombuffer((out / "hbm_dump.bin").read_bytes(), dtype=np.uint8)
    assert hbm[: len(image)].tobytes() == image and len(hbm) == 8192 + 16 * 64
    stored = mx_decode(hbm[8192:].reshape(16, 64), hbm[5120 : 5120 + 128].reshape(16, 8))
    np.testing.assert_array_equal(stored[0], y)
    assert not stored[1:].any()

    stats = json.loads((out / "stats.json").read_text())
    assert set(stats) == STATS_KEYS
    assert stats["instructions"] == 15
    assert stats["per_opcode"]["S_ADDI_INT"] == 4
    assert stats["hbm_bytes_read"] > 0 and stats["hbm_bytes_written"] > 0
    assert summary[0] == f"cycles           {stats['cycles']}"
    assert stats["cycles"] == sum(stats["per_class_cycles"].values())
    # fixed costs: 4 + 2 + 1 + 1 + 1 + 8 + 1 + 1 + 1 (table A3.8); the rest is DMA time
    assert stats["cycles"] - stats["per_class_cycles"]["HBM"] == 20
    assert stats["per_class_cycles"]["VECTOR"] == 10


def test_json_output_and_mem_programs(inputs, tmp_path):
    words = [encode(i) for i in parse_asm(PROGRAM)]
    mem = tmp_path / "prog.mem"
    mem.write_text(format_mem(words))
    result = plena_sim(mem, "--hbm", inputs["hbm"], "--json", "--out-dir", tmp_path / "o")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) == STATS_KEYS and stats["instructions"] == 15
    assert json.loads((tmp_path / "o" / "stats.json").read_text()) == stats


def test_default_out_dir_is_the_current_directory(tmp_path):
    (tmp_path / "p.asm").write_text("S_ADDI_INT gp1, gp0, 1\n")
    assert plena_sim("p.asm", cwd=tmp_path).returncode == 0
    assert (tmp_path / "vram_dump.bin").exists() and (tmp_path / "stats.json").exists()


def _small_hbm_target(path: Path, hbm_bytes: int) -> Path:
    config = {
        "MLEN": 64, "VLEN": 64, "BLEN": 2, "HLEN": 16, "HBM_SIZE": hbm_bytes,
        "HBM_WIDTH": 1024, "MATRIX_SRAM_SIZE": 4096, "VECTOR_SRAM_SIZE": 1024,
        "HBM_M_Prefetch_Amount": 64, "HBM_V_Prefetch_Amount": 16,
        "HBM_V_Writeback_Amount": 16, "MAX_LOOP_INSTRUCTIONS": 1000, "DC_EN": 1,
    }
    mx = ('{ format = "Mx", block = 8, ELEM = { exponent = 4, mantissa = 3 }, '
          "SCALE = { exponent = 8, mantissa = 0, sign = false } }")
    lines = ["[BEHAVIOR.CONFIG]"] + [f"{k} = {{ value = {v} }}" for k, v in config.items()]
    lines += ["[BEHAVIOR.PRECISION]"] + [
        f"{k} = {mx}"
        for k in ("HBM_M_WEIGHT_TYPE", "HBM_M_KV_TYPE", "HBM_V_ACT_TYPE", "HBM_V_KV_TYPE")
    ]
    lines += ["[BEHAVIOR.LATENCY]"] + [
        f"{k} = {{ dc_lib_en = {v}, dc_lib_dis = {v} }}" for k, v in PLENA_TVM.latencies.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_small_target_from_toml_runs(tmp_path):
    toml = _small_hbm_target(tmp_path / "small.toml", 1 << 16)
    (tmp_path / "p.asm").write_text("S_ADDI_INT gp1, gp0, 1\n")
    result = plena_sim(tmp_path / "p.asm", "--target", toml, "--out-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "vram_dump.bin").stat().st_size == 1024 * 64 * 2


@pytest.mark.parametrize(
    "case, fragments",
    [
        ("missing program", ["cannot read program", "nothere.asm", "No such file"]),
        ("malformed asm", ["bad.asm:3:", "V_ADD_VV takes 4 operands"]),
        ("unknown mnemonic", ["bad.asm:1:", "unknown mnemonic 'M_FOO'"]),
        ("truncated mem", ["t.mem:3:", "'0x0000A", "truncated or garbled"]),
        ("garbled mem", ["t.mem:2:", "'zz12'", "truncated or garbled"]),
        ("binary program", ["bin.asm", "not a text file"]),
        ("missing hbm", ["cannot read HBM image", "no.bin"]),
        ("hbm too large", ["big.bin", "larger than the HBM"]),
        ("fp32 image not whole", ["odd.bin", "not a whole number of float32"]),
        ("fpram too large", ["fp.bin", "larger than FPRAM"]),
        ("intram too large", ["int.bin", "larger than INTRAM"]),
        ("unknown target", ["unknown target 'plena-xyz'"]),
        ("bad target toml", ["broken.toml", "not valid TOML"]),
        ("abort", ["pc 2 (line 3)", "V_ADD_VV gp1, gp0, gp0, 0", "not a multiple of VLEN"]),
        ("abort in mem", ["pc 0:", "0x0000003F", "opcode 0x3F is not an instruction"]),
        ("dma abort", ["pc 1", "H_PREFETCH_M gp1, gp0, a0, 0, 0", "not a multiple of MLEN^2"]),
    ],
)
def test_bad_input_is_one_error_line_with_status_1(case, fragments, tmp_path):
    p = tmp_path
    ok = p / "ok.asm"
    ok.write_text("S_ADDI_INT gp1, gp0, 1\n")
    args: list = [ok]
    if case == "missing program":
        args = [p / "nothere.asm"]
    elif case == "malformed asm":
        (p / "bad.asm").write_text("S_ADDI_INT gp1, gp0, 1\n\nV_ADD_VV gp1, gp2, gp3\n")
        args = [p / "bad.asm"]
    elif case == "unknown mnemonic":
        (p / "bad.asm").write_text("M_FOO gp1\n")
        args = [p / "bad.asm"]
    elif case == "truncated mem":
        (p / "t.mem").write_text("0x000000A2\n0x000000A2\n0x0000A\n")
        args = [p / "t.mem"]
    elif case == "garbled mem":
        (p / "t.mem").write_text("0x000000A2\nzz12\n")
        args = [p / "t.mem"]
    elif case == "binary program":
        (p / "bin.asm").write_bytes(b"\xff\xfe\x00\x80")
        args = [p / "bin.asm"]
    elif case == "missing hbm":
        args = [ok, "--hbm", p / "no.bin"]
    elif case == "hbm too large":
        (p / "big.bin").write_bytes(bytes(4096 + 64))
        args = [ok, "--hbm", p / "big.bin", "--target", _small_hbm_target(p / "s.toml", 4096)]
    elif case == "fp32 image not whole":
        (p / "odd.bin").write_bytes(bytes(6))
        args = [ok, "--hbm", p / "odd.bin", "--hbm-format", "fp32"]
    elif case == "fpram too large":
        (p / "fp.bin").write_bytes(bytes(2 * 65537))
        args = [ok, "--fpsram", p / "fp.bin"]
    elif case == "intram too large":
        (p / "int.bin").write_bytes(bytes(4 * 1025))
        args = [ok, "--intsram", p / "int.bin"]
    elif case == "unknown target":
        args = [ok, "--target", "plena-xyz"]
    elif case == "bad target toml":
        (p / "broken.toml").write_text("[BEHAVIOR\n")
        args = [ok, "--target", p / "broken.toml"]
    elif case == "abort":
        (p / "a.asm").write_text(
            "S_ADDI_INT gp2, gp0, 0\nS_ADDI_INT gp0, gp0, 3\nV_ADD_VV gp1, gp0, gp0, 0\n"
        )
        args = [p / "a.asm"]
    elif case == "abort in mem":
        (p / "x.mem").write_text("0x0000003F\n")
        args = [p / "x.mem"]
    elif case == "dma abort":
        (p / "d.asm").write_text("S_ADDI_INT gp1, gp0, 64\nH_PREFETCH_M gp1, gp0, a0, 0, 0\n")
        args = [p / "d.asm"]
    out = p / "out"
    assert_one_line_error(plena_sim(*args, "--out-dir", out), 1, *fragments)
    assert not out.exists()  # nothing is written when the input is bad or the run aborts


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "the following arguments are required: PROGRAM"),
        (["p.asm", "--hbm-format", "fp16"], "invalid choice: 'fp16'"),
        (["p.asm", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["p.asm", "--max-cycles", "-3"], "'-3' is not a non-negative integer"),
    ],
)
def test_usage_errors_exit_with_status_2(args, fragment):
    assert_one_line_error(plena_sim(*args), 2, fragment)


LOOP = "C_LOOP_START gp2, 300\nS_ADDI_INT gp1, gp1, 3\nS_ADDI_INT gp3, gp2, 1\nC_LOOP_END gp2\n"
RUNAWAY = LOOP.replace("gp3, gp2, 1", "gp2, gp2, 1")  # the loop never ends


@pytest.mark.parametrize(
    "program, budget, fragments",
    [
        (RUNAWAY, ["--max-instructions", "100"], [
            "pc 1 (line 2): S_ADDI_INT gp1, gp1, 3",
            "100 instructions used up the instruction budget of 100"]),
        (RUNAWAY, [], ["1,001,802 instructions used up the default instruction budget"]),
        (LOOP, ["--max-instructions", "900"], [
            "pc 0 (line 1): C_LOOP_START gp2, 300", "loops execute 901 instructions", "not run"]),
        (LOOP, ["--max-cycles", "50"], [
            "51 instructions and 51 cycles used up the cycle budget of 50"]),
    ],
)
def test_a_run_over_its_budget_is_one_line_with_status_2(program, budget, fragments, tmp_path):
    (tmp_path / "loop.asm").write_text(program)
    result = plena_sim(tmp_path / "loop.asm", *budget, "--out-dir", tmp_path / "out")
    assert_one_line_error(result, 2, "loop.asm: ", *fragments)
    assert not (tmp_path / "out").exists()


def test_a_run_within_its_budget_completes(tmp_path):
    (tmp_path / "loop.asm").write_text(LOOP)
    result = plena_sim(tmp_path / "loop.asm", "--max-instructions", "901", "--max-cycles", "901",
                       "--quiet", "--out-dir", tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads((tmp_path / "stats.json").read_text())["instructions"] == 901


def test_ctrl_c_prints_the_statistics_so_far(tmp_path, monkeypatch, capsys):
    def interrupted(self, program, *options):
        stats = Stats(10, 7, {"S_ADDI_INT": 7}, {"SCALAR_INT": 10}, 0, 0, 0.0)
        raise SimulationInterrupted(3, "S_ADDI_INT gp1, gp1, 3", stats)

    monkeypatch.setattr(Simulator, "run", interrupted)
    (tmp_path / "loop.asm").write_text(LOOP)
    assert cli.main([str(tmp_path / "loop.asm"), "--json", "--out-dir", str(tmp_path)]) == 130
    out, err = capsys.readouterr()
    assert json.loads(out)["instructions"] == 7
    assert err == ("plena-sim: interrupted at pc 3 (S_ADDI_INT gp1, gp1, 3) after 7 "
                   "instructions: the statistics so far\n")
    assert not (tmp_path / "stats.json").exists()


def test_timing_only_writes_the_full_runs_statistics_and_nothing_else(inputs, tmp_path):
    full = plena_sim(inputs["asm"], "--hbm", inputs["hbm"], "--json", "--out-dir",
                     tmp_path / "full")
    fast = plena_sim(inputs["asm"], "--hbm", inputs["hbm"], "--json", "--timing-only",
                     "--out-dir", tmp_path / "fast")
    assert full.returncode == fast.returncode == 0, fast.stderr
    assert json.loads(fast.stdout) == json.loads(full.stdout)
    assert sorted(p.name for p in (tmp_path / "fast").iterdir()) == ["stats.json"]
    assert_one_line_error(plena_sim(inputs["asm"], "--timing-only", "--show-vram", "0:1"), 2,
                          "--show-vram needs the values")
