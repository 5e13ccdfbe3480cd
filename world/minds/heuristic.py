"""The default mind: personality-weighted utilities over the legal actions, for a whole batch.

Every action's utility is a short formula in the actor's traits, feelings, needs and its memory
of the counterpart; a small per-character random term breaks ties and keeps characters from
being clockwork. Adaptation comes from the memory it reads: a partner who betrayed twice, a
character made wary by betrayals, an expectation of how many others contribute.

Rows are grouped by situation and each group scores only its own actions, so the work is
proportional to the choices actually open, not to every action of the world.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from world.acts import ACTIONS, Action
from world.kernels import slots
from world.minds.base import DecisionBatch, Mind, trust_of
from world.rng import Stream, hash64, spread
from world.vocab import Emotion, Trait

NOISE = 0.25


class Features:
    """What the heuristic weighs, for some rows of a batch, each computed once when asked."""

    def __init__(self, batch: DecisionBatch, rows: np.ndarray) -> None:
        self.b, self.rows = batch, rows
        self.chars = batch.chars
        self.local = batch.local[rows]
        self.slot = batch.slot[rows]

    def _trait(self, t: Trait) -> np.ndarray:
        return self.chars.traits[self.local, t].astype(np.float64)

    def _feeling(self, e: Emotion) -> np.ndarray:
        return self.chars.emotion[self.local, e].astype(np.float64)

    def _row(self, column: str) -> np.ndarray:
        return getattr(self.b, column)[self.rows]

    def _flag(self, column: str) -> np.ndarray:
        return self._row(column).astype(np.float64)

    def _relation(self, column: str) -> np.ndarray:
        """The actor's memory of the counterpart (0 where it has none)."""
        return slots.gather(getattr(self.chars, column), self.local, self.slot, 0.0)

    honest = functools.cached_property(lambda self: self._trait(Trait.HONESTY))
    agree = functools.cached_property(lambda self: self._trait(Trait.AGREEABLENESS))
    gener = functools.cached_property(lambda self: self._trait(Trait.GENEROSITY))
    venge = functools.cached_property(lambda self: self._trait(Trait.VENGEFULNESS))
    empathy = functools.cached_property(lambda self: self._trait(Trait.EMPATHY))
    social = functools.cached_property(lambda self: self._trait(Trait.SOCIABILITY))
    anger = functools.cached_property(lambda self: self._feeling(Emotion.ANGER))
    gratitude = functools.cached_property(lambda self: self._feeling(Emotion.GRATITUDE))
    wary = functools.cached_property(
        lambda self: self.chars.wariness[self.local].astype(np.float64)
    )
    pg = functools.cached_property(lambda self: self.chars.pg_expect[self.local].astype(np.float64))
    need = functools.cached_property(lambda self: self._row("need"))
    gain = functools.cached_property(lambda self: self._row("gain"))
    news = functools.cached_property(lambda self: self._flag("news"))
    produces = functools.cached_property(lambda self: self._flag("produces"))
    loan = functools.cached_property(lambda self: self._flag("loan"))
    vuln = functools.cached_property(lambda self: self._flag("vulnerable"))
    trust = functools.cached_property(
        lambda self: trust_of(self._relation("rel_pos"), self._relation("rel_neg"))
    )
    aff = functools.cached_property(lambda self: self._relation("rel_aff"))
    att = functools.cached_property(lambda self: self._relation("rel_att"))
    betrayed = functools.cached_property(lambda self: self._relation("rel_betrayals"))
    rep = functools.cached_property(lambda self: self._relation("rel_rep"))
    owe = functools.cached_property(  # they gave me more than I gave them
        lambda self: (self._relation("rel_balance") < 0).astype(np.float64)
    )
    grudge = functools.cached_property(lambda self: self.betrayed * self.venge)
    kindness = functools.cached_property(lambda self: 0.5 * self.gener + 0.5 * self.empathy)


Utility = Callable[[Features], "np.ndarray | float"]

