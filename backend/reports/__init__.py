"""Periodic reports (monthly, quarterly) of supervision results: PDF and XLSX, kept and answered."""
