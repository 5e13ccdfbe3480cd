"""Strategies of the iterated prisoner's dilemma, by the names the axelrod package gives them.

Each decides every match it plays at once, from the match's history as the player saw it
(the moves actually made, noise included, as axelrod records them): the turns played, the last
moves of both sides as bits (bit 0 the last turn, 1 cooperation) and the opponent's counts.
The memory-one strategies (memory_one.py: GTFT, the zero-determinant ones, Random with any p,
any vector as "Memory One(...)") share one rule that reads each player's vector of chances.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from world.classic.memory_one import FAMILIES, RSTP, MemoryOne, memory_one, split

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
    #: (rows, 5): a memory-one player's chances of cooperating after CC, CD, DC, DD (its
    #: move first) and on the first move (`MemoryOne.row`); unused by the other strategies
    chances: np.ndarray

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


def _memory_one(h: History) -> np.ndarray:
    """Cooperate with the chance the vector gives the last turn's outcome, or the first move."""
    outcome = 2 * (~h.my_last()).astype(np.int64) + (~h.their_last()).astype(np.int64)
    column = np.where(h.first(), 4, outcome)  # 0 CC, 1 CD, 2 DC, 3 DD, 4 start
    return h.coin < h.chances[np.arange(len(column)), column]


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
    # the memory-one families, "Random" (p = 1/2 by default) in its place of old
    **{name: _memory_one for name in FAMILIES},
}
STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)
#: Strategies whose moves depend on chance (the rest are deterministic), with their defaults:
#: every memory-one family but Win-Shift Lose-Stay ("Memory One" may be either).
STOCHASTIC: frozenset[str] = frozenset(FAMILIES) - {"Win-Shift Lose-Stay"}


def resolve(spec: str, payoffs: RSTP) -> tuple[int, MemoryOne | None]:
    """A player's strategy as a scenario writes it ("Tit For Tat", "GTFT(0.1)", "Memory
    One(1, 0, 1, 0)"): its index in STRATEGY_NAMES and, for a memory-one strategy, its vector
    under the payoffs. ValueError, one line, for an unknown name or a bad parameter."""
    name, arguments = split(spec)
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; allowed: {', '.join(STRATEGY_NAMES)}")
    if name in FAMILIES:
        return STRATEGY_NAMES.index(name), memory_one(spec, name, arguments, payoffs)
    if arguments is not None:
        raise ValueError(f"{spec!r}: {name} takes no parameters")
    return STRATEGY_NAMES.index(name), None


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
