"""Bounded memory: who a character knows (relationship slots) and what it remembers (episodes).

Each character has K relationship slots and E episode slots. A new acquaintance takes an empty
slot or evicts the least salient one (weak ties, no debts, long unseen); an open promise keeps a
slot from being forgotten. Updates that touch the same slot twice in one call are applied in
rounds, so the result is the sequential one whatever the batch looks like.
"""

from __future__ import annotations

import numpy as np

from world.characters import Characters

_RESET = {
    "rel_pos": 0.0,
    "rel_neg": 0.0,
    "rel_aff": 0.0,
    "rel_att": 0.0,
    "rel_balance": 0,
    "rel_gifts": 0,
    "rel_trades": 0,
    "rel_betrayals": 0,
    "rel_kept": 0,
    "rel_meetings": 0,
    "rel_theirs": -1,
    "rel_mine": -1,
    "rel_rep": 0.0,
    "rel_rep_n": 0,
    "rel_rep_src": -1,
    "rel_needy": -1000,
    "rel_open_in": 0,
    "rel_open_out": 0,
}


def occurrence(keys: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows share its key (0 for the first)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    start = np.ones(n, bool)
    start[1:] = sk[1:] != sk[:-1]
    group_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - group_start
    return rank


def rounds(keys: np.ndarray) -> list[np.ndarray]:
    """Row indices split into rounds in which no key repeats, keeping row order."""
    rank = occurrence(keys)
    return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1)] if len(keys) else []


def find(chars: Characters, local: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Slot of `other` in each `local` character's memory, or -1."""
    if len(local) == 0:
        return np.zeros(0, np.int64)
    eq = chars.rel_id[local] == np.asarray(other)[:, None]
    return np.where(eq.any(axis=1), eq.argmax(axis=1), -1)


def salience(chars: Characters, local: np.ndarray, tick: int) -> np.ndarray:
    """How much each slot of these characters matters; the least salient is forgotten first:
    weak ties (little attachment, affinity or opinion), no history of promises, long unseen.
    An open promise either way keeps a slot."""
    history = np.minimum(chars.rel_betrayals[local] + chars.rel_kept[local], 5).astype(np.float32)
    age = (tick - chars.rel_seen[local]).astype(np.float32)
    s = chars.rel_att[local] + np.abs(chars.rel_aff[local])
    s += np.abs(chars.rel_rep[local])
    s += 0.3 * history
    s += 20.0 / (20.0 + age)
    s += 100.0 * ((chars.rel_open_in[local] > 0) | (chars.rel_open_out[local] > 0))
    s[chars.rel_id[local] < 0] = -np.inf
    return s


def ensure(
    chars: Characters,
    local: np.ndarray,
    other: np.ndarray,
    tick: int,
    found: np.ndarray | None = None,
) -> np.ndarray:
    """Slot of `other` for each `local`, making room (forgetting the least salient) if needed.
    `found`, if given, is what `find` returned for the same rows just before."""
    local = np.asarray(local, np.int64)
    other = np.asarray(other, np.int64)
    slot = find(chars, local, other) if found is None else np.array(found, np.int64)
    missing = np.flatnonzero(slot < 0)
    if len(missing) == 0:
        return slot
    # new acquaintances, once per (character, other), in (character, other) order
    pair = local[missing] * (1 << 32) + other[missing]
    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    new_local = local[missing][first]
    new_other = other[missing][first]
    # each character's new acquaintances take, in order, its empty slots and then its least
    # salient ones, never a slot this call already relies on (what one-at-a-time would do)
    chars_new, start, count = np.unique(new_local, return_index=True, return_counts=True)
    empty = chars.rel_id[chars_new] < 0
    score = np.where(empty, -np.inf, np.inf).astype(np.float32)
    crowded = np.flatnonzero(count > empty.sum(axis=1))  # must forget someone
    if len(crowded):
        score[crowded] = salience(chars, chars_new[crowded], tick)
    known = slot >= 0
    row = np.searchsorted(chars_new, local[known])
    hit = chars_new[np.minimum(row, len(chars_new) - 1)] == local[known]
    score[row[hit], slot[known][hit]] = np.inf
    order = np.argsort(score, axis=1, kind="stable")
    room = (score < np.inf).sum(axis=1)
    which = np.repeat(np.arange(len(chars_new)), count)
    rank = np.arange(len(new_local)) - start[which]
    # more newcomers than free slots in one call (more than K strangers in a tick): the excess
    # share slot 0, the last one keeping it, as sequential insertion would leave it
    new_slot = np.where(rank < room[which], order[which, np.minimum(rank, chars.slots - 1)], 0)
    for name, fill in _RESET.items():
        getattr(chars, name)[new_local, new_slot] = fill
    chars.rel_id[new_local, new_slot] = new_other
    chars.rel_seen[new_local, new_slot] = tick
    slot[missing] = new_slot[inverse]
    return slot


def remember(
    chars: Characters,
    local: np.ndarray,
    kind: int | np.ndarray,
    who: np.ndarray,
    sal: np.ndarray | float,
    val: np.ndarray | float,
    tick: int,
) -> None:
    """Store episodes, each over the least salient one its character holds."""
    local = np.asarray(local, np.int64)
    if len(local) == 0:
        return
    kind_a = np.broadcast_to(np.asarray(kind, np.int8), local.shape)
    sal_a = np.broadcast_to(np.asarray(sal, np.float32), local.shape)
    val_a = np.broadcast_to(np.asarray(val, np.float32), local.shape)
    who_a = np.broadcast_to(np.asarray(who, np.int32), local.shape)
    for rnd in rounds(local):
        loc = local[rnd]
        score = np.where(chars.ep_kind[loc] < 0, -1.0, chars.ep_sal[loc])
        at = score.argmin(axis=1)
        chars.ep_tick[loc, at] = tick
        chars.ep_kind[loc, at] = kind_a[rnd]
        chars.ep_who[loc, at] = who_a[rnd]
        chars.ep_sal[loc, at] = sal_a[rnd]
        chars.ep_val[loc, at] = val_a[rnd]


def recall(
    chars: Characters, local: int, counterpart: int, tick: int, k: int = 5
) -> list[dict[str, float | int]]:
    """The k episodes that matter most now: salient, recent, and about this counterpart."""
    kinds = chars.ep_kind[local]
    live = np.flatnonzero(kinds >= 0)
    if len(live) == 0:
        return []
    age = (tick - chars.ep_tick[local, live]).astype(np.float32)
    score = (
        chars.ep_sal[local, live]
        + 0.5 / (1.0 + age / 10.0)
        + 1.0 * (chars.ep_who[local, live] == counterpart)
    )
    best = live[np.argsort(-score, kind="stable")[:k]]
    return [
        {
            "tick": int(chars.ep_tick[local, e]),
            "kind": int(chars.ep_kind[local, e]),
            "who": int(chars.ep_who[local, e]),
            "salience": float(chars.ep_sal[local, e]),
            "valence": float(chars.ep_val[local, e]),
        }
        for e in best
    ]
