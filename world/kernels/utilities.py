"""The heuristic mind's choice (`world/minds/heuristic.py`), a decision at a time: the actor's
features, the utility of each action its situation offers (the mind's UTILITY table), a small
noise from the decision's own key, and the best legal action."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel
from world.kernels.mixing import GOLDEN, M1, M2, S11, S27, S30, S31, TO_UNIT
from world.vocab import Emotion, Trait

_HONESTY, _AGREEABLENESS = int(Trait.HONESTY), int(Trait.AGREEABLENESS)
_GENEROSITY, _VENGEFULNESS = int(Trait.GENEROSITY), int(Trait.VENGEFULNESS)
_EMPATHY, _SOCIABILITY = int(Trait.EMPATHY), int(Trait.SOCIABILITY)
_ANGER, _GRATITUDE = int(Emotion.ANGER), int(Emotion.GRATITUDE)
N_FEATURES = 28


@kernel(inline="always")
def _memory(column, row, slot):  # type: ignore[no-untyped-def]
    """float64 of the actor's memory of the counterpart, 0 where it has none."""
    return np.float64(column[row, slot]) if slot >= 0 else 0.0


@kernel(inline="always")
def _noise(key, action):  # type: ignore[no-untyped-def]
    """One mixing round of key ^ (action * golden), as a uniform in [0, 1)."""
    x = key ^ (np.uint64(action) * GOLDEN)
    x = x ^ (x >> S30)
    x = x * M1
    x = x ^ (x >> S27)
    x = x * M2
    x = x ^ (x >> S31)
    return np.float64(x >> S11) * TO_UNIT


@kernel()
def choose(
    situation: np.ndarray,
    local: np.ndarray,
    slot: np.ndarray,
    keys: np.ndarray,
    need: np.ndarray,
    gain: np.ndarray,
    news: np.ndarray,
    produces: np.ndarray,
    loan: np.ndarray,
    vulnerable: np.ndarray,
    legal: np.ndarray,
    traits: np.ndarray,
    emotion: np.ndarray,
    wariness: np.ndarray,
    pg_expect: np.ndarray,
    rel_pos: np.ndarray,
    rel_neg: np.ndarray,
    rel_aff: np.ndarray,
    rel_att: np.ndarray,
    rel_betrayals: np.ndarray,
    rel_rep: np.ndarray,
    rel_balance: np.ndarray,
    choices: np.ndarray,
    constant: np.ndarray,
    coefficient: np.ndarray,
    term_features: np.ndarray,
    noise: float,
    out: np.ndarray,
) -> None:
    """`out[i]` = the action of `choices[situation[i]]` (padded with -1) whose utility plus
    `noise` times its uniform from `keys[i]` is the highest among the legal ones (the first
    of equals; the first action if none is legal, as numpy's argmax of -inf). A utility is
    `constant[a]` plus, term k after term k, `coefficient[a, k]` times the features
    `term_features[a, k]` (one, or two multiplied left to right; -1 none), every figure float64
    as the heuristic's FEATURES define them."""
    f = np.empty(N_FEATURES, np.float64)
    for i in range(out.shape[0]):
        row, s = local[i], slot[i]
        f[0] = np.float64(traits[row, _HONESTY])
        f[1] = np.float64(traits[row, _AGREEABLENESS])
        f[2] = np.float64(traits[row, _GENEROSITY])
        f[3] = np.float64(traits[row, _VENGEFULNESS])
        f[4] = np.float64(traits[row, _EMPATHY])
        f[5] = np.float64(traits[row, _SOCIABILITY])
        f[6] = np.float64(emotion[row, _ANGER])
        f[7] = np.float64(emotion[row, _GRATITUDE])
        f[8] = np.float64(wariness[row])
        f[9] = np.float64(pg_expect[row])
        f[10] = need[i]
        f[11] = gain[i]
        f[12] = 1.0 if news[i] else 0.0
        f[13] = 1.0 if produces[i] else 0.0
        f[14] = 1.0 if loan[i] else 0.0
        f[15] = 1.0 if vulnerable[i] else 0.0
        pos, neg = _memory(rel_pos, row, s), _memory(rel_neg, row, s)
        f[16] = (pos + 1.0) / (pos + neg + 2.0)
        f[17] = _memory(rel_aff, row, s)
        f[18] = _memory(rel_att, row, s)
        f[19] = _memory(rel_betrayals, row, s)
        f[20] = _memory(rel_rep, row, s)
        f[21] = 1.0 if _memory(rel_balance, row, s) < 0 else 0.0
        f[22] = f[19] * f[3]
        f[23] = 0.5 * f[2] + 0.5 * f[4]
        f[24] = 1 - f[0]
        f[25] = 1 - f[1]
        f[26] = 1 - f[3]
        f[27] = max(f[19] - 1, 0.0)
        best, pick = 0.0, -1
        for j in range(choices.shape[1]):
            a = choices[situation[i], j]
            if a < 0:
                break
            if legal[i, a]:
                u = constant[a]
                for k in range(coefficient.shape[1]):
                    first, second = term_features[a, k, 0], term_features[a, k, 1]
                    if first < 0:
                        break
                    v = coefficient[a, k] * f[first]
                    if second >= 0:
                        v = v * f[second]
                    u = u + v
                u = u + noise * _noise(keys[i], a)
            else:
                u = -np.inf  # (an illegal action's utility is never weighed)
            if pick < 0 or (best == best and (u > best or u != u)):
                best, pick = u, a  # (a NaN wins, as in numpy's argmax)
        out[i] = pick
