"""The mail kernels give exactly what the numpy rules they replaced give: the orders of an inbox
and of a tick's decisions (`kernels/ordering.py`, against np.lexsort), and what speakers show
and say (`kernels/speech.py`). The references are the replaced numpy code, kept here only as
references.
"""

from __future__ import annotations

import numpy as np
import pytest

from world import emotion, memory
from world.characters import Characters
from world.kernels import ordering, speech
from world.outbox import SILENT
from world.phrases import MILD, NEUTRAL
from world.vocab import N_EMOTIONS, N_KINDS, Trait


@pytest.mark.parametrize(
    ("n", "firsts", "spread"),
    [(0, 1, 1), (1, 1, 1), (500, 40, 300), (3000, 2, 50), (2000, 1 << 31, 1 << 31)],
)
@pytest.mark.parametrize("keys", [2, 3])
def test_lexical_matches_lexsort(n: int, firsts: int, spread: int, keys: int) -> None:
    """ordering.lexical: np.lexsort's order (an inbox: recipient, sender, seq; decisions:
    character, situation, counterpart, ref), with few first keys (long runs, merge-sorted),
    first keys spread over the uint32 range (not counted), negative keys, rows equal in every
    key kept in row order, and rows in any order."""
    rng = np.random.default_rng(n + firsts + keys)
    first = rng.integers(0, firsts, n).astype(np.uint32)
    rest = np.stack(
        [rng.integers(-1, spread, n)] + [rng.integers(-2, 4, n) for _ in range(keys - 1)], axis=1
    ).astype(np.int64)
    want = np.lexsort((*rest.T[::-1], first))
    np.testing.assert_array_equal(ordering.lexical(first, rest), want)


@pytest.mark.parametrize("n", [0, 1, 2, 2000])
def test_in_order_is_whether_lexsort_keeps_the_rows(n: int) -> None:
    """ordering.in_order: true exactly when np.lexsort of (recipient, sender, seq) leaves the
    rows where they are: sorted rows (ties too) are in order, and one pair swapped is not."""
    rng = np.random.default_rng(60 + n)
    cols = [rng.integers(0, 30, n).astype(np.uint32), rng.integers(0, 4, n), rng.integers(0, 3, n)]
    order = np.lexsort(cols[::-1])
    first, second, third = (c[order] for c in cols)
    assert ordering.in_order(first, second, third)
    if n < 2:
        return
    for _ in range(200):  # two rows swapped: out of order unless they were equal
        i, j = sorted(rng.choice(n, 2, replace=False))
        cols = [c.copy() for c in (first, second, third)]
        for c in cols:
            c[[i, j]] = c[[j, i]]
        kept = np.array_equal(np.lexsort(cols[::-1]), np.arange(n))
        assert ordering.in_order(*cols) == kept


@pytest.mark.parametrize(
    "sizes", [[], [0], [5], [0, 0], [300, 0, 7], [1000, 1000], [1, 2, 3, 4, 5]]
)
def test_merged_places_is_where_lexsort_puts_each_run_row(sizes: list[int]) -> None:
    """ordering.merged_places: runs each in (recipient, sender, seq) order, merged, put every
    row where np.lexsort of all of them puts it (ties, rows equal in every key, in run order),
    empty runs included."""
    rng = np.random.default_rng(sum(sizes) + len(sizes))
    runs = []
    for m in sizes:
        cols = [rng.integers(0, 40, m), rng.integers(0, 5, m), rng.integers(0, 3, m)]
        order = np.lexsort(cols[::-1])
        runs.append([c[order].astype(np.uint32) for c in cols])
    first, second, third = (
        np.concatenate([r[k] for r in runs]) if runs else np.zeros(0, np.uint32) for k in range(3)
    )
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    got = ordering.merged_places(first, second, third, bounds)
    want = np.empty(len(first), np.int64)
    want[np.lexsort((third, second, first))] = np.arange(len(first))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("width", [1, 6])
def test_place_rows_writes_each_row_where_it_goes(width: int) -> None:
    """ordering.place_rows: numpy's out[places] = rows, for rows of one value and of several."""
    rng = np.random.default_rng(width)
    rows = rng.integers(0, 255, (500, width)).astype(np.uint8)
    places = rng.permutation(800)[:500]
    out = np.zeros((800, width), np.uint8)
    want = out.copy()
    want[places] = rows
    ordering.place_rows(out, places, rows)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("n", [0, 1, 3000])
def test_numbered_numbers_each_senders_envelopes_in_row_order(n: int) -> None:
    """ordering.numbered: a sender's rows get its next numbers in row order, from where its
    last number stood, and the last numbers move on by its rows (the numpy rule: a stable sort
    by sender, the place in each run)."""
    rng = np.random.default_rng(70 + n)
    local = rng.integers(0, 50, n)
    last = rng.integers(0, 1000, 50).astype(np.uint32)
    before = last.copy()
    got = ordering.numbered(local, last)
    order = np.argsort(local, kind="stable")
    sl = local[order]
    want = np.empty(n, np.uint32)
    want[order] = before[sl] + 1 + (np.arange(n) - np.searchsorted(sl, sl))
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(last, before + np.bincount(local, minlength=50))


