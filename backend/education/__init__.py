"""Integrity education: hours recorded per person (imported, or lessons marked studied)."""
