"""Per-character random streams: counter-based, vectorized, independent of layout.

Every draw is a pure function of (seed, stream, character, tick, extra keys), computed with the
splitmix64 mixer over uint64 arrays: with numpy, or once the process has loaded the compiled
kernels (it steps a village) with `world/kernels/mixing.py`, which gives the same bits in one
pass where numpy takes a dozen per key. A character therefore sees the same numbers whether
it lives in a shard of one or of ten thousand, and whatever the order its shard visits it in;
no global generator exists anywhere in the world.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from enum import IntEnum

import numpy as np

from world import kernels
from world.kernels import mixing

_GOLDEN, _M1, _M2, _TO_UNIT = mixing.GOLDEN, mixing.M1, mixing.M2, mixing.TO_UNIT
_S30, _S27, _S31, _S11 = mixing.S30, mixing.S27, mixing.S31, mixing.S11
#: Keys longer than this are drawn a chunk at a time: mixing takes a dozen numpy passes, and a
#: chunk's temporaries (8 bytes an element) stay in a core's cache where a million-long key's
#: go out to memory on every pass (twice as fast at a million keys; bits unchanged, as each
#: draw depends on its own keys only).
CHUNK = 1 << 16


class Stream(IntEnum):
    """What a draw is for; each purpose is its own stream."""

    ROLE = 1
    TRAIT = 2
    MIND = 3
    BOUNDARY = 4
    NAME = 5
    ENDOWMENT = 6
    PRODUCE = 7
    ENCOUNTER = 8
    PARTNER = 9
    CHOICE = 10
    EXECUTION = 11
    ASSESSMENT = 12
    OBSERVE = 13
    WEAR = 14
    SICKNESS = 15
    SPOIL = 16
    STRATEGY = 17
    CULTURE = 18
    LLM = 19
    CONTINUE = 20  # classic games: whether a match goes on after a turn
    KNOW = 21  # classic games: whether a donor knows the recipient's reputation
    JOURNAL = 22  # which characters a sampled journal keeps (never a draw of the world)
    EVENT = 23  # whom a scenario's event touches (world/events.py)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, in place: `x` must be a temporary the caller gives away."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


_MASK = (1 << 64) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _mix_int(x: int) -> int:
    """splitmix64's finalizer on a Python int (what `_mix` does to one uint64)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _as_u64(k: np.ndarray) -> np.ndarray:
    """A new uint64 array of the key's bits as int64 (integers wrap, floats truncate)."""
    if k.dtype.kind in "iu":
        return k.astype(np.uint64)  # sign- or zero-extended, as through int64
    return k.astype(np.int64).astype(np.uint64)