def ref_shown(true: np.ndarray, traits: np.ndarray, close: np.ndarray) -> np.ndarray:
    """The numpy rule: masking, then the true feelings blended towards the mask."""
    shy = 1.0 - traits[:, Trait.EXPRESSIVENESS]
    m = np.clip(shy * (1.0 - 0.5 * close), 0.0, 1.0).astype(np.float32)[:, None]
    return (true * (1.0 - m) + emotion.MASK[None, :] * m).astype(np.float32)


def ref_quantize(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def ref_phrase_id(kind: np.ndarray, shown: np.ndarray) -> np.ndarray:
    face = np.where(shown.max(axis=1) < MILD, NEUTRAL, shown.argmax(axis=1))
    return (kind.astype(np.int64) * (N_EMOTIONS + 1) + face + 1).astype(np.uint16)


def test_shown_is_bit_identical() -> None:
    """emotion.shown: the numpy masking and blend, bit for bit, from open to shy speakers and
    from strangers to friends (feelings at 0 and 1 included)."""
    rng = np.random.default_rng(21)
    true = rng.random((400, N_EMOTIONS)).astype(np.float32)
    true[:20] = 0.0
    true[20:40] = 1.0
    traits = rng.random((400, len(Trait))).astype(np.float32)
    close = rng.random(400).astype(np.float32)
    close[::7] = 0.0
    got = emotion.shown(true, traits, close)
    np.testing.assert_array_equal(
        got.view(np.uint32), ref_shown(true, traits, close).view(np.uint32)
    )


@pytest.mark.parametrize("m", [0, 1, 700])
def test_speak_matches_numpy(m: int) -> None:
    """speech.speak: truth columns, shown feelings and phrases as the numpy rules give them,
    for silent and speaking kinds, strangers and known recipients (clipped closeness), mild
    and strong feelings, and ties between the strongest (the first wins)."""
    rng = np.random.default_rng(30 + m)
    n = 120
    chars = Characters(n, relationships=6)
    chars.emotion[:] = rng.random(chars.emotion.shape).astype(np.float32)
    chars.emotion[: n // 4] *= np.float32(0.3)  # mild: the neutral face
    chars.emotion[n // 4 : n // 3] = 0.8  # ties
    chars.standing[:] = rng.random(n).astype(np.float32)
    chars.traits[:] = rng.random(chars.traits.shape).astype(np.float32)
    chars.rel_id[:] = rng.integers(-1, 40, chars.rel_id.shape)
    chars.rel_att[:] = (rng.random(chars.rel_id.shape) * 2.5 - 0.5).astype(np.float32)
    chars.rel_aff[:] = (rng.random(chars.rel_id.shape) * 3 - 1.5).astype(np.float32)
    local = np.sort(rng.integers(0, n, m))
    recipient = rng.integers(0, 40, m).astype(np.uint32)
    kind = rng.integers(0, N_KINDS, m).astype(np.uint8)
    got = {
        "true_feeling": np.zeros((m, N_EMOTIONS), np.uint8),
        "true_standing": np.zeros(m, np.uint8),
        "shown": np.zeros((m, N_EMOTIONS), np.uint8),
        "phrase": np.zeros(m, np.uint16),
    }
    speech.speak(
        local, recipient, kind, SILENT, chars.emotion, chars.standing,
        chars.traits[:, Trait.EXPRESSIVENESS], chars.rel_id, chars.rel_att, chars.rel_aff,
        emotion.MASK, NEUTRAL, MILD, got["true_feeling"], got["true_standing"], got["shown"],
        got["phrase"],
    )  # fmt: skip
    want = {k: np.zeros_like(v) for k, v in got.items()}
    want["true_feeling"][:] = ref_quantize(chars.emotion[local])
    want["true_standing"][:] = chars.standing[local] >= 0.5
    rows = np.flatnonzero(~SILENT[kind])
    slot = memory.find(chars, local[rows], recipient[rows].astype(np.int64))
    close = np.zeros(len(rows), np.float32)
    known = slot >= 0
    lk, sk = local[rows][known], slot[known]
    close[known] = np.clip(
        0.5 * chars.rel_att[lk, sk] + 0.5 * np.maximum(chars.rel_aff[lk, sk], 0), 0, 1
    )
    shown = ref_shown(chars.emotion[local[rows]], chars.traits[local[rows]], close)
    want["shown"][rows] = ref_quantize(shown)
    want["phrase"][rows] = ref_phrase_id(kind[rows], want["shown"][rows])
    for k in got:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    if m > 1:  # the cases named above all met
        assert known.any() and (~known).any() and len(rows) < m
        assert ((want["phrase"][rows] - 1) % (N_EMOTIONS + 1) == NEUTRAL).any()
