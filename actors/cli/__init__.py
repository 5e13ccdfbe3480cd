"""The `socius` command line: one module per command, shared flags, dispatch."""