def hash64(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    """64-bit hashes of (seed, stream, keys...), broadcast over the key arrays.

    Each key is mixed in turn: h = mix(h ^ (key + golden)). Until the first array key the
    state is one number, mixed as a Python int (the same bits, without numpy's per-call cost);
    after it, scalar keys are mixed into the state array in place."""
    h = _start(seed, stream)
    return _in_chunks(lambda ks, n: _draw(h, ks, False, n), keys, np.uint64)


def _rows_of(keys: tuple[np.ndarray | int, ...]) -> int | None:
    """The length of the keys' arrays where every key is a 1-D array of one length or a number
    (0: numbers only); None where numpy must broadcast them (a list, a 2-D array, lengths
    that differ)."""
    n = 0
    for k in keys:
        if isinstance(k, np.ndarray):
            if k.ndim == 0:
                continue
            if k.ndim > 1 or (n and len(k) != n):
                return None
            n = len(k)
        elif not isinstance(k, (int, np.generic)):  # a list, say: as numpy broadcasts it
            return None
    return n


def _in_chunks(
    draw: Callable[[tuple[np.ndarray | int, ...], int | None], np.ndarray],
    keys: tuple[np.ndarray | int, ...],
    dtype: type,
) -> np.ndarray:
    """`draw(keys, rows)` (`rows` as `_rows_of` gives it), a CHUNK of rows at a time when the
    keys are 1-D arrays (of one length) longer than that and scalars; at once otherwise."""
    n = _rows_of(keys)
    if n is None or n <= CHUNK:
        return draw(keys, n)
    out: np.ndarray = np.empty(n, dtype)
    for at in range(0, n, CHUNK):
        part = tuple(
            k[at : at + CHUNK] if isinstance(k, np.ndarray) and k.ndim else k for k in keys
        )
        out[at : at + CHUNK] = draw(part, min(CHUNK, n - at))
    return out


@functools.lru_cache(maxsize=256)
def _start(seed: int, stream: int) -> int:
    """The state a stream starts from (a world draws from a few streams of one seed: cached)."""
    return _mix_int((seed * 0x100000001B3 + stream) & _MASK)


def _absorb(
    h: int | np.ndarray, keys: tuple[np.ndarray | int, ...], owned: bool
) -> int | np.ndarray:
    """The state `h` with `keys` mixed in. An array state is changed in place only if it is
    `owned` (a temporary of this hash, not a prefix that `Draws` keeps)."""
    with np.errstate(over="ignore"):
        for k in keys:
            arr = np.asarray(k)
            if arr.ndim == 0:
                step = (int(arr.astype(np.int64)) + int(_GOLDEN)) & _MASK
                if isinstance(h, int):
                    h = _mix_int(h ^ step)
                elif owned:
                    h ^= np.uint64(step)
                    h = _mix(h)
                else:
                    h = _mix(np.bitwise_xor(h, np.uint64(step)))
                    owned = True
                continue
            u = _as_u64(arr)
            u += _GOLDEN
            if isinstance(h, int):
                u ^= np.uint64(h)
                h = _mix(u)
            else:
                h = _mix(np.bitwise_xor(h, u))
            owned = True
    return h


def _as_hashes(h: int | np.ndarray) -> np.ndarray:
    return np.array([h], np.uint64) if isinstance(h, int) else h


def _draw(
    h: int | np.ndarray, keys: tuple[np.ndarray | int, ...], unit: bool, n: int | None
) -> np.ndarray:
    """The state `h` (never changed: it may be a prefix that `Draws` keeps) with `keys` mixed
    in, as hashes or (`unit`) as uniforms in [0, 1): by the kernel where it applies, else with
    numpy (the same bits). `n` is what `_rows_of` gave for the state (if an array) and keys."""
    if n and kernels.live() and (isinstance(h, int) or h.ndim == 1):
        return _mixed(h, keys, unit, n)
    out = _absorb(h, keys, owned=False)
    if isinstance(out, np.ndarray) and out is h:
        out = out.copy()  # no key after the prefix: the caller gets its own array
    return _unit(_as_hashes(out)) if unit else _as_hashes(out)


@functools.lru_cache(maxsize=256)
def _state(h: int) -> np.ndarray:
    """A one-number state as the kernels take it (a stream's start, drawn from every tick:
    cached; the kernels never write it)."""
    return np.array([h], np.uint64)


def _mixed(
    h: int | np.ndarray, keys: tuple[np.ndarray | int, ...], unit: bool, n: int
) -> np.ndarray:
    """`_draw` by `mixing.hashes`/`mixing.uniforms`, for `n` rows: the state a number or a 1-D
    array of `n`, the keys 1-D arrays of `n` and numbers."""
    if isinstance(h, int):
        lead = 0  # numbers before the first array are mixed into the one-number state here
        for k in keys:
            if isinstance(k, np.ndarray) and k.ndim:
                break
            lead += 1
        if lead:
            h = _absorb(h, keys[:lead], owned=False)
            keys = keys[lead:]
        if isinstance(h, int):
            h = _state(h)
    rows = np.empty((len(keys), n), np.int64)
    for j, k in enumerate(keys):
        # cast as `_as_u64` casts: integers wrap, floats truncate (as assigning does), and a
        # Python int beyond int64 as numpy converts it
        if type(k) is int and not _INT64_MIN <= k <= _INT64_MAX:
            k = int(np.asarray(k).astype(np.int64))
        rows[j] = k
    out = np.empty(n, np.float64 if unit else np.uint64)
    (mixing.uniforms if unit else mixing.hashes)(h, rows, out)
    return out


class Draws:
    """Draws of one stream that share their first keys, mixed once: `Draws(seed, stream,
    *first).uniform(*rest)` is `uniform(seed, stream, *first, *rest)`, bit for bit, and the
    same for `hash64` and `below` (a rule that draws several times per character per tick
    mixes the character and the tick once)."""

    def __init__(self, seed: int, stream: int, *first: np.ndarray | int) -> None:
        start = _start(seed, stream)
        if any(isinstance(k, np.ndarray) and k.ndim for k in first):
            self._h: int | np.ndarray = _in_chunks(
                lambda ks, n: _draw(start, ks, False, n), first, np.uint64
            )
        else:
            self._h = _absorb(start, first, owned=True)

    def hash64(self, *rest: np.ndarray | int) -> np.ndarray:
        return _in_chunks(lambda ks, n: _draw(ks[0], ks[1:], False, n), (self._h, *rest), np.uint64)

    def uniform(self, *rest: np.ndarray | int) -> np.ndarray:
        return _in_chunks(lambda ks, n: _draw(ks[0], ks[1:], True, n), (self._h, *rest), float)

    def below(self, n: np.ndarray | int, *rest: np.ndarray | int) -> np.ndarray:
        return _below(self.uniform(*rest), n)

    def uniform_each(self, last: Sequence[int]) -> np.ndarray:
        """(len(last), rows): row j is `self.uniform(last[j])`, bit for bit; in one call of
        `mixing.uniforms_each` where the shared keys made a row per character (a rule that
        draws once for each good, or each way to meet someone, calls once, not once a key)."""
        if kernels.live() and isinstance(self._h, np.ndarray) and self._h.ndim == 1:
            keys = np.array([int(k) for k in last], np.int64)
            out = np.empty((len(keys), len(self._h)), np.float64)
            mixing.uniforms_each(self._h, keys, out)
            return out
        rows = [self.uniform(int(k)) for k in last]
        return np.stack(rows) if rows else np.empty((0, np.size(self._h)), np.float64)


def uniform(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1), one per broadcast key."""
    h = _start(seed, stream)
    return _in_chunks(lambda ks, n: _draw(h, ks, True, n), keys, float)


def below(seed: int, stream: int, n: np.ndarray | int, *keys: np.ndarray | int) -> np.ndarray:
    """Integers uniform in [0, n), one per broadcast key (n may be an array)."""
    return _below(uniform(seed, stream, *keys), n)


def _unit(h: np.ndarray) -> np.ndarray:
    return (h >> _S11).astype(np.float64) * _TO_UNIT


def _below(u: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    return np.minimum((u * np.asarray(n)).astype(np.int64), np.asarray(n) - 1)


def normalish(seed: int, stream: int, *keys: np.ndarray | int) -> np.ndarray:
    """Approximately standard-normal draws (sum of four uniforms, rescaled).

    Only arithmetic, no transcendental functions, so the bits never depend on which SIMD path
    numpy takes for an element.
    """
    total = np.zeros(np.broadcast_shapes(*(np.shape(k) for k in keys)) or (1,), np.float64)
    for part in range(4):
        total = total + uniform(seed, stream, *keys, part)
    return (total - 2.0) * 1.7320508075688772  # sqrt(12 / 4)
