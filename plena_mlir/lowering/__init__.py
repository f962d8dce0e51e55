"""Per-op lowering helpers of `convert-lane-to-plena` (passes/convert_lane_to_plena.py).

`emitter.py` builds `plena` ops on virtual registers (constants, address arithmetic, hardware
loops); `kernel.py` lowers one `tile.kernel` (grid, `scf.for`, `arith` index math) and
dispatches each op: a tile op to `tile/` (`dma.py` and `onchip_copy.py` copies, `vector.py`
VRAM tile ops and reductions, `scalar.py` FPRAM scalar ops and fills, `gemm.py` the chosen
gemm form), a lane op to `lane/` (the same walkers on lane slabs, lane loops unrolled).
"""
