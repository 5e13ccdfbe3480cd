"""The default mind: personality-weighted utilities over the legal actions, for a whole batch.

Every action's utility is a short formula in the actor's traits, feelings, needs and its memory
of the counterpart; a small per-character random term breaks ties and keeps characters from
being clockwork. Adaptation comes from the memory it reads: a partner who betrayed twice, a
character made wary by betrayals, an expectation of how many others contribute.

Each decision scores only the actions its situation offers (compiled: world/kernels/utilities.py),
so the work is proportional to the choices actually open, not to every action of the world.
"""

from __future__ import annotations

import numpy as np

from world.acts import ACTIONS, Action
from world.kernels import utilities
from world.minds.base import DecisionBatch, Mind
from world.rng import Stream, hash64

NOISE = 0.25


#: What the heuristic weighs, for a decision's actor: its traits and feelings, the decision's
#: own figures, and its memory of the counterpart (0 where it has none). `world/kernels/
#: utilities.py` computes them, in this order, as float64.
FEATURES = (
    "honest",  # traits
    "agree",
    "gener",
    "venge",
    "empathy",
    "social",
    "anger",  # feelings
    "gratitude",
    "wary",  # wariness
    "pg",  # how many of the group it expects to contribute
    "need",  # the decision's figures: its own need, 0..1
    "gain",  # the worth of the deal on offer, relative to what it pays
    "news",  # 1: it has gossip to pass on
    "produces",  # 1: it produces the good in question
    "loan",  # 1: a request to be repaid
    "vuln",  # 1: the counterpart is a child, sick or hungry, as far as it knows
    "trust",  # (pos + 1) / (pos + neg + 2) of its memory of the counterpart
    "aff",  # affinity
    "att",  # attachment
    "betrayed",  # betrayals
    "rep",  # the counterpart's reputation, as it has heard it
    "owe",  # 1: they gave it more than it gave them
    "grudge",  # betrayed * venge
    "kindness",  # 0.5 * gener + 0.5 * empathy
    "dishonest",  # 1 - honest
    "disagree",  # 1 - agree
    "forgiving",  # 1 - venge
    "betrayed_again",  # max(betrayed - 1, 0)
)
assert len(FEATURES) == utilities.N_FEATURES

#: A utility: a constant, then terms added in order, each a coefficient times one feature or
#: the product of two ((coefficient * first) * second, as written left to right).
Term = tuple[float, str] | tuple[float, str, str]

#: The utility of each action, in the features of the deciding character.
UTILITY: dict[Action, tuple[float, tuple[Term, ...]]] = {
    Action.KEEP: (0.2, ((0.9, "honest"), (0.25, "att"), (0.1, "aff"), (-0.35, "need"))),
    Action.BREAK: (0.55, ((0.2, "wary"), (0.15, "grudge"))),
    Action.ACCEPT: (0.25, ((1.0, "gain"), (0.2, "trust"), (0.1, "aff"), (-0.3, "grudge"))),
    Action.COUNTER: (0.1, ((0.2, "trust"), (0.2, "honest"), (-0.3, "grudge"))),
    Action.REJECT: (0.3, ((0.2, "wary"),)),
    Action.GIVE: (
        0.05,
        (
            (0.55, "gener"),
            (0.25, "agree"),
            (0.45, "att"),
            (0.25, "trust"),
            (0.3, "owe"),
            (0.45, "vuln", "kindness"),
            (0.2, "loan", "trust"),
            (0.15, "rep"),
            (0.2, "gratitude"),
            (-0.8, "need"),
            (-0.45, "grudge"),
            (-0.3, "wary", "loan"),
        ),
    ),
    Action.PROMISE: (
        0.15,
        ((0.3, "dishonest"), (0.15, "agree"), (0.35, "honest", "produces"), (-0.3, "grudge")),
    ),
    Action.DECLINE: (0.55, ((0.25, "need"), (0.1, "wary"))),
    Action.APOLOGIZE: (
        0.15,
        ((0.45, "honest"), (0.35, "agree"), (0.2, "aff"), (0.2, "att")),
    ),
    Action.IGNORE: (0.55, ((0.2, "disagree"),)),
    Action.FORGIVE: (
        0.2,
        (
            (0.45, "agree"),
            (0.4, "forgiving"),
            (0.3, "att"),
            (0.15, "aff"),
            (-0.3, "betrayed_again"),
            (-0.4, "anger"),
        ),
    ),
    Action.REFUSE: (0.45, ((0.1, "betrayed"),)),
    Action.CONTRIBUTE: (
        0.1,
        ((0.45, "gener"), (0.15, "agree"), (0.5, "pg"), (-0.6, "need")),
    ),
    Action.FREE_RIDE: (0.5, ()),
    Action.IDLE: (0.3, ()),
    Action.CHAT: (0.1, ((0.4, "social"), (0.2, "aff"))),
    Action.GIFT: (
        -0.15,
        (
            (0.4, "gener"),
            (0.5, "vuln", "kindness"),
            (0.35, "att"),
            (0.2, "owe"),
            (0.1, "rep"),
            (-0.8, "need"),
            (-0.45, "grudge"),
        ),
    ),
    Action.OFFER_TRADE: (0.25, ((0.3, "gain"), (0.15, "trust"), (-0.3, "grudge"))),
    Action.ASK: (-0.25, ((1.3, "need"), (0.2, "trust"), (0.2, "att"), (-0.3, "grudge"))),
    Action.GOSSIP: (0.05, ((0.3, "social"), (0.15, "dishonest"), (0.3, "news"))),
}
assert set(UTILITY) == set(Action)


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """UTILITY and ACTIONS as the kernel's arrays: each action's constant; its terms
    (coefficient, first feature, second feature or -1), padded with rows of -1 features; each
    situation's actions, padded with -1."""
    width = max(len(terms) for _, terms in UTILITY.values())
    const = np.zeros(len(Action), np.float64)
    coef = np.zeros((len(Action), width), np.float64)
    feature = np.full((len(Action), width, 2), -1, np.int64)
    for a, (c, terms) in UTILITY.items():
        const[a] = c
        for k, (w, *names) in enumerate(terms):
            coef[a, k] = w
            feature[a, k, : len(names)] = [FEATURES.index(str(n)) for n in names]
    choices = np.full((max(ACTIONS) + 1, max(len(v) for v in ACTIONS.values())), -1, np.int64)
    for situation, actions in ACTIONS.items():
        choices[situation, : len(actions)] = actions
    return const, coef, feature, choices


CONSTANT, COEFFICIENT, TERM_FEATURES, CHOICES = _tables()


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
        c = batch.chars
        utilities.choose(
            batch.situation,
            batch.local,
            batch.slot,
            decision_keys(batch),
            batch.need,
            batch.gain,
            batch.news,
            batch.produces,
            batch.loan,
            batch.vulnerable,
            batch.legal,
            c.traits,
            c.emotion,
            c.wariness,
            c.pg_expect,
            c.rel_pos,
            c.rel_neg,
            c.rel_aff,
            c.rel_att,
            c.rel_betrayals,
            c.rel_rep,
            c.rel_balance,
            CHOICES,
            CONSTANT,
            COEFFICIENT,
            TERM_FEATURES,
            NOISE,
            out,
        )
        return out
