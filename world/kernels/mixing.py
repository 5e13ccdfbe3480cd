"""The random streams' mixing (`world/rng.py`), a row at a time: each row's state takes each key
in turn, h = splitmix64(h ^ (key + golden)), in one pass instead of a dozen numpy passes per
key (on the few rows of a small shard, numpy's per-call cost is most of a draw's)."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
TO_UNIT = 1.0 / float(1 << 53)


@kernel(inline="always")
def _row(h, keys, i):  # type: ignore[no-untyped-def]
    """Row i's state, from `h[i]` (`h[0]` if `h` holds one), with keys[:, i] mixed in. (uint64
    constants throughout: numba takes uint64 mixed with int64 to float64.)"""
    x = h[0] if h.shape[0] == 1 else h[i]
    for j in range(keys.shape[0]):
        x = x ^ (np.uint64(keys[j, i]) + GOLDEN)
        x = x ^ (x >> S30)
        x = x * M1
        x = x ^ (x >> S27)
        x = x * M2
        x = x ^ (x >> S31)
    return x


@kernel()
def hashes(h: np.ndarray, keys: np.ndarray, out: np.ndarray) -> None:
    """`out[i]` (uint64) = the state `h` (one, or one per row) with the int64 `keys[:, i]`
    mixed in: what `rng._absorb` computes with numpy."""
    for i in range(out.shape[0]):
        out[i] = _row(h, keys, i)


@kernel()
def uniforms(h: np.ndarray, keys: np.ndarray, out: np.ndarray) -> None:
    """`out[i]` (float64 in [0, 1)) = the top 53 bits of `hashes`' row i, as `rng._unit`."""
    for i in range(out.shape[0]):
        out[i] = np.float64(_row(h, keys, i) >> S11) * TO_UNIT
