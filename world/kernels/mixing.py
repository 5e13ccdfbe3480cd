"""The splitmix64 mixer of the random streams (world/rng.py), one pass over the keys."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / float(1 << 53)


@kernel(inline="always")
def mix(x: np.uint64) -> np.uint64:
    """splitmix64's finalizer (wrapping uint64 arithmetic)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@kernel()
def absorb(base: np.uint64, keys: np.ndarray) -> np.ndarray:
    """For each column j of `keys` (n_keys, n) int64: h = mix(base), then
    h = mix(h ^ (key + GOLDEN)) for keys[0, j], keys[1, j], ... in turn."""
    n_keys, n = keys.shape
    out = np.empty(n, np.uint64)
    start = mix(base)
    for j in range(n):
        h = start
        for i in range(n_keys):
            h = mix(h ^ (np.uint64(keys[i, j]) + _GOLDEN))
        out[j] = h
    return out


@kernel()
def spread(keys: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1): the top 53 bits of mix(keys ^ (k * GOLDEN)), elementwise over the
    flat, equally long `keys` (uint64) and `k` (int64)."""
    out = np.empty(len(keys), np.float64)
    for i in range(len(keys)):
        h = mix(keys[i] ^ (np.uint64(k[i]) * _GOLDEN))
        out[i] = np.float64(h >> _S11) * _TO_UNIT
    return out
