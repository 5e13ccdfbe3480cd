"""The minds an evaluation asks: the world's heuristic mind, three reference minds, and a
language model.

- `heuristic`: what the world's heuristic mind made of the situation when it met it (its
  reading of the feelings shown, its trust in the promisor: (kept + 1) / (kept + broken + 2)
  of the evidence), stored in each item.
- `random`: a level drawn uniformly for each feeling, a probability drawn uniformly for each
  promise, from a stream keyed by the item (chance).
- `majority`: always the most common level of each feeling and the share of promises kept, in
  the items it is fitted to (the training worlds' items, or else the items asked): a benchmark
  whose majority baseline scores like a real mind is broken.
- `oracle`: the truth (the ceiling).
- `llm`: a language model asked each item as a character would be (actors/lab/eval/model.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from actors.lab.eval.items import LEVELS, Item, level_of

REFERENCE = ("heuristic", "random", "majority", "oracle")
MINDS = (*REFERENCE, "llm")


@dataclasses.dataclass
class Answers:
    """A mind's answers: levels for the reading items (-1: no valid answer), a probability for
    the trust items (NaN: none), whether each item (readings, then trust) was answered validly,
    what each answer was (for items.jsonl) and figures of the asking (tokens, latency)."""

    levels: np.ndarray
    p: np.ndarray
    valid: np.ndarray
    said: list[dict[str, Any]]
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)


class Mind(Protocol):
    name: str

    def answer(self, readings: Sequence[Item], trust: Sequence[Item]) -> Answers: ...


def _answers(levels: np.ndarray, p: np.ndarray) -> Answers:
    said: list[dict[str, Any]] = [
        {"levels": [LEVELS[int(v)] for v in row]} for row in levels.tolist()
    ]
    said += [{"p": round(float(x), 6)} for x in p.tolist()]
    return Answers(levels, p, np.ones(len(levels) + len(p), bool), said)


class Heuristic:
    name = "heuristic"

    def answer(self, readings: Sequence[Item], trust: Sequence[Item]) -> Answers:
        levels = np.array([level_of(it.heuristic["feelings"]) for it in readings], np.int64)
        p = np.array([float(it.heuristic["p"]) for it in trust])
        return _answers(levels.reshape(len(readings), 5), p)


class Random:
    name = "random"

    def answer(self, readings: Sequence[Item], trust: Sequence[Item]) -> Answers:
        def stream(it: Item) -> np.random.Generator:
            key = hashlib.blake2b(f"random {it.id}".encode(), digest_size=8).digest()
            return np.random.default_rng(int.from_bytes(key, "little"))

        levels = np.array([stream(it).integers(0, len(LEVELS), 5) for it in readings], np.int64)
        p = np.array([stream(it).random() for it in trust])
        return _answers(levels.reshape(len(readings), 5), p)


class Majority:
    name = "majority"

    def __init__(self, readings: Sequence[Item], trust: Sequence[Item]) -> None:
        """Fitted to these items: each feeling's most common true level (the lower level on a
        tie) and the share of promises kept."""
        truth = np.array([it.true_levels for it in readings], np.int64).reshape(-1, 5)
        self.levels = np.array(
            [np.bincount(truth[:, k], minlength=len(LEVELS)).argmax() for k in range(5)]
        )
        kept = [bool(it.truth["kept"]) for it in trust]
        self.p = float(np.mean(kept)) if kept else 0.5

    def answer(self, readings: Sequence[Item], trust: Sequence[Item]) -> Answers:
        levels = np.tile(self.levels, (len(readings), 1))
        return _answers(levels, np.full(len(trust), self.p))


class Oracle:
    name = "oracle"

    def answer(self, readings: Sequence[Item], trust: Sequence[Item]) -> Answers:
        levels = np.array([it.true_levels for it in readings], np.int64).reshape(-1, 5)
        p = np.array([1.0 if it.truth["kept"] else 0.0 for it in trust])
        return _answers(levels, p)
