"""Fixation over repeats: how often each strategy of an evolution scenario takes over, and how
long it takes; and the invasion matrix (can a single mutant of A take over a population of B?).

Repeat r runs the scenario with seed `seed + r`, the rule `socius sweep` follows, in this
process (evolution.py `evolve`: the same draws and results as `socius run --seed S+r`).
Probabilities come with Wilson's score interval (95% by default), which stays inside [0, 1]
and is honest for the small probabilities and counts of fixation studies.
"""

from __future__ import annotations

import dataclasses
import math

from world.classic.config import Evolution
from world.classic.evolution import evolve
from world.classic.evolution_results import evolution_results
from world.scenario import Scenario

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a probability seen `successes` times in `trials`."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclasses.dataclass(frozen=True)
class Fixation:
    """What `repeats` runs of an evolution scenario came to."""

    repeats: int
    #: runs each strategy took over (strategies listed in the scenario, in its order)
    wins: dict[str, int]
    #: each run's generation of fixation (None: nothing fixated within its generations)
    generations: tuple[int | None, ...]
    #: the winner of each run (None likewise)
    winners: tuple[str | None, ...]

    def probability(self, name: str) -> float:
        """The share of runs `name` took over."""
        return self.wins[name] / self.repeats

    def interval(self, name: str, z: float = Z95) -> tuple[float, float]:
        return wilson(self.wins[name], self.repeats, z)

    def standard_error(self, name: str) -> float:
        p = self.probability(name)
        return math.sqrt(p * (1 - p) / self.repeats)

    def mean_time(self, name: str | None = None) -> float | None:
        """The mean generation of fixation, over the runs that fixated (those `name` won)."""
        times = [
            g
            for g, w in zip(self.generations, self.winners, strict=True)
            if g is not None and (name is None or w == name)
        ]
        return sum(times) / len(times) if times else None

    def unfixed(self) -> int:
        """Runs in which nothing fixated (mutation, or too few generations)."""
        return sum(g is None for g in self.generations)


def fixation(scenario: Scenario, repeats: int) -> Fixation:
    """Run an evolution scenario `repeats` times (seeds seed, seed + 1, ...) and count who
    took over."""
    game = scenario.classic
    if not isinstance(game, Evolution):
        raise ValueError(f"scenario {scenario.name} is not an evolution (classic kind evolution)")
    wins = dict.fromkeys(game.names(), 0)
    generations: list[int | None] = []
    winners: list[str | None] = []
    for r in range(repeats):
        run = scenario.model_copy(update={"seed": scenario.seed + r})
        results = evolution_results(run, evolve(run))
        generations.append(results["fixation_generation"])
        winners.append(results["winner"])
        if results["winner"] is not None:
            wins[results["winner"]] += 1
    return Fixation(repeats, wins, tuple(generations), tuple(winners))


def invader(scenario: Scenario, mutant: str, resident: str) -> Scenario:
    """The scenario's population (its size, rules and seed) made of one `mutant` and
    residents for the rest, without mutation."""
    game = scenario.classic
    assert isinstance(game, Evolution)
    n = game.characters()
    return scenario.with_overrides(
        **{"classic.players": {mutant: 1, resident: n - 1}, "classic.mutation": 0.0}
    )


def invasion_matrix(
    scenario: Scenario, strategies: list[str], repeats: int
) -> dict[tuple[str, str], Fixation]:
    """For each ordered pair (A, B) of different strategies: how a single A fared in a
    population of B (the scenario's size, process, selection and game), over `repeats` runs.
    A takes over more often than 1/N (neutral drift) where selection favours it."""
    return {
        (a, b): fixation(invader(scenario, a, b), repeats)
        for a in strategies
        for b in strategies
        if a != b
    }
