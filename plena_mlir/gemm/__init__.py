"""Gemm knowledge in one place.

The instruction forms, their cost, the choice, and what each leaves in C.
"""
