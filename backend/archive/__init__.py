"""One case, one file (一事一档): a case's whole file as one PDF and a ZIP with its original photos
and a manifest of SHA-256 hashes; the archive browsed by topic, department, person and year
(standard 11.2.1), within the caller's scope."""
