"""Hidden feelings: how events move them, how much of them a character shows, how others read them.

Every character has a true emotional state (joy, gratitude, anger, sadness, fear in [0, 1]) that
only the world sees. What it *shows* when it speaks is that state blended towards a polite mask,
the more so the less expressive it is and the less close it feels to the listener ("No worries,
I'll handle it myself" over real disappointment). Readers guess the hidden state from what is
shown and from what they know of the situation (world/minds/base.py: `read_feelings`); the
world scores the guess against the truth.
"""

from __future__ import annotations

import numpy as np

from world.arrays import each
from world.kernels import reading, scatter, speech
from world.vocab import N_EMOTIONS, N_KINDS, Emotion, Kind, Trait

#: The face a masking character puts on: mild pleasantness, nothing negative.
MASK = np.array([0.35, 0.2, 0.0, 0.0, 0.0], np.float32)
#: Share of the distance to zero each feeling loses per tick.
DECAY = np.array([0.15, 0.1, 0.1, 0.08, 0.2], np.float32)

#: What a reader expects a speaker to feel, knowing only the kind of act (its prior).
EXPECTED = np.full((N_KINDS, N_EMOTIONS), 0.1, np.float32)
EXPECTED[Kind.PROMISE_BROKEN] = [0.05, 0.0, 0.55, 0.6, 0.15]
EXPECTED[Kind.GIFT] = [0.35, 0.15, 0.05, 0.05, 0.05]
EXPECTED[Kind.PROMISE_KEPT] = [0.3, 0.1, 0.05, 0.05, 0.05]
EXPECTED[Kind.REQUEST] = [0.05, 0.05, 0.05, 0.35, 0.55]
EXPECTED[Kind.APOLOGY] = [0.05, 0.05, 0.05, 0.45, 0.2]
EXPECTED[Kind.FORGIVENESS] = [0.3, 0.1, 0.15, 0.15, 0.05]
EXPECTED[Kind.TRADE_REPLY] = [0.25, 0.05, 0.1, 0.1, 0.1]


def appraise(
    emotion: np.ndarray, rows: np.ndarray, feeling: Emotion, amount: np.ndarray | float
) -> None:
    """Raise one feeling of the given characters by `amount`, capped at 1 (rows may repeat)."""
    if len(rows) == 0:
        return
    scatter.raise_capped(
        emotion,
        np.asarray(rows, np.int64),
        int(feeling),
        each(np.float32(1) * amount, len(rows), np.float32),
    )


def soothe(emotion: np.ndarray, rows: np.ndarray, feeling: Emotion, factor: float) -> None:
    """Scale one feeling of the given characters down by `factor`."""
    emotion[rows, feeling] *= np.float32(factor)


def shown(true: np.ndarray, traits: np.ndarray, closeness: np.ndarray) -> np.ndarray:
    """The shown signal, (rows, feelings) float32: each row's true feelings blended towards
    MASK by how much its speaker hides, (1 - expressiveness) * (1 - closeness / 2)."""
    return speech.shown(
        np.ascontiguousarray(true, np.float32),
        np.ascontiguousarray(traits[:, Trait.EXPRESSIVENESS], np.float32),
        np.ascontiguousarray(closeness, np.float32),
        MASK,
    )


def unquantize(q: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * np.float32(1.0 / 255.0)


def accuracy(guess: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1 - mean absolute error over the feelings, per row, in [0, 1] (float32)."""
    return reading.accuracy(
        np.ascontiguousarray(guess, np.float32), np.ascontiguousarray(truth, np.float32)
    )
