"""Number formats and rounding points.

Shared by the simulator, the interpreters and the kernel goldens: `hbm_format` (how a tensor
sits in HBM, pure integer math), `formats` (bf16/fp16 rounding and the MXFP8 codec) and
`rounding` (the rounding points of the machine, as interpreters and goldens model them).
"""
