"""Analyses of a `tile` kernel.

Index ranges, access bounds, buffer liveness, layout choice and the roofline.
"""
