"""Per-op lowering of `lane` ops.

The tile walkers on lane slabs, lane loops unrolled.
"""
