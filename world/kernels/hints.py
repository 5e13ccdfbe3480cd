"""Hints to the CPU from inside a kernel: `prefetch(column, row)` asks for the cache line where
row `row` of `column` starts, a few rows before the kernel reads or writes it.

A kernel that visits rows of a large table in an order the hardware cannot guess (the senders of
a tick's mail, the characters meeting newcomers) waits on memory at each row; asking for the row
that comes a few iterations later lets those waits overlap. A hint never changes a result: it
moves no data the kernel sees, and in plain Python it does nothing. Inside a compiled kernel it
is one `llvm.prefetch` instruction (`world/kernels/prefetching.py`, loaded with numba).
"""

from __future__ import annotations

import numpy as np

#: How many rows ahead a kernel asks for: enough that a row from memory (~100 ns) arrives before
#: it is used, few enough that the lines asked for stay in the first-level cache.
AHEAD = 8


def prefetch(column: np.ndarray, row: int) -> None:
    """Ask for the line holding the start of `column[row]` (1-D: the element; 2-D: the row),
    for writing. Nothing in Python; a prefetch instruction in a kernel."""