#: The utility of each action, in the features of the deciding character.
UTILITY: dict[Action, Utility] = {
    Action.KEEP: lambda f: 0.2 + 0.9 * f.honest + 0.25 * f.att + 0.1 * f.aff - 0.35 * f.need,
    Action.BREAK: lambda f: 0.55 + 0.2 * f.wary + 0.15 * f.grudge,
    Action.ACCEPT: lambda f: 0.25 + f.gain + 0.2 * f.trust + 0.1 * f.aff - 0.3 * f.grudge,
    Action.COUNTER: lambda f: 0.1 + 0.2 * f.trust + 0.2 * f.honest - 0.3 * f.grudge,
    Action.REJECT: lambda f: 0.3 + 0.2 * f.wary,
    Action.GIVE: lambda f: (
        0.05
        + 0.55 * f.gener
        + 0.25 * f.agree
        + 0.45 * f.att
        + 0.25 * f.trust
        + 0.3 * f.owe
        + 0.45 * f.vuln * f.kindness
        + 0.2 * f.loan * f.trust
        + 0.15 * f.rep
        + 0.2 * f.gratitude
        - 0.8 * f.need
        - 0.45 * f.grudge
        - 0.3 * f.wary * f.loan
    ),
    Action.PROMISE: lambda f: (
        0.15 + 0.3 * (1 - f.honest) + 0.15 * f.agree + 0.35 * f.honest * f.produces - 0.3 * f.grudge
    ),
    Action.DECLINE: lambda f: 0.55 + 0.25 * f.need + 0.1 * f.wary,
    Action.APOLOGIZE: lambda f: 0.15 + 0.45 * f.honest + 0.35 * f.agree + 0.2 * f.aff + 0.2 * f.att,
    Action.IGNORE: lambda f: 0.55 + 0.2 * (1 - f.agree),
    Action.FORGIVE: lambda f: (
        0.2
        + 0.45 * f.agree
        + 0.4 * (1 - f.venge)
        + 0.3 * f.att
        + 0.15 * f.aff
        - 0.3 * np.maximum(f.betrayed - 1, 0)
        - 0.4 * f.anger
    ),
    Action.REFUSE: lambda f: 0.45 + 0.1 * f.betrayed,
    Action.CONTRIBUTE: lambda f: 0.1 + 0.45 * f.gener + 0.15 * f.agree + 0.5 * f.pg - 0.6 * f.need,
    Action.FREE_RIDE: lambda f: 0.5,
    Action.IDLE: lambda f: 0.3,
    Action.CHAT: lambda f: 0.1 + 0.4 * f.social + 0.2 * f.aff,
    Action.GIFT: lambda f: (
        -0.15
        + 0.4 * f.gener
        + 0.5 * f.vuln * f.kindness
        + 0.35 * f.att
        + 0.2 * f.owe
        + 0.1 * f.rep
        - 0.8 * f.need
        - 0.45 * f.grudge
    ),
    Action.OFFER_TRADE: lambda f: 0.25 + 0.3 * f.gain + 0.15 * f.trust - 0.3 * f.grudge,
    Action.ASK: lambda f: -0.25 + 1.3 * f.need + 0.2 * f.trust + 0.2 * f.att - 0.3 * f.grudge,
    Action.GOSSIP: lambda f: 0.05 + 0.3 * f.social + 0.15 * (1 - f.honest) + 0.3 * f.news,
}
assert set(UTILITY) == set(Action)


def decision_keys(batch: DecisionBatch) -> np.ndarray:
    """One 64-bit key per row from the actor's own stream, keyed by the decision."""
    return hash64(
        batch.seed,
        Stream.CHOICE,
        batch.actor,
        batch.tick,
        batch.situation,
        batch.counterpart,
        batch.ref,
    )


class HeuristicMind(Mind):
    name = "heuristic"

    def decide(self, batch: DecisionBatch) -> np.ndarray:
        out = np.zeros(len(batch), np.int8)
        if not len(batch):
            return out
        keys = decision_keys(batch)
        for situation, actions in ACTIONS.items():
            rows = np.flatnonzero(batch.situation == situation)
            if not len(rows):
                continue
            f = Features(batch, rows)
            acts = np.array(actions)
            u = np.empty((len(rows), len(acts)))
            for j, a in enumerate(actions):
                u[:, j] = UTILITY[a](f)
            u += NOISE * spread(keys[rows][:, None], acts[None, :])
            # (`take` twice: numpy's fancy indexing of a bool matrix by rows then columns costs
            # several times as much)
            u = np.where(batch.legal.take(rows, 0).take(acts, 1), u, -np.inf)
            out[rows] = acts[u.argmax(axis=1)]
        return out
