"""Strategies of the iterated prisoner's dilemma, by the names the axelrod package gives them.

Each decides every match it plays at once, from the match's history as the player saw it
(the moves actually made, noise included, as axelrod records them): the turns played, the last
moves of both sides as bits (bit 0 the last turn, 1 cooperation) and the opponent's counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

#: Strategies of the donation game (world/classic/donation.py).
DONATION_STRATEGIES: tuple[str, ...] = ("Discriminator", "Cooperator", "Defector")
#: Strategies of the public goods game (world/classic/public_goods.py).
PUBLIC_GOODS_STRATEGIES: tuple[str, ...] = (
    "Cooperator",
    "Defector",
    "Conditional Cooperator",
    "Punisher",
    "Rational",
)
#: Strategies of the trust game's two roles (world/classic/trust.py).
INVESTOR_STRATEGIES: tuple[str, ...] = ("Full Trust", "No Trust", "Trust Then Verify")
TRUSTEE_STRATEGIES: tuple[str, ...] = ("Fair", "Selfish", "Reciprocal")


@dataclasses.dataclass(frozen=True, kw_only=True)
class History:
    """One row per match a player is deciding."""

    turn: np.ndarray  # turns played so far
    mine: np.ndarray  # my last moves, bit 0 the last (1: cooperated)
    theirs: np.ndarray  # the opponent's last moves, likewise
    their_c: np.ndarray  # the opponent's cooperations so far
    their_d: np.ndarray  # the opponent's defections so far
    coin: np.ndarray  # a uniform draw in [0, 1) from the player's stream

    def first(self) -> np.ndarray:
        return self.turn == 0

    def their_last(self) -> np.ndarray:
        return (self.theirs & 1) == 1

    def my_last(self) -> np.ndarray:
        return (self.mine & 1) == 1

    def they_defected_within(self, k: int) -> np.ndarray:
        """The opponent defected in one of its last k moves."""
        seen = (1 << np.minimum(self.turn, k)) - 1
        return (~self.theirs.astype(np.int64) & seen) != 0

    def they_defected_each_of(self, k: int) -> np.ndarray:
        """The opponent's last k moves were all defections (and it made k)."""
        return (self.turn >= k) & ((self.theirs.astype(np.int64) & ((1 << k) - 1)) == 0)


Rule = Callable[[History], np.ndarray]


def _always(value: bool) -> Rule:
    return lambda h: np.full(len(h.turn), value)


#: name -> rule giving True to cooperate; the order is the strategy's index in a shard.
STRATEGIES: dict[str, Rule] = {
    "Cooperator": _always(True),
    "Defector": _always(False),
    "Tit For Tat": lambda h: h.first() | h.their_last(),
    "Suspicious Tit For Tat": lambda h: ~h.first() & h.their_last(),
    "Grudger": lambda h: h.their_d == 0,
    "Tit For 2 Tats": lambda h: ~h.they_defected_each_of(2),
    "Two Tits For Tat": lambda h: ~h.they_defected_within(2),
    "Hard Tit For Tat": lambda h: ~h.they_defected_within(3),
    "Win-Stay Lose-Shift": lambda h: h.first() | (h.my_last() == h.their_last()),
    "Alternator": lambda h: h.first() | ~h.my_last(),
    "Anti Tit For Tat": lambda h: h.first() | ~h.their_last(),
    "Bully": lambda h: ~h.first() & ~h.their_last(),
    "Cycler CCD": lambda h: h.turn % 3 != 2,
    "Go By Majority": lambda h: h.their_d <= h.their_c,
    "Hard Go By Majority": lambda h: h.their_d < h.their_c,
    "Random": lambda h: h.coin < 0.5,
}
STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)
#: Strategies whose moves depend on chance (the rest are deterministic).
STOCHASTIC: frozenset[str] = frozenset({"Random"})


def cooperate(strategy: np.ndarray, history: History) -> np.ndarray:
    """Each row's intended move (True: cooperate) under its strategy (an index of
    STRATEGY_NAMES)."""
    out = np.zeros(len(strategy), bool)
    for k, rule in enumerate(STRATEGIES.values()):
        rows = np.flatnonzero(strategy == k)
        if len(rows):
            part = History(**{f.name: getattr(history, f.name)[rows] for f in _FIELDS})
            out[rows] = rule(part)
    return out


_FIELDS = dataclasses.fields(History)
