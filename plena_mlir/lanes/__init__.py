"""Lane expansion.

A kernel written one head per instance rewritten into `lane` IR, one module per step.
"""
