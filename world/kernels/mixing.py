"""The random streams' mixing (`world/rng.py`): each row's state takes each key in turn,
h = splitmix64(h ^ (key + golden)), in one compiled pass per key over the rows instead of a
dozen numpy passes per key (on the few rows of a small shard, numpy's per-call cost is most of
a draw's)."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
TO_UNIT = 1.0 / float(1 << 53)


@kernel(inline="always")
def _splitmix(x):  # type: ignore[no-untyped-def]
    """splitmix64's finalizer of one uint64. (uint64 constants throughout: numba takes uint64
    mixed with int64 to float64.)"""
    x = x ^ (x >> S30)
    x = x * M1
    x = x ^ (x >> S27)
    x = x * M2
    return x ^ (x >> S31)


@kernel(inline="always")
def _unit(x):  # type: ignore[no-untyped-def]
    """The top 53 bits of a uint64 as a float64 in [0, 1), as `rng._unit`."""
    return np.float64(x >> S11) * TO_UNIT


@kernel()
def _mix_in(h, keys, out):  # type: ignore[no-untyped-def]
    """`out[i]` (uint64) = `h[i]` (`h[0]` if `h` holds one) with keys[:, i] mixed in, a key
    at a time over every row: the rows' mixes are independent, so the pass over them is
    vectorized (64-bit products side by side), where a row at a time chains each key's mix
    on the last (3 times faster at 16,000 rows and 5 keys)."""
    if h.shape[0] == 1:
        out[:] = h[0]
    else:
        out[:] = h
    for j in range(keys.shape[0]):
        for i in range(out.shape[0]):
            out[i] = _splitmix(out[i] ^ (np.uint64(keys[j, i]) + GOLDEN))


@kernel()
def hashes(h: np.ndarray, keys: np.ndarray, out: np.ndarray) -> None:
    """`out[i]` (uint64) = the state `h` (one, or one per row) with the int64 `keys[:, i]`
    mixed in: what `rng._absorb` computes with numpy."""
    _mix_in(h, keys, out)


@kernel()
def uniforms(h: np.ndarray, keys: np.ndarray, out: np.ndarray) -> None:
    """`out[i]` (float64 in [0, 1)) = `_unit` of `hashes`' row i. (The hashes are mixed in
    `out`'s own bytes, seen as uint64, then each is turned into its float in place.)"""
    bits = out.view(np.uint64)
    _mix_in(h, keys, bits)
    for i in range(out.shape[0]):
        out[i] = _unit(bits[i])


@kernel()
def uniforms_each(h: np.ndarray, last: np.ndarray, out: np.ndarray) -> None:
    """`out[j, i]` (float64 in [0, 1)) = `uniforms` of the state `h[i]` with the one key
    `last[j]` mixed in: a draw a row for each of a few last keys, in one call."""
    for j in range(last.shape[0]):
        step = np.uint64(last[j]) + GOLDEN
        for i in range(h.shape[0]):
            out[j, i] = _unit(_splitmix(h[i] ^ step))
