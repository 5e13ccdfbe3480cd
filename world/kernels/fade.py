"""The end of a tick for every character, in one pass: feelings decay, episodes and wariness
fade, affinity and attachment stay in range, and the trust each occupied slot holds is summed
(overall and by role) for the tick's figures."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_MINUS_ONE = np.float32(-1.0)
_ZERO = np.float32(0.0)


@kernel()
def end_of_tick(
    n: int,
    emotion: np.ndarray,
    keep_emotion: np.ndarray,
    ep_sal: np.ndarray,
    keep_sal: np.float32,
    wariness: np.ndarray,
    keep_wariness: np.float32,
    rel_aff: np.ndarray,
    rel_att: np.ndarray,
    rel_id: np.ndarray,
    rel_pos: np.ndarray,
    rel_neg: np.ndarray,
    role: np.ndarray,
    scale: float,
    role_sum: np.ndarray,
    role_n: np.ndarray,
) -> tuple[int, int]:
    """Apply the fades to the first `n` characters (float32, as numpy's in-place products),
    clip `rel_aff` to -1..1 and `rel_att` to 0..1, and return the sum of the occupied slots'
    trust, rint((pos + 1) / (pos + neg + 2) * scale) (the fraction in float32, as numpy
    computes it), and their count; adds the same by role into `role_sum` and `role_n`."""
    total, count = 0, 0
    for i in range(n):
        for e in range(emotion.shape[1]):
            emotion[i, e] = emotion[i, e] * keep_emotion[e]
        for e in range(ep_sal.shape[1]):
            ep_sal[i, e] = ep_sal[i, e] * keep_sal
        wariness[i] = wariness[i] * keep_wariness
        row_sum, row_n = 0, 0  # (summed in registers, then into the role's)
        for s in range(rel_id.shape[1]):
            rel_aff[i, s] = min(max(rel_aff[i, s], _MINUS_ONE), _ONE)
            rel_att[i, s] = min(max(rel_att[i, s], _ZERO), _ONE)
            if rel_id[i, s] >= 0:
                p, q = rel_pos[i, s], rel_neg[i, s]
                frac = (p + _ONE) / (p + q + _TWO)
                row_sum += int(np.rint(np.float64(frac) * scale))
                row_n += 1
        total += row_sum
        count += row_n
        role_sum[role[i]] += row_sum
        role_n[role[i]] += row_n
    return total, count
