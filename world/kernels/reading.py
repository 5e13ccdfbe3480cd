"""The heuristic reader's guess of what a speaker hides: what was shown, corrected towards what
the envelope's kind implies, in proportion to the reader's empathy and how well it knows the
speaker, one row at a time (float32, each operation as the numpy expression it replaced)."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

_F4 = np.float32(4.0)
_F035 = np.float32(0.35)
_F065 = np.float32(0.65)
_F045 = np.float32(0.45)
_F03 = np.float32(0.3)
_ONE = np.float32(1.0)


@kernel()
def guess(
    empathy: np.ndarray,
    meetings: np.ndarray,
    mine: np.ndarray,
    expected: np.ndarray,
    local: np.ndarray,
    slot: np.ndarray,
    kind: np.ndarray,
    shown: np.ndarray,
    feelings: tuple[int, int, int],
) -> np.ndarray:
    """(rows, N_EMOTIONS) float32: `shown` + weight (expectation - `shown`), where weight is
    the reader's `empathy` (0.35 + 0.65 m / (m + 4)) for the m `meetings` it had with the
    speaker (0 for a stranger, `slot` -1), and the expectation is `expected[kind]`, its anger
    and sadness (`feelings` are anger, sadness, gratitude) at least 0.45 if the reader's last
    act towards the speaker (`mine`) defected, its gratitude at least 0.3 if it cooperated."""
    anger, sadness, gratitude = feelings
    n, e = shown.shape
    out = np.empty((n, e), np.float32)
    want = np.empty(e, np.float32)
    for i in range(n):
        row, s = local[i], slot[i]
        m = np.float32(meetings[row, s]) if s >= 0 else np.float32(0.0)
        last = mine[row, s] if s >= 0 else -1
        familiarity = m / (m + _F4)
        weight = np.float32(empathy[row]) * (_F035 + _F065 * familiarity)
        for j in range(e):
            want[j] = expected[kind[i], j]
        if last == 0:
            want[anger] = max(want[anger], _F045)
            want[sadness] = max(want[sadness], _F045)
        elif last == 1:
            want[gratitude] = max(want[gratitude], _F03)
        for j in range(e):
            out[i, j] = shown[i, j] + weight * (want[j] - shown[i, j])
    return out


@kernel()
def accuracy(guess: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(rows,) float32: 1 - the mean absolute difference between each row's guessed and true
    feelings (float32 rows), as numpy's float32 mean computes it for the five feelings: summed
    left to right in float32 (numpy's pairwise sum is that below eight terms), divided in
    float64 and rounded to float32."""
    n, e = guess.shape
    out = np.empty(n, np.float32)
    for i in range(n):
        total = np.float32(0.0)
        for j in range(e):
            total += abs(guess[i, j] - truth[i, j])
        out[i] = _ONE - np.float32(np.float64(total) / e)
    return out
