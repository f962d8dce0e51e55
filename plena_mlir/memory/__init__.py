"""Memory planning.

First-fit placement by live range, the FPRAM constant pool, on-chip buffer allocation.
"""
