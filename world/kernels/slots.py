"""The relationship slot layer: which slot holds whom, how much a slot matters, making room for
newcomers, and reading one slot per row.

Rows of the (characters, K) `rel_*` matrices are scanned one character at a time, so a lookup
touches one cache line or two instead of a (rows, K) temporary per numpy step.
"""

from __future__ import annotations

import numpy as np

from world.kernels import kernel
from world.kernels.hints import AHEAD, prefetch

_F20 = np.float32(20.0)
_F03 = np.float32(0.3)
_F100 = np.float32(100.0)
_NEG_INF = np.float32(-np.inf)
_POS_INF = np.float32(np.inf)


@kernel()
def find(rel_id: np.ndarray, local: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The first slot of `other[i]` in row `local[i]` of `rel_id`, or -1. (Every slot of the
    row is compared, the first match kept by a running minimum, without a branch: the slots
    are compared side by side, 1.6 times as fast as stopping at the match.)"""
    k = rel_id.shape[1]
    n = len(local)
    out = np.empty(n, np.int64)
    for i in range(n):
        if i + AHEAD < n:
            prefetch(rel_id, local[i + AHEAD])
        row, who = local[i], other[i]
        first = k
        for s in range(k):
            first = min(first, s if rel_id[row, s] == who else k)
        out[i] = first if first < k else -1
    return out


@kernel(inline="always")
def _salience(att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, row, s, tick):  # type: ignore[no-untyped-def]
    """How much slot `s` of `row` matters (-inf where empty): weighed for every slot and then
    chosen, without a branch, so a row's slots are weighed side by side (SIMD)."""
    history = np.float32(min(betrayals[row, s] + kept[row, s], 5))
    age = np.float32(np.int32(tick) - seen[row, s])
    v = att[row, s] + abs(aff[row, s])
    v += abs(rep[row, s])
    v += _F03 * history
    v += _F20 / (_F20 + age)
    v = v + _F100 if (open_in[row, s] > 0) | (open_out[row, s] > 0) else v
    return _NEG_INF if rel_id[row, s] < 0 else v


@kernel()
def salience(
    att: np.ndarray,
    aff: np.ndarray,
    rep: np.ndarray,
    betrayals: np.ndarray,
    kept: np.ndarray,
    seen: np.ndarray,
    open_in: np.ndarray,
    open_out: np.ndarray,
    rel_id: np.ndarray,
    local: np.ndarray,
    tick: int,
) -> np.ndarray:
    """(len(local), K) float32: how much each slot matters (-inf where empty)."""
    k = rel_id.shape[1]
    out = np.empty((len(local), k), np.float32)
    for i in range(len(local)):
        row = local[i]
        for s in range(k):
            out[i, s] = _salience(
                att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, row, s, tick
            )
    return out


@kernel()
def make_room(
    att: np.ndarray,
    aff: np.ndarray,
    rep: np.ndarray,
    betrayals: np.ndarray,
    kept: np.ndarray,
    seen: np.ndarray,
    open_in: np.ndarray,
    open_out: np.ndarray,
    rel_id: np.ndarray,
    tick: int,
    local: np.ndarray,
    other: np.ndarray,
    slot: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slots of the rows `slot` < 0 filled in place: each distinct (local, other) pair
    among them is a newcomer (newcomers in (local, other) order). A character's newcomers take
    its empty slots in slot order, then (if it must forget someone) its least salient slots,
    salience measured once before any is taken (ties by slot order), never a slot the other
    rows hold; newcomers beyond the free slots all get slot 0 (the caller's last write keeps
    it), as one-at-a-time insertion leaves it. Returns the newcomers' (local, other, slot)."""
    n_rows = len(slot)
    m = 0
    for i in range(n_rows):
        if slot[i] < 0:
            m += 1
    missing = np.empty(m, np.int64)
    known_local = np.empty(n_rows - m, np.int64)
    known_slot = np.empty(n_rows - m, np.int64)
    a, b = 0, 0
    for i in range(n_rows):
        if slot[i] < 0:
            missing[a] = i
            a += 1
        else:
            known_local[b], known_slot[b] = local[i], slot[i]
            b += 1
    pair = np.empty(m, np.int64)
    for j in range(m):
        pair[j] = local[missing[j]] * (1 << 32) + other[missing[j]]
    in_order = True  # (rows in (local, other) order, as an inbox's are: no sort needed)
    for j in range(1, m):
        if pair[j] < pair[j - 1]:
            in_order = False
            break
    order = np.arange(m) if in_order else np.argsort(pair, kind="mergesort")
    newcomer = np.empty(m, np.int64)  # the newcomer each missing row is
    first = np.empty(m, np.int64)  # a row of each newcomer
    g = -1
    for j in range(m):
        if j == 0 or pair[order[j]] != pair[order[j - 1]]:
            g += 1
            first[g] = missing[order[j]]
        newcomer[order[j]] = g
    g += 1
    new_local = np.empty(g, np.int64)
    new_other = np.empty(g, np.int64)
    for j in range(g):
        new_local[j] = local[first[j]]
        new_other[j] = other[first[j]]
    new_slot = _room(
        att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, tick,
        new_local, known_local, known_slot,
    )  # fmt: skip
    for j in range(m):
        slot[missing[j]] = new_slot[newcomer[j]]
    return new_local, new_other, new_slot


@kernel(inline="always")
def _room(  # type: ignore[no-untyped-def]
    att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, tick,
    new_local, known_local, known_slot,
):  # fmt: skip
    """The slot each newcomer of `new_local` (sorted, a character's newcomers together) takes,
    never one of (`known_local`, `known_slot`)."""
    k = rel_id.shape[1]
    m = len(new_local)
    out = np.zeros(m, np.int64)
    if m == 0:
        return out
    # the characters meeting newcomers, and where their newcomers start
    starts = np.empty(m + 1, np.int64)
    g = 0
    for i in range(m):
        if i == 0 or new_local[i] != new_local[i - 1]:
            starts[g] = i
            g += 1
    starts[g] = m
    rows = np.empty(g, np.int64)
    for j in range(g):
        rows[j] = new_local[starts[j]]
    # the slots this call relies on, by character
    relied = np.zeros((g, k), np.bool_)
    at = 0
    for j in range(len(known_local)):
        who = known_local[j]
        if j == 0 or who < known_local[j - 1]:  # not in order (or first): binary search
            lo, hi = 0, g
            while lo < hi:
                mid = (lo + hi) // 2
                if rows[mid] < who:
                    lo = mid + 1
                else:
                    hi = mid
            at = lo
        while at < g and rows[at] < who:  # in order: walk on
            at += 1
        if at < g and rows[at] == who:
            relied[at, known_slot[j]] = True
    score = np.empty(k, np.float32)
    for j in range(g):
        if j + AHEAD < g:
            _ask_for_row(
                att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, rows[j + AHEAD]
            )
        row, start = rows[j], starts[j]
        count = starts[j + 1] - start
        empty = 0
        for s in range(k):
            if rel_id[row, s] < 0:
                empty += 1
        crowded = count > empty
        if crowded:  # (every slot weighed, then the ones relied on kept)
            for s in range(k):
                score[s] = _salience(
                    att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, row, s, tick
                )
        else:  # (only empty slots are taken)
            for s in range(k):
                score[s] = _NEG_INF if rel_id[row, s] < 0 else _POS_INF
        for s in range(k):
            score[s] = _POS_INF if relied[j, s] else score[s]
        # the first `count` slots in (score, slot) order, as a stable sort would give them;
        # only slots scoring below +inf can be taken
        room = 0
        for s in range(k):
            if score[s] < _POS_INF:
                room += 1
        for r in range(min(count, room)):
            at, best = -1, _POS_INF
            for s in range(k):
                if score[s] < best:
                    at, best = s, score[s]
            out[start + r] = at
            score[at] = _POS_INF  # taken
    return out


@kernel(inline="always")
def _ask_for_row(att, aff, rep, betrayals, kept, seen, open_in, open_out, rel_id, row):  # type: ignore[no-untyped-def]
    """Prefetch a character's row of every column salience reads."""
    prefetch(att, row)
    prefetch(aff, row)
    prefetch(rep, row)
    prefetch(betrayals, row)
    prefetch(kept, row)
    prefetch(seen, row)
    prefetch(open_in, row)
    prefetch(open_out, row)
    prefetch(rel_id, row)


@kernel()
def gather(values: np.ndarray, local: np.ndarray, slot: np.ndarray, default: float) -> np.ndarray:
    """float64 `values[local[i], slot[i]]`, `default` where `slot[i]` < 0."""
    out = np.empty(len(local), np.float64)
    for i in range(len(local)):
        s = slot[i]
        out[i] = values[local[i], s] if s >= 0 else default
    return out


@kernel()
def fill(at: np.ndarray, columns: tuple[np.ndarray, ...], values: tuple[float, ...]) -> None:
    """`columns[j][at[i]] = values[j]` for every flat position `at[i]` of every column (columns
    of one dtype, flat views): a forgotten slot's fields back to their empty values, each
    position's row of fields written together."""
    n = len(at)
    for i in range(n):
        if i + AHEAD < n:
            for j in range(len(columns)):
                prefetch(columns[j], at[i + AHEAD])
        p = at[i]
        for j in range(len(columns)):
            columns[j][p] = values[j]


@kernel()
def views_right(
    rep_n: np.ndarray, rep: np.ndarray, local: np.ndarray, slot: np.ndarray, truth: np.ndarray
) -> tuple[int, int]:
    """Of the rows whose `slot` (-1: none) holds a view of someone's standing behind a
    judgement (`rep_n` > 0): how many, and how many were right (a good view, `rep` >= 0, of
    someone whose `truth` is above 0, or a bad view of someone whose is not)."""
    judged, right = 0, 0
    for i in range(len(local)):
        s = slot[i]
        if s >= 0 and rep_n[local[i], s] > 0:
            judged += 1
            if (rep[local[i], s] >= 0) == (truth[i] > 0):
                right += 1
    return judged, right


@kernel()
def met(
    meetings: np.ndarray, seen: np.ndarray, local: np.ndarray, slot: np.ndarray, tick: int
) -> None:
    """Each row's character met the one in its `slot`: one meeting more, last seen at `tick`."""
    for i in range(len(local)):
        meetings[local[i], slot[i]] += 1
        seen[local[i], slot[i]] = tick
