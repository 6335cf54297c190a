"""Synthetic demo organisation: generated, no real people."""
