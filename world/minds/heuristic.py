"""The default mind: personality-weighted utilities over the legal actions, for a whole batch.

Every action's utility is a short formula in the actor's traits, feelings, needs and its memory
of the counterpart; a small per-character random term breaks ties and keeps characters from
being clockwork. Adaptation comes from the memory it reads: a partner who betrayed twice, a
character made wary by betrayals, an expectation of how many others contribute.
"""

from __future__ import annotations

import numpy as np

from world.acts import N_ACTIONS, Action
from world.minds.base import DecisionBatch, Mind
from world.rng import Stream, hash64
from world.vocab import Boundary, Emotion, Trait

NOISE = 0.25


def choice_noise(batch: DecisionBatch) -> np.ndarray:
    """(rows, N_ACTIONS) uniforms from the actors' own streams, keyed by the decision."""
    h = hash64(
        batch.seed,
        Stream.CHOICE,
        batch.actor,
        batch.tick,
        batch.situation,
        batch.counterpart,
        batch.ref,
    )
    per_action = hash64(0, Stream.CHOICE, h[:, None], np.arange(N_ACTIONS)[None, :])
    return (per_action >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class HeuristicMind(Mind):
    name = "heuristic"

    def utilities(self, b: DecisionBatch) -> np.ndarray:
        c = b.chars
        t = c.traits[b.local].astype(np.float64)
        honest, agree, gener = (
            t[:, Trait.HONESTY],
            t[:, Trait.AGREEABLENESS],
            t[:, Trait.GENEROSITY],
        )
        venge, empathy, social = (
            t[:, Trait.VENGEFULNESS],
            t[:, Trait.EMPATHY],
            t[:, Trait.SOCIABILITY],
        )
        anger = c.emotion[b.local, Emotion.ANGER].astype(np.float64)
        gratitude = c.emotion[b.local, Emotion.GRATITUDE].astype(np.float64)
        wary = c.wariness[b.local].astype(np.float64)
        need = b.need
        trust = b.trust()
        aff = b.relation("rel_aff", 0.0)
        att = b.relation("rel_att", 0.0)
        betrayed = b.relation("rel_betrayals", 0.0)
        rep = b.relation("rel_rep", 0.0)
        owe = (b.relation("rel_balance", 0.0) < 0).astype(np.float64)  # they gave me more
        vuln = b.vulnerable.astype(np.float64)
        loan = b.loan.astype(np.float64)
        grudge = betrayed * venge
        u = np.full((len(b), N_ACTIONS), -np.inf)
        u[:, Action.KEEP] = 0.2 + 0.9 * honest + 0.25 * att + 0.1 * aff - 0.35 * need
        u[:, Action.BREAK] = 0.55 + 0.2 * wary + 0.15 * grudge
        u[:, Action.ACCEPT] = 0.25 + b.gain + 0.2 * trust + 0.1 * aff - 0.3 * grudge
        u[:, Action.COUNTER] = 0.1 + 0.2 * trust + 0.2 * honest - 0.3 * grudge
        u[:, Action.REJECT] = 0.3 + 0.2 * wary
        u[:, Action.GIVE] = (
            0.05
            + 0.55 * gener
            + 0.25 * agree
            + 0.45 * att
            + 0.25 * trust
            + 0.3 * owe
            + 0.45 * vuln * (0.5 * gener + 0.5 * empathy)
            + 0.2 * loan * trust
            + 0.15 * rep
            + 0.2 * gratitude
            - 0.8 * need
            - 0.45 * grudge
            - 0.3 * wary * loan
        )
        u[:, Action.PROMISE] = (
            0.15 + 0.3 * (1 - honest) + 0.15 * agree + 0.35 * honest * b.produces - 0.3 * grudge
        )
        u[:, Action.DECLINE] = 0.55 + 0.25 * need + 0.1 * wary
        u[:, Action.APOLOGIZE] = 0.15 + 0.45 * honest + 0.35 * agree + 0.2 * aff + 0.2 * att
        u[:, Action.IGNORE] = 0.55 + 0.2 * (1 - agree)
        u[:, Action.FORGIVE] = (
            0.1
            + 0.45 * agree
            + 0.4 * (1 - venge)
            + 0.3 * att
            + 0.15 * aff
            - 0.3 * np.maximum(betrayed - 1, 0)
            - 0.4 * anger
        )
        u[:, Action.REFUSE] = 0.45 + 0.1 * betrayed
        pg = c.pg_expect[b.local].astype(np.float64)
        u[:, Action.CONTRIBUTE] = 0.1 + 0.45 * gener + 0.15 * agree + 0.5 * pg - 0.6 * need
        u[:, Action.FREE_RIDE] = 0.5
        u[:, Action.IDLE] = 0.3
        u[:, Action.CHAT] = 0.1 + 0.4 * social + 0.2 * aff
        u[:, Action.GIFT] = (
            -0.15
            + 0.4 * gener
            + 0.5 * vuln * (0.5 * gener + 0.5 * empathy)
            + 0.35 * att
            + 0.2 * owe
            + 0.1 * rep
            - 0.8 * need
            - 0.45 * grudge
        )
        u[:, Action.OFFER_TRADE] = 0.25 + 0.3 * b.gain + 0.15 * trust - 0.3 * grudge
        u[:, Action.ASK] = -0.25 + 1.3 * need + 0.2 * trust + 0.2 * att - 0.3 * grudge
        u[:, Action.GOSSIP] = 0.05 + 0.3 * social + 0.15 * (1 - honest) + 0.3 * b.news
        return u

    def decide(self, batch: DecisionBatch) -> np.ndarray:
        if not len(batch):
            return np.zeros(0, np.int8)
        u = self.utilities(batch) + NOISE * choice_noise(batch)
        u[~batch.legal] = -np.inf
        return u.argmax(axis=1).astype(np.int8)


def boundary(chars, local: np.ndarray, which: Boundary) -> np.ndarray:
    return (chars.boundaries[local] >> np.uint8(which) & 1).astype(bool)
