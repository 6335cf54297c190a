"""The kernel: settings, database, errors, time, access primitives. Depends on nothing of ours."""
