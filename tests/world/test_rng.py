"""The random streams: `hash64` is splitmix64 chained over its keys, element by element.

The reference below is the rule written one number at a time in Python ints; the streams must
give exactly its bits whatever mixes scalars and arrays, signed and unsigned, or broadcasts,
whether long keys are drawn at once or a chunk at a time, and whether numpy or the compiled
kernel mixes them (every test runs each way).
"""

from __future__ import annotations

import numpy as np
import pytest

from world import kernels
from world import rng as streams
from world.kernels import utilities
from world.rng import Draws, below, hash64, uniform

MASK = (1 << 64) - 1


@pytest.fixture(autouse=True, params=["at once", "in chunks of 3"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: keys as long as the tests' drawn whole, and in chunks of 3 rows (as a
    million-long key is drawn in chunks of rng.CHUNK)."""
    if request.param != "at once":
        monkeypatch.setattr(streams, "CHUNK", 3)


@pytest.fixture(autouse=True, params=["numpy", "kernel"])
def mixer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test with numpy's mixing (a process that has not loaded the kernels) and with
    `world/kernels/mixing.py` (one that has: the kernel is compiled on its first call)."""
    monkeypatch.setattr(kernels, "live", lambda: request.param == "kernel")


GOLDEN = 0x9E3779B97F4A7C15


def ref_mix(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def ref_hash(seed: int, stream: int, *keys: int) -> int:
    h = ref_mix((seed * 0x100000001B3 + stream) & MASK)
    for k in keys:
        h = ref_mix(h ^ ((k + GOLDEN) & MASK))
    return h


def reference(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    arrays = np.broadcast_arrays(*(np.asarray(k) for k in keys)) if keys else []
    shape = np.broadcast_shapes(*(np.shape(k) for k in keys)) or (1,)
    out = np.empty(shape, np.uint64)
    for at in np.ndindex(*shape):
        row = [int(np.int64(a[at] if a.ndim else a)) for a in arrays] if keys else []
        out[at] = ref_hash(seed, stream, *row)
    return out


rng = np.random.default_rng(5)
CASES = [
    (0, 0, ()),
    (5, 3, (7,)),
    (5, 3, (np.int64(-4), 2)),  # scalars only, one negative
    (1, 2, (rng.integers(-5, 1000, 50),)),
    (1, 2, (rng.integers(0, 100, 30).astype(np.uint32), 9, np.arange(30))),  # scalar between
    (2, 9, (rng.integers(0, 100, (20, 1)), 4, np.arange(5)[None, :])),  # broadcast
    (3, 4, (7, rng.integers(0, 1 << 40, 10), np.arange(10) < 5)),  # bool key
    (3, 4, (np.zeros(0, np.int64), 1)),  # no rows
    (3, 4, (np.int32(-3), np.array([1, -2], np.int8), -2)),  # small signed types
    ((1 << 62) + 5, 23, (2**40, np.arange(3, dtype=np.uint64) * (2**62))),  # wide values
    (6, 1, (np.array([1.7, -2.5, 0.0, 3e9]), 4)),  # floats truncate
    (6, 1, (np.arange(4), np.array([0.5, -1.5, 2.0, 9.9], np.float32))),
]


@pytest.mark.parametrize(("seed", "stream", "keys"), CASES)
def test_hash64_is_splitmix_chained_over_the_keys(seed, stream, keys) -> None:
    got = hash64(seed, stream, *keys)
    want = reference(seed, stream, *keys)
    assert got.dtype == np.uint64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_uniforms_and_integers_come_from_the_hash() -> None:
    """uniform is the hash's top 53 bits over 2^53; below(n) never reaches n."""
    ids = np.arange(1000)
    u = uniform(9, 4, ids, 17)
    np.testing.assert_array_equal(u, (hash64(9, 4, ids, 17) >> np.uint64(11)) / float(1 << 53))
    assert u.min() >= 0.0 and u.max() < 1.0 and 0.45 < u.mean() < 0.55
    b = below(9, 4, np.arange(1, 1001), ids, 17)
    assert (b >= 0).all() and (b < np.arange(1, 1001)).all()


@pytest.mark.parametrize(("seed", "stream", "keys"), CASES)
def test_draws_that_share_their_first_keys_are_the_same_draws(seed, stream, keys) -> None:
    """Draws(seed, stream, *first).X(*rest) is X(seed, stream, *first, *rest) for every split
    of the keys, however many times the shared prefix is drawn from (it is never changed)."""
    for cut in range(len(keys) + 1):
        first, rest = keys[:cut], keys[cut:]
        draws = Draws(seed, stream, *first)
        for _ in range(2):
            np.testing.assert_array_equal(draws.hash64(*rest), reference(seed, stream, *keys))
            np.testing.assert_array_equal(draws.uniform(*rest, 3), uniform(seed, stream, *keys, 3))
            np.testing.assert_array_equal(
                draws.below(7, *rest, 4), below(seed, stream, 7, *keys, 4)
            )


def test_a_choices_noise_is_one_mixing_round_of_its_key() -> None:
    """The heuristic's noise for action a (kernels/utilities.py): one mixing round of
    key ^ (a * golden), as a uniform."""
    keys = hash64(4, 2, np.arange(50))
    for key, a in zip(keys, np.arange(50) % 7, strict=True):
        want = (ref_mix(int(key) ^ ((int(a) * GOLDEN) & MASK)) >> 11) / float(1 << 53)
        assert utilities._noise(key, np.int64(a)) == want


@pytest.mark.parametrize(("seed", "stream", "keys"), CASES)
def test_a_draw_for_each_last_key_is_the_draws_one_at_a_time(seed, stream, keys) -> None:
    """Draws(...).uniform_each(last) stacks Draws(...).uniform(k) for each k in `last`."""
    draws = Draws(seed, stream, *keys)
    for last in ((0, 2, 3, 4, 5), (7,), (-1, 1 << 40), ()):
        got = draws.uniform_each(last)
        want = [draws.uniform(k) for k in last]
        assert got.dtype == np.float64
        if want:
            np.testing.assert_array_equal(got, np.stack(want))
        else:
            assert got.shape == (0, np.size(draws.uniform()))
