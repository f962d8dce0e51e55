"""Running compiled kernels and chains.

The simulator driver, golden comparison and run reports.
"""
