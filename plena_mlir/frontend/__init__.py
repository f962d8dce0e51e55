"""Python front ends.

The `tile` kernel builder and the chain builder.
"""
