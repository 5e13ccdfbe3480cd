"""Updates that may touch one slot (or character) several times in one call, applied one row at
a time in row order: the sequential result the rules ask for, in one pass (instead of numpy
rounds in which no slot repeats)."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

_F09 = np.float32(0.9)
_ONE = np.float32(1)


@kernel(inline="always")
def _judged(rep, rep_n, rep_src, lo, sl, verdict, weight, source):  # type: ignore[no-untyped-def]
    """One view `rep[lo, sl]` moved towards `verdict` by `weight` (float32), the judgement
    counted (at most 30000) and its source noted."""
    r = rep[lo, sl]
    rep[lo, sl] = r + weight * (verdict - r)
    rep_n[lo, sl] = min(rep_n[lo, sl] + 1, 30000)
    rep_src[lo, sl] = source


@kernel()
def judge(
    rep: np.ndarray,
    rep_n: np.ndarray,
    rep_src: np.ndarray,
    local: np.ndarray,
    slot: np.ndarray,
    verdict: np.ndarray,
    weight: np.ndarray,
    source: np.ndarray,
) -> None:
    """Move each view `rep[local, slot]` towards `verdict` by `weight` (float32), count the
    judgement (at most 30000) and note its source."""
    for i in range(len(local)):
        _judged(rep, rep_n, rep_src, local[i], slot[i], verdict[i], weight[i], source[i])


@kernel()
def record_act(
    theirs: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
    rep: np.ndarray,
    rep_n: np.ndarray,
    rep_src: np.ndarray,
    cid: np.ndarray,
    local: np.ndarray,
    slot: np.ndarray,
    cooperated: np.ndarray,
    good_faith: np.float32,
    weight: np.float32,
) -> None:
    """A counterpart's act towards `local` (its slot `slot`), row after row: its move noted in
    `theirs` (1 cooperated, 0 defected), `good_faith` added to the evidence for (`pos`) or
    against (`neg`) it, and the view of it judged towards +1 or -1 by `weight` (as `judge`,
    its own character's id the source). Each row's four updates touch columns no other reads,
    so this is the sequence of the four, each over every row, in one pass."""
    for i in range(len(local)):
        lo, sl = local[i], slot[i]
        if cooperated[i]:
            theirs[lo, sl] = 1
            pos[lo, sl] += good_faith
            verdict = _ONE
        else:
            theirs[lo, sl] = 0
            neg[lo, sl] += good_faith
            verdict = -_ONE
        _judged(rep, rep_n, rep_src, lo, sl, verdict, weight, cid[lo])


@kernel()
def remember(
    ep_tick: np.ndarray,
    ep_kind: np.ndarray,
    ep_who: np.ndarray,
    ep_sal: np.ndarray,
    ep_val: np.ndarray,
    local: np.ndarray,
    kind: np.ndarray,
    who: np.ndarray,
    sal: np.ndarray,
    val: np.ndarray,
    tick: int,
) -> None:
    """Store each episode over its character's empty episode (the first), else the least
    salient one (the first on ties)."""
    e = ep_kind.shape[1]
    for i in range(len(local)):
        lo = local[i]
        at, best = 0, np.inf
        for j in range(e):
            score = -1.0 if ep_kind[lo, j] < 0 else np.float64(ep_sal[lo, j])
            if score < best:
                at, best = j, score
        ep_tick[lo, at] = tick
        ep_kind[lo, at] = kind[i]
        ep_who[lo, at] = who[i]
        ep_sal[lo, at] = sal[i]
        ep_val[lo, at] = val[i]


@kernel()
def standing(standing: np.ndarray, local: np.ndarray, cooperated: np.ndarray) -> None:
    """standing <- 0.9 standing + 0.1 (cooperated): in float32, plus the float64 tenth."""
    for i in range(len(local)):
        lo = local[i]
        moved = np.float64(_F09 * standing[lo]) + (0.1 if cooperated[i] else 0.0)
        standing[lo] = np.float32(moved)
