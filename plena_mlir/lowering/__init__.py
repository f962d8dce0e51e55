"""Per-op lowering helpers of `convert-lane-to-plena` (passes/convert_lane_to_plena.py).

`emitter.py` builds `plena` ops on virtual registers (constants, address arithmetic, hardware
loops); `kernel.py` lowers one `tile.kernel` (grid, `scf.for`, `arith` index math) and
dispatches each tile op to `dma.py` (copies), `vector.py` (VRAM tile ops and reductions) or
`scalar.py` (FPRAM scalar ops and fills).
"""
