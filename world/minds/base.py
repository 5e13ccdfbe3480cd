"""The mind interface: decide for many characters at once.

A shard gathers every decision its characters face in a tick into one `DecisionBatch` per mind
(rows of situation, actor, counterpart, legal actions and the facts that matter) and every
envelope whose speaker showed a feeling into one `ReadingBatch`. A mind answers the whole batch:
an action per row, a guess of the speaker's hidden feeling per reading. The world, not the
mind, then checks and applies what was chosen; an action outside `legal` is never applied.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, TypeVar

import numpy as np

from world.acts import ACTIONS, COOPERATION, Action, Situation
from world.arrays import rows_of, rows_where
from world.characters import Characters
from world.emotion import EXPECTED
from world.kernels import reading, slots
from world.vocab import Emotion, Trait


@dataclasses.dataclass(kw_only=True)
class DecisionBatch:
    """One row per decision. `chars` is the shard's state, to be read, never written."""

    tick: int
    seed: int
    situation: np.ndarray  # int8, Situation
    local: np.ndarray  # row of the actor in `chars`
    actor: np.ndarray  # global id of the actor
    counterpart: np.ndarray  # global id of the other party (-1: the group)
    slot: np.ndarray  # the counterpart's slot in the actor's memory (-1: unknown)
    ref: np.ndarray  # the envelope or promise the decision is about (0: none)
    legal: np.ndarray  # (rows, N_ACTIONS) bool
    gain: np.ndarray  # worth of the deal on offer to the actor, relative to what it pays
    need: np.ndarray  # the actor's own need, 0..1
    vulnerable: np.ndarray  # the counterpart is a child, sick or hungry, as far as it knows
    loan: np.ndarray  # a request to be repaid
    news: np.ndarray  # the actor has gossip to pass on
    produces: np.ndarray  # the actor produces the good in question (can promise it honestly)
    good: np.ndarray  # goods in question: what is offered, asked, owed or would be given
    amount: np.ndarray
    good2: np.ndarray  # goods wanted in return (trades)
    amount2: np.ndarray
    chars: Characters

    def __len__(self) -> int:
        return len(self.situation)

    def relation(self, column: str, default: float) -> np.ndarray:
        """The actor's memory of the counterpart, `default` where it has none (float64)."""
        return slots.gather(getattr(self.chars, column), self.local, self.slot, float(default))

    def trust(self) -> np.ndarray:
        return trust_of(self.relation("rel_pos", 0.0), self.relation("rel_neg", 0.0))

    def take(self, rows: np.ndarray) -> DecisionBatch:
        return _take(self, rows)


@dataclasses.dataclass(kw_only=True)
class ReadingBatch:
    """One row per envelope whose speaker showed a feeling: the reader guesses what it hides."""

    tick: int
    local: np.ndarray  # the reader's row in `chars`
    reader: np.ndarray
    speaker: np.ndarray
    slot: np.ndarray  # the speaker's slot in the reader's memory (-1: unknown)
    kind: np.ndarray  # the envelope's Kind
    seq: np.ndarray  # the envelope's sequence number (its id, with the speaker)
    shown: np.ndarray  # (rows, N_EMOTIONS) float32 in [0, 1]
    chars: Characters

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, rows: np.ndarray) -> ReadingBatch:
        return _take(self, rows)


Batch = TypeVar("Batch", "DecisionBatch", "ReadingBatch")


def _take(batch: Batch, rows: np.ndarray) -> Batch:
    """The rows `rows` of every column of a batch (the characters' table is shared)."""
    columns: dict[str, Any] = {
        f.name: rows_of(v, rows)
        for f in dataclasses.fields(batch)
        if isinstance(v := getattr(batch, f.name), np.ndarray)
    }
    return dataclasses.replace(batch, **columns)


def part(batch: Batch, rows: np.ndarray) -> Batch:
    """The rows `rows` of a batch: the batch itself when they are all of it (a mind does not
    change what it is given), else a copy of those rows."""
    return batch if len(rows) == len(batch) else batch.take(rows)


def trust_of(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Trust from evidence of good and bad faith: (pos + 1) / (pos + neg + 2)."""
    return (pos + 1.0) / (pos + neg + 2.0)


class Mind(abc.ABC):
    """Decides for a batch of characters. Subclasses must not keep per-character state:
    everything a character knows lives in the shard, so checkpoints capture it. Nor may they
    change a batch they are given: it can be the shard's own, which the tick settles."""

    name: str = "mind"

    @abc.abstractmethod
    def decide(self, batch: DecisionBatch) -> np.ndarray:
        """An Action per row (int8); the world falls back to a legal action for any other."""

    def read(self, batch: ReadingBatch) -> np.ndarray:
        """The speaker's hidden feeling as each reader guesses it, (rows, N_EMOTIONS)."""
        return read_feelings(batch)


def by_preference(batch: DecisionBatch, cooperate: np.ndarray) -> np.ndarray:
    """For each row, the first legal cooperative action if `cooperate`, else the first legal
    defecting (or neutral) one, in the preference order of `ACTIONS`."""
    out = np.full(len(batch), -1, np.int8)
    for situation, actions in ACTIONS.items():
        rows = rows_where(batch.situation == situation)
        if not len(rows):
            continue
        legal = batch.legal[rows]
        acts = np.array(actions)
        coop = COOPERATION[acts] > 0
        want = cooperate[rows][:, None] == coop[None, :]
        if situation == Situation.ENCOUNTER:
            # meeting someone: cooperate by giving (or at least talking), defect by staying idle
            want = np.where(
                cooperate[rows][:, None],
                coop[None, :] | (acts == Action.CHAT)[None, :],
                (acts == Action.IDLE)[None, :],
            )
        ok = legal[:, acts] & want
        first = np.where(ok.any(1), ok.argmax(1), legal[:, acts].argmax(1))
        out[rows] = acts[first]
    return out


def read_feelings(batch: ReadingBatch) -> np.ndarray:
    """The heuristic reader: trust what is shown, corrected towards what the situation implies
    in proportion to the reader's empathy and how well it knows the speaker (what I did to
    them last colours what I expect them to feel): `kernels.reading.guess`."""
    chars = batch.chars
    return reading.guess(
        chars.traits[:, Trait.EMPATHY],
        chars.rel_meetings,
        chars.rel_mine,
        EXPECTED,
        np.asarray(batch.local, np.int64),
        np.asarray(batch.slot, np.int64),
        np.asarray(batch.kind, np.int64),
        np.ascontiguousarray(batch.shown, np.float32),
        (int(Emotion.ANGER), int(Emotion.SADNESS), int(Emotion.GRATITUDE)),
    )
