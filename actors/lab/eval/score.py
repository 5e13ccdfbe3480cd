"""How well a mind did on the items, skill by skill, with 95% intervals by bootstrap over items.

- reading: per feeling, the level answered against the true level: exact accuracy, accuracy
  within one level, and macro-F1 over the four levels (the mean of each level's F1 over the
  levels that occur in the truth or the answers); the skill's figures are the means over the
  five feelings. An item a mind could not answer counts as wrong.
- trust: the probability that the promise is kept, against what happened: Brier score, log
  loss (probabilities clipped to [0.001, 0.999]) and a reliability table in ten bins. An item a
  mind could not answer counts as 0.5.
- validity: the share of items a mind answered validly.

Intervals: the 2.5th and 97.5th percentiles of the figure over `BOOTSTRAP` resamples of the
items (with replacement, from a fixed seed), so the same answers give the same intervals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from actors.lab.eval.items import LEVELS
from world.vocab import EMOTION_NAMES

BOOTSTRAP = 1000
SEED = 20261130
CLIP = 1e-3
BINS = 10


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure and its 95% bootstrap interval."""

    value: float
    low: float
    high: float

    def to_json(self) -> dict[str, float | None]:
        """value, low, high, rounded (None where there were no items to score)."""
        return {
            name: None if np.isnan(x) else round(x, 6)
            for name, x in (("value", self.value), ("low", self.low), ("high", self.high))
        }


def bootstrap(n: int, figure: Callable[[np.ndarray], float]) -> Figure:
    """`figure` of all n items, with the interval of its value over resampled item sets
    (`figure` takes the indices of the items to use)."""
    if n == 0:
        return Figure(float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(SEED)
    every = np.arange(n)
    draws = np.array([figure(rng.integers(0, n, n)) for _ in range(BOOTSTRAP)])
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return Figure(float(figure(every)), float(low), float(high))


def macro_f1(truth: np.ndarray, answer: np.ndarray) -> float:
    """Mean F1 over the levels present in the truth or the answers (an unanswered item, -1,
    counts as a wrong answer of no level)."""
    scores = []
    for level in range(len(LEVELS)):
        t, a = truth == level, answer == level
        if not t.any() and not a.any():
            continue
        hits = int((t & a).sum())
        scores.append(2 * hits / (int(t.sum()) + int(a.sum())))
    return float(np.mean(scores)) if scores else float("nan")


def reading_scores(truth: np.ndarray, answer: np.ndarray) -> dict[str, Any]:
    """truth, answer: (items, feelings) levels, -1 where a mind gave no valid answer."""
    n = len(truth)

    def exact(rows: np.ndarray) -> float:
        return float((truth[rows] == answer[rows]).mean())

    def within(rows: np.ndarray) -> float:
        ok = (answer[rows] >= 0) & (np.abs(truth[rows] - answer[rows]) <= 1)
        return float(ok.mean())

    def f1(rows: np.ndarray) -> float:
        return float(np.mean([macro_f1(truth[rows, k], answer[rows, k]) for k in range(5)]))

    per_feeling = {
        name: {
            "accuracy": round(float((truth[:, k] == answer[:, k]).mean()), 6) if n else None,
            "macro_f1": round(macro_f1(truth[:, k], answer[:, k]), 6) if n else None,
        }
        for k, name in enumerate(EMOTION_NAMES)
    }
    return {
        "items": n,
        "accuracy": bootstrap(n, exact).to_json(),
        "within_one": bootstrap(n, within).to_json(),
        "macro_f1": bootstrap(n, f1).to_json(),
        "by_feeling": per_feeling,
    }


def trust_scores(kept: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """kept: 1 kept, 0 broken; p: the mind's probability that it is kept (NaN: no answer)."""
    n = len(kept)
    p = np.where(np.isnan(p), 0.5, p)
    q = np.clip(p, CLIP, 1 - CLIP)

    def brier(rows: np.ndarray) -> float:
        return float(((p[rows] - kept[rows]) ** 2).mean())

    def log_loss(rows: np.ndarray) -> float:
        y, r = kept[rows], q[rows]
        return float(-(y * np.log(r) + (1 - y) * np.log(1 - r)).mean())

    edges = np.linspace(0, 1, BINS + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, BINS - 1)
    reliability = []
    for b in range(BINS):
        rows = which == b
        if rows.any():
            reliability.append(
                {
                    "bin": [round(float(edges[b]), 2), round(float(edges[b + 1]), 2)],
                    "n": int(rows.sum()),
                    "predicted": round(float(p[rows].mean()), 6),
                    "observed": round(float(kept[rows].mean()), 6),
                }
            )
    return {
        "items": n,
        "kept_share": round(float(kept.mean()), 6) if n else None,
        "brier": bootstrap(n, brier).to_json(),
        "log_loss": bootstrap(n, log_loss).to_json(),
        "reliability": reliability,
    }


def validity_scores(valid: np.ndarray) -> dict[str, Any]:
    n = len(valid)
    return {
        "items": n,
        "valid_share": bootstrap(n, lambda rows: float(valid[rows].mean())).to_json(),
    }
