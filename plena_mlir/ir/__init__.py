"""IR helpers every pass shares.

On-chip and HBM address math, naming ops and buffers in diagnostics, {name = N} dictionaries.
"""
