"""Coding interview and document evidence with the leadership–institution–mechanism codebook."""
