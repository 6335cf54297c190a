"""Integrity check-up (廉洁体检): the yearly psychological self-evaluation, grading, care measures."""
