"""Where each character of a one-segment placement lives (`world/placement.py`): its block, or
its row in its block, in one pass."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel


@kernel()
def blocks(ids: np.ndarray, q: int, r: int, starts: np.ndarray, rows: bool) -> np.ndarray:
    """Each id's block among r blocks of q + 1 ids then blocks of q (`placement._block`), or
    (`rows`) its offset from that block's first id, `starts[block]`."""
    out = np.empty(len(ids), np.int64)
    big = r * (q + 1)
    step = max(q, 1)
    for i in range(len(ids)):
        o = ids[i]
        s = o // (q + 1) if o < big else r + (o - big) // step
        if rows:
            if s < 0 or s >= len(starts):
                raise IndexError("an id outside the placement")
            out[i] = o - starts[s]
        else:
            out[i] = s
    return out
