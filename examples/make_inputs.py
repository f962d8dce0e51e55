"""Writes the input files of the example programs (deterministic: run it to re-create them).

    python examples/make_inputs.py

examples/gemm/hbm.bin      A (64 x 128) at byte 0 and W (128 x 64) at byte 9216, MXFP8
examples/softmax/hbm.bin   S (64 x 64) at byte 0, MXFP8
examples/softmax/fpsram.bin  FPRAM slot 0 = 0.0, slot 1 = -inf (fp16)

The images use the published HBM image layout (elements, then scales, per tensor).
"""

from pathlib import Path

import numpy as np

from plena_mlir.sim.image import build_hbm_image

HERE = Path(__file__).resolve().parent


def gemm_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.uniform(-2.0, 2.0, (64, 128)).astype(np.float32)
    w = rng.uniform(-1.0, 1.0, (128, 64)).astype(np.float32)
    return [a, w]


def softmax_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [(2.0 * rng.standard_normal((64, 64))).astype(np.float32)]


def example_files() -> dict[Path, bytes]:
    """Every generated file and its contents."""
    return {
        HERE / "gemm" / "hbm.bin": build_hbm_image(gemm_inputs())[0],
        HERE / "softmax" / "hbm.bin": build_hbm_image(softmax_inputs())[0],
        HERE / "softmax" / "fpsram.bin": np.array([0.0, -np.inf], np.float16).tobytes(),
    }


if __name__ == "__main__":
    for path, data in example_files().items():
        path.write_bytes(data)
        print(f"wrote {path.relative_to(HERE.parent)} ({len(data)} bytes)")
