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
        row = local[i]
        for s in range(k):
            who = rel_id[row, s]
            if rep_n[row, s] > 0 and who != partner[i] and who >= 0:
                v = abs(float(rep[row, s])) + (0.5 if betrayals[row, s] > 0 else 0.0)
            else:
                v = -1.0
            if v > strength[i] or s == 0:
                strength[i] = v
                pick[i] = s
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
