"""Per-opcode semantic tests of the simulator against an independent NumPy reference model."""
