"""How a population's strategies change from one generation to the next, given its payoffs.

Pure functions of (seed, generation, the strategies and payoffs of the whole population), so
every shard that applies one gets the same next population. Every draw is a character's own,
from the CULTURE stream keyed by (character, generation, what the draw is for):

- **Moran** (birth-death, as axelrod's MoranProcess): a player reproduces with probability
  f_i / sum f, f_i = exp(beta x payoff_i); its offspring replaces a player drawn uniformly
  among all N (the parent included). The reproducer is the winner of an exponential race:
  each player draws u_i and waits -ln(1 - u_i) / f_i, and the first wins, which happens with
  probability f_i / sum f exactly; the player replaced is the one with the smallest death
  draw. With probability mu (the newborn's draw) the newborn takes a strategy drawn uniformly
  among those listed (its parent's included) instead of its parent's.
- **Fermi** (pairwise comparison, Traulsen, Nowak and Pacheco 2006): the player with the
  smallest draw looks at another drawn uniformly among the other N - 1 and takes its strategy
  with probability 1 / (1 + exp(-beta (payoff_other - payoff_self))); with probability mu it
  takes instead a strategy drawn uniformly among those listed.

Fitness is taken as exp(beta (payoff - max payoff)): the common factor does not change a
choice and keeps the exponential finite. Exponentials and logarithms are Python's (`math`),
one value at a time, so their bits do not depend on numpy's vector paths.
"""

from __future__ import annotations

import dataclasses
import math
from enum import IntEnum

import numpy as np

from world.rng import Stream, below, uniform


class Draw(IntEnum):
    """What a draw of the CULTURE stream is for (its last key)."""

    BIRTH = 1
    DEATH = 2
    MUTATE = 3
    MUTANT = 4
    FOCAL = 5
    MODEL = 6
    IMITATE = 7


@dataclasses.dataclass(frozen=True)
class Change:
    """One generation's update: `player` now plays `strategy` (perhaps what it played);
    `source`, the player it came from (the parent, the model; itself for a mutant)."""

    player: int
    strategy: int
    source: int
    mutant: bool


def draws(seed: int, n: int, generation: int, what: Draw) -> np.ndarray:
    """Each player's draw of one kind in one generation, in id order."""
    return uniform(seed, Stream.CULTURE, np.arange(n), generation, int(what))


def waits(u: np.ndarray, payoff: np.ndarray, beta: float) -> list[float]:
    """Each player's wait -ln(1 - u) / f in the race to reproduce, f = exp(beta (payoff - the
    top payoff)); infinite where f is too small for a float (the player cannot win)."""
    top = max(payoff.tolist())
    out = []
    for ui, p in zip(u.tolist(), payoff.tolist(), strict=True):
        behind = beta * (top - p)
        out.append(-math.log1p(-ui) * math.exp(behind) if behind < _FAR else math.inf)
    return out


#: exp(_FAR) is still a float (exp(710) is not)
_FAR = 700.0


def moran(
    seed: int,
    generation: int,
    strategy: np.ndarray,
    payoff: np.ndarray,
    beta: float,
    mu: float,
    listed: int,
) -> Change:
    """One birth-death event (see the module's docstring)."""
    n = len(strategy)
    wait = waits(draws(seed, n, generation, Draw.BIRTH), payoff, beta)
    parent = int(np.argmin(wait))
    dead = int(np.argmin(draws(seed, n, generation, Draw.DEATH)))
    return _newborn(seed, generation, dead, int(strategy[parent]), parent, mu, listed)


def fermi(
    seed: int,
    generation: int,
    strategy: np.ndarray,
    payoff: np.ndarray,
    beta: float,
    mu: float,
    listed: int,
) -> Change:
    """One imitation event (see the module's docstring)."""
    n = len(strategy)
    focal = int(np.argmin(draws(seed, n, generation, Draw.FOCAL)))
    pick = int(below(seed, Stream.CULTURE, n - 1, focal, generation, int(Draw.MODEL))[0])
    model = pick + (pick >= focal)
    gain = float(payoff[model]) - float(payoff[focal])
    chance = _logistic(beta * gain)
    u = float(uniform(seed, Stream.CULTURE, focal, generation, int(Draw.IMITATE))[0])
    source = model if u < chance else focal
    return _newborn(seed, generation, focal, int(strategy[source]), source, mu, listed)


def _logistic(x: float) -> float:
    """1 / (1 + exp(-x)), without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _newborn(
    seed: int, generation: int, player: int, inherited: int, source: int, mu: float, listed: int
) -> Change:
    """`player` takes `inherited`, or with probability mu a strategy drawn among `listed`."""
    if mu > 0:
        u = float(uniform(seed, Stream.CULTURE, player, generation, int(Draw.MUTATE))[0])
        if u < mu:
            pick = int(below(seed, Stream.CULTURE, listed, player, generation, int(Draw.MUTANT))[0])
            return Change(player, pick, player, True)
    return Change(player, inherited, source, False)


RULES = {"moran": moran, "fermi": fermi}


def update(
    process: str,
    seed: int,
    generation: int,
    strategy: np.ndarray,
    payoff: np.ndarray,
    beta: float,
    mu: float,
    listed: int,
) -> np.ndarray:
    """The next generation's strategies (a new array)."""
    change = RULES[process](seed, generation, strategy, payoff, beta, mu, listed)
    out = strategy.copy()
    out[change.player] = change.strategy
    return out
