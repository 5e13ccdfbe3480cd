"""Encounters: whom a character seeks among those it knows, and whom it would gossip about."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

_F02 = np.float32(0.2)
_F0 = np.float32(0.0)


@kernel()
def known_partner(
    rel_id: np.ndarray,
    att: np.ndarray,
    aff: np.ndarray,
    meetings: np.ndarray,
    rows: np.ndarray,
    draw: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each of `rows`: whether it knows anyone, and the one it picks with the uniform
    `draw`, each known slot weighted 0.2 + attachment + max(affinity, 0) + 0.05 min(meetings,
    10) (the pick is the slot past which the running sum of weights first exceeds the draw
    times their total; an empty slot weighs nothing)."""
    k = rel_id.shape[1]
    n = len(rows)
    partner = np.empty(n, np.int64)
    has = np.zeros(n, np.bool_)
    wc = np.empty(k, np.float64)
    for i in range(n):
        row = rows[i]
        total = 0.0
        for s in range(k):
            if rel_id[row, s] >= 0:
                has[i] = True
                near = np.float64((_F02 + att[row, s]) + max(aff[row, s], _F0))
                total += near + 0.05 * np.float64(min(meetings[row, s], 10))
            else:
                total += 0.0
            wc[s] = total
        pick = draw[i] * max(total, 1e-9)
        past = 0
        for s in range(k):
            if pick >= wc[s]:
                past += 1
        partner[i] = rel_id[row, min(past, k - 1)]
    return partner, has


@kernel(inline="always")
def _below(u, n):  # type: ignore[no-untyped-def]
    """An integer uniform in [0, n) from the uniform `u`, as `rng.below` makes it."""
    return min(np.int64(u * np.float64(n)), n - 1)


@kernel()
def partner(
    rows: np.ndarray,
    me: np.ndarray,
    known: np.ndarray,
    has_known: np.ndarray,
    group: np.ndarray,
    weights: np.ndarray,
    draws: np.ndarray,
    radius: int,
    size: int,
    n_total: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Whom each of `rows` (character `me`) meets, the way chosen by the uniform `draws[0]`
    among (someone `known`, a neighbour, a member of its group, anyone) in proportion to
    `weights` (the first counted only where it `has_known` anyone): a neighbour is 1 + below
    `radius` (`draws[1]`) away, either way (`draws[2]` < 0.5: down), around the world of
    `n_total`; a group-mate is one of the `size` ids from its `group`'s first (`draws[3]`);
    anyone is any id (`draws[4]`). Returns the rows that meet someone other than themselves
    (and someone who is there), and whom."""
    n = len(rows)
    out_rows = np.empty(n, np.int64)
    out_partner = np.empty(n, np.int64)
    cum = np.empty(4, np.float64)
    kept = 0
    for i in range(n):
        # the way: how many of the running sums of the weights (over their total) the draw
        # reaches, summed left to right as numpy sums a row of four
        total = 0.0
        for w in range(4):
            total += weights[0] * has_known[i] if w == 0 else weights[w]
            cum[w] = total
        if not total > 0:
            total = 1.0
        way = 0
        for w in range(4):
            if draws[0, i] >= cum[w] / total:
                way += 1
        who = me[i]
        if way == 0:
            p = np.int64(known[i])
        elif way == 1:
            step = 1 + _below(draws[1, i], radius)
            p = (who + (-step if draws[2, i] < 0.5 else step)) % n_total
        elif way == 2:
            first = np.int64(group[rows[i]]) * size
            p = first + _below(draws[3, i], max(min(size, n_total - first), 1))
        else:
            p = _below(draws[4, i], n_total)
        if p != who and p >= 0 and p < n_total:
            out_rows[kept], out_partner[kept] = rows[i], p
            kept += 1
    return out_rows[:kept], out_partner[:kept]


@kernel()
def gossip_subject(
    rel_id: np.ndarray,
    rep: np.ndarray,
    rep_n: np.ndarray,
    betrayals: np.ndarray,
    local: np.ndarray,
    partner: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each `local` meeting `partner`: the slot of the strongest view it holds of someone
    else (|reputation| + 0.5 if they betrayed it; only views behind a judgement count) and that
    strength (-1 where it holds none). Ties go to the first slot."""
    k = rel_id.shape[1]
    n = len(local)
    pick = np.zeros(n, np.int64)
    strength = np.full(n, -1.0)
    for i in range(n):
        row, other = local[i], partner[i]
        best, at = -1.0, 0  # (kept in registers while the row is scanned)
        for s in range(k):
            who = rel_id[row, s]
            if rep_n[row, s] > 0 and who != other and who >= 0:
                v = abs(float(rep[row, s])) + (0.5 if betrayals[row, s] > 0 else 0.0)
            else:
                v = -1.0
            if v > best or s == 0:
                best, at = v, s
        strength[i] = best
        pick[i] = at
    return pick, strength


@kernel()
def gossip(
    rel_id: np.ndarray,
    rep: np.ndarray,
    rep_n: np.ndarray,
    betrayals: np.ndarray,
    rep_src: np.ndarray,
    boundaries: np.ndarray,
    honesty: np.ndarray,
    never_gossips: int,
    claims: tuple[int, int, int],
    local: np.ndarray,
    partner: np.ndarray,
    ids: np.ndarray,
    draw: np.ndarray,
    rows: np.ndarray,
    subject: np.ndarray,
    claim: np.ndarray,
    source: np.ndarray,
    legal: np.ndarray,
    a_gossip: int,
    news: np.ndarray,
) -> None:
    """The gossip each `local` meeting `partner` could tell, written at `rows`: about the one
    `gossip_subject` picks, if that view has strength 0.3 or more (`subject` -1 where none);
    the claim (`claims` is GOOD, BAD, BETRAYED) is that they betrayed it, else good or bad
    as its view of them is; a liar (the uniform `draw` below 0.5 max(0.35 - honesty, 0) /
    0.35) tells the opposite (a betrayal turned good); the source is whoever its view came
    from, else itself (`ids`). Gossip is legal, and news, where there is a subject and the
    character does not refuse to gossip (the `never_gossips` bit of its boundaries)."""
    good, bad, betrayed = claims
    pick, strength = gossip_subject(rel_id, rep, rep_n, betrayals, local, partner)
    for i in range(len(local)):
        lo, s, r = local[i], pick[i], rows[i]
        has = strength[i] >= 0.3
        said = betrayed if betrayals[lo, s] > 0 else (good if rep[lo, s] >= 0 else bad)
        if draw[i] < 0.5 * max(0.35 - np.float64(honesty[lo]), 0.0) / 0.35:
            said = bad if said == good else good
        subject[r] = rel_id[lo, s] if has else -1
        claim[r] = said
        source[r] = rep_src[lo, s] if rep_src[lo, s] >= 0 else ids[i]
        tells = has and ((np.int64(boundaries[lo]) >> never_gossips) & 1) == 0
        legal[r, a_gossip] = tells
        news[r] = tells
