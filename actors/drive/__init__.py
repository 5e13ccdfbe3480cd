"""One path that drives a world: its runtime, ticks, run record, metrics and progress."""
