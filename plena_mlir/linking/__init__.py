"""plena-link-kernels' planning: reading a chain (`chain_reading`, `kernel_access`), its HBM
plan (`hbm_plan`) and the compilation of each call with pinned addresses (`stage_compile`)."""
