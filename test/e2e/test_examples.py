"""The shipped example programs, run through the `plena-sim` CLI, against NumPy goldens.

Goldens model the machine's rounding points with ml_dtypes, independently of the simulator:
MXFP8 inputs as decoded from the image, f32 products and sums, bf16 on every VRAM write, fp16
in FP registers, and the store-side MXFP8 encoder for the HBM copy of the result.  Every
element is compared and the error is reported.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np

from plena_mlir.numerics.formats import mx_quantize
from plena_mlir.sim.image import read_hbm_tensor

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PLENA_SIM = Path(sys.executable).with_name("plena-sim")


def bf16(x):
    return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)


def fp16(x):
    return np.asarray(x, np.float32).astype(np.float16).astype(np.float32)


def run_example(tmp_path: Path, program: str, *files: str) -> tuple[dict, np.ndarray, bytes]:
    """Run plena-sim; return its stats, the VRAM dump as float32 rows, and the HBM dump."""
    flags = {"hbm.bin": "--hbm", "fpsram.bin": "--fpsram"}
    cmd = [str(PLENA_SIM), str(EXAMPLES / program), "--out-dir", str(tmp_path), "--json"]
    for f in files:
        cmd += [flags[Path(f).name], str(EXAMPLES / f)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    vram = np.frombuffer((tmp_path / "vram_dump.bin").read_bytes(), ml_dtypes.bfloat16)
    return (
        json.loads(result.stdout),
        vram.astype(np.float32).reshape(-1, 64),
        (tmp_path / "hbm_dump.bin").read_bytes(),
    )


def assert_matches(actual: np.ndarray, golden: np.ndarray, what: str, ulps: int = 0) -> None:
    """Every element equal, or within `ulps` bf16 units in the last place; report the error."""
    err = np.abs(actual.astype(np.float64) - golden)
    ulp = np.maximum(np.abs(golden), np.finfo(np.float32).tiny) * 2.0**-7
    worst = np.unravel_index(np.argmax(err / ulp), err.shape)
    assert np.all(err <= ulps * ulp), (
        f"{what}: max abs error {err.max():.3g}, mean {err.mean():.3g}, worst at {worst}: "
        f"{actual[worst]} vs golden {golden[worst]}"
    )


def test_committed_inputs_are_reproducible():
    spec = importlib.util.spec_from_file_location("make_inputs", EXAMPLES / "make_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, data in module.example_files().items():
        assert path.read_bytes() == data, f"{path} is stale: run python examples/make_inputs.py"


def test_gemm_example(tmp_path):
    stats, vram, hbm = run_example(tmp_path, "gemm/gemm.asm", "gemm/hbm.bin")
    image = (EXAMPLES / "gemm" / "hbm.bin").read_bytes()
    a = read_hbm_tensor(image, 0, (64, 128))
    w = read_hbm_tensor(image, 9216, (128, 64))
    # A in VRAM, column-block major: block kt holds columns kt*64 .. kt*64+63.
    assert_matches(vram[0:64], bf16(a[:, :64]), "A block 0 in VRAM")
    assert_matches(vram[64:128], bf16(a[:, 64:]), "A block 1 in VRAM")
    # C accumulates two f32 K tiles, rounded to bf16 once at the write-out.  The f32 sums may
    # be added in another order than NumPy's, which can move a result by one bf16 ulp.
    acc = (a[:, :64] @ w[:64]).astype(np.float32) + (a[:, 64:] @ w[64:]).astype(np.float32)
    c = bf16(acc)
    assert_matches(vram[128:192], c, "C in VRAM", ulps=1)
    assert_matches(read_hbm_tensor(hbm, 18432, (64, 64)), mx_quantize(vram[128:192], "tvm"),
                   "C stored to HBM")
    assert stats["per_opcode"]["M_MM"] == 2048 and stats["per_opcode"]["M_MM_WO"] == 1024
    assert stats["per_class_cycles"]["MATRIX"] == 2048 * 64 + 1024


def softmax_golden(s: np.ndarray) -> np.ndarray:
    """The program's per-head softmax, step by step with the machine's rounding."""
    rows = bf16(s).copy()
    for h in range(4):
        x = rows[:, 16 * h : 16 * h + 16]
        m = fp16(np.maximum(x.max(axis=1), -np.inf))[:, None]  # V_RED_MAX into f1 = -inf
        e = bf16(np.exp(bf16(x - m)))  # V_SUB_VF then V_EXP_V
        total = fp16(e.sum(axis=1, dtype=np.float32))[:, None]  # V_RED_SUM into f2 = 0
        rows[:, 16 * h : 16 * h + 16] = bf16(e * fp16(1.0 / total))  # S_RECI_FP, V_MUL_VF
    return rows


def test_masked_softmax_example(tmp_path):
    stats, vram, hbm = run_example(
        tmp_path, "softmax/softmax.asm", "softmax/hbm.bin", "softmax/fpsram.bin"
    )
    s = read_hbm_tensor((EXAMPLES / "softmax" / "hbm.bin").read_bytes(), 0, (64, 64))
    p = softmax_golden(s)
    assert_matches(vram[0:64], p, "softmax rows in VRAM")
    np.testing.assert_allclose(p.reshape(64, 4, 16).sum(axis=2), 1.0, atol=0.03)
    assert_matches(read_hbm_tensor(hbm, 4608, (64, 64)), mx_quantize(p, "tvm"), "P in HBM")
    assert stats["per_opcode"]["V_RED_SUM"] == 64 * 4
