"""Use cases: one function per command or query, each working inside the caller's unit of work."""
