"""The kernel library: each module has `build(sizes...) -> ModuleOp` (tile IR, written with
`plena_mlir.builder`) and `golden(inputs, ...) -> outputs`, a NumPy model of the machine's
rounding points (the same as `interpret_kernel(..., mode="rounded")`)."""
