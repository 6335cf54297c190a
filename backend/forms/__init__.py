"""Statutory forms (B.3–B.14, the ladder's documents): filed from a case, signed off in order through
the approval engine, printed as PDF laid out like the standard's tables."""
