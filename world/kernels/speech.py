"""What speakers show: each feeling blended towards a polite mask, as much as the speaker hides
(the less expressive and the less close to the listener, the more), quantized to a byte, and
the phrase that goes with the strongest feeling shown. Also the world-only truth of each
envelope (the speaker's true feelings, quantized, and its standing). The mask and the phrase
ids are the world's (`world/emotion.py`: MASK; `world/phrases.py`: `render` reads the ids).
"""

from __future__ import annotations

import numpy as np

from world.kernels import kernel, slots
from world.kernels.hints import AHEAD, prefetch

_ZERO = np.float32(0.0)
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)
_BYTE = np.float32(255.0)


@kernel(inline="always")
def _clip01(x):  # type: ignore[no-untyped-def]
    return min(max(x, _ZERO), _ONE)


@kernel(inline="always")
def _quantized(x):  # type: ignore[no-untyped-def]
    return np.uint8(np.rint(np.float64(_clip01(x) * _BYTE)))


@kernel(inline="always")
def _hidden(expressiveness, closeness):  # type: ignore[no-untyped-def]
    """How much of its feeling a speaker hides, 0..1: (1 - expressiveness) * (1 - closeness / 2)."""
    return _clip01((_ONE - expressiveness) * (_ONE - _HALF * closeness))


@kernel(inline="always")
def _blend(true, mask, hide):  # type: ignore[no-untyped-def]
    """A true feeling as shown: blended towards the mask's by `hide`."""
    return true * (_ONE - hide) + mask * hide


@kernel()
def shown(
    true: np.ndarray, expressiveness: np.ndarray, closeness: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """(rows, feelings) float32: each row's `true` feelings as shown, blended towards `mask` by
    (1 - expressiveness) * (1 - closeness / 2), clipped to 0..1 (float32 throughout)."""
    out = np.empty(true.shape, np.float32)
    for i in range(true.shape[0]):
        hide = _hidden(expressiveness[i], closeness[i])
        for e in range(true.shape[1]):
            out[i, e] = _blend(true[i, e], mask[e], hide)
    return out


@kernel()
def speak(
    local: np.ndarray,
    recipient: np.ndarray,
    kind: np.ndarray,
    silent: np.ndarray,
    emotion: np.ndarray,
    standing: np.ndarray,
    expressiveness: np.ndarray,
    rel_id: np.ndarray,
    rel_att: np.ndarray,
    rel_aff: np.ndarray,
    mask: np.ndarray,
    neutral: int,
    mild: int,
    true_feeling: np.ndarray,
    true_standing: np.ndarray,
    shown_out: np.ndarray,
    phrase: np.ndarray,
) -> None:
    """Fill each envelope's truth columns from its speaker (row `local[i]`) and, unless its
    kind is `silent`, what it shows and its phrase: closeness to the recipient is
    attachment / 2 + max(affinity, 0) / 2 (0 for a stranger); the phrase is
    kind * (feelings + 1) + face + 1, the face the strongest feeling shown (the first of
    equals) or `neutral` when all are below `mild`."""
    width = emotion.shape[1]
    speaking = np.zeros(len(local), np.bool_)
    for i in range(len(local)):
        speaking[i] = not silent[kind[i]]
    rows = np.flatnonzero(speaking)
    slot = slots.find(rel_id, local[rows], recipient[rows].astype(np.int64))
    n = len(local)
    for i in range(n):
        if i + AHEAD < n:
            ahead = local[i + AHEAD]
            prefetch(emotion, ahead)
            prefetch(standing, ahead)
        row = local[i]
        for e in range(width):
            true_feeling[i, e] = _quantized(emotion[row, e])
        true_standing[i] = standing[row] >= 0.5
    m = len(rows)
    for j in range(m):
        if j + AHEAD < m:
            ahead = local[rows[j + AHEAD]]
            prefetch(rel_att, ahead)
            prefetch(rel_aff, ahead)
            prefetch(expressiveness, ahead)
            prefetch(emotion, ahead)
        i, row, s = rows[j], local[rows[j]], slot[j]
        close = _ZERO
        if s >= 0:
            close = _clip01(_HALF * rel_att[row, s] + _HALF * max(rel_aff[row, s], _ZERO))
        hide = _hidden(expressiveness[row], close)
        face, best = 0, np.int64(-1)
        for e in range(width):
            q = _quantized(_blend(emotion[row, e], mask[e], hide))
            shown_out[i, e] = q
            if np.int64(q) > best:
                face, best = e, np.int64(q)
        if best < mild:
            face = neutral
        phrase[i] = np.uint16(np.int64(kind[i]) * (width + 1) + face + 1)
