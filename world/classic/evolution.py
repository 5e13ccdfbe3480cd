"""Evolutionary dynamics of a classic game on the world's shards: the iterated prisoner's
dilemma (a round robin of matches, below) or the donation game (`game: donation`:
donation_rounds.py, whose generation every shard plays whole from the players' own draws, in
place of step 3's matches).

A population of N players (`classic: {kind: evolution}`, config.py `Evolution`), each playing
one of the listed strategies. Tick t plays generation g = t - 1:

1. (t > 1) The mail of tick t - 1 holds, from every other player, its strategy and payoff in
   generation g - 1. Every shard applies the same update (dynamics.py: one Moran birth-death
   or one Fermi imitation, drawn from the characters' own streams) to the whole population and
   keeps its own players' new strategies. Shard 0 counts the strategies of generation g.
2. Without mutation, a population of one strategy has fixated: the game stops there (no more
   matches, no more mail; the remaining ticks, if any, are idle).
3. Every match of the generation is a whole match (matches.py) played in this tick, inside the
   shard of each of its two players (a match between two shards' players is played by both,
   the same way: its draws are keyed by the players, not by the shard). A player's payoff is
   the mean over its N - 1 matches (`math.fsum`, so the same bits wherever it is summed).
4. Each player tells every other player its strategy and payoff (an OBSERVATION envelope
   about itself: `ref` the strategy, `due` and `source` the payoff's 64 bits).

So the matches are shared out among the shards, each generation's update needs only the mail,
and the state (each character's strategy, payoff and whether the game is over) and the digest
do not depend on the number of shards. A game takes `generations + 1` ticks: the last update
lands in the tick after the last generation's matches.

`evolve` plays the same generations in this process without shards or mail (the same
functions, draws and counts): the results of a run of the scenario, for the many repeats of
fixation.py.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, ClassVar

import numpy as np

from world.classic.base import TICKS, ClassicShard
from world.classic.config import Evolution
from world.classic.donation_rounds import DonationRounds
from world.classic.dynamics import update
from world.classic.matches import Matches
from world.scenario import Scenario
from world.stats import TickStats
from world.vocab import Kind
from world.wire import Mail


def starting(game: Evolution) -> np.ndarray:
    """Each player's strategy in generation 0 (an index of the listed ones), in id order:
    the counts as listed, in turn."""
    return np.repeat(np.arange(len(game.players)), list(game.players.values())).astype(np.int16)


class Population:
    """What a generation does, for the players `mine` of a population (all of them, or a
    shard's)."""

    def __init__(self, scenario: Scenario) -> None:
        game = scenario.classic
        assert isinstance(game, Evolution)
        self.game = game
        self.seed = seed = scenario.seed
        noise = scenario.noise
        self.generation: Matches | DonationRounds = (
            DonationRounds(game, seed, scenario.norm, noise.execution, noise.assessment)
            if game.game == "donation"
            else Matches(game, seed)
        )

    def next(self, generation: int, strategy: np.ndarray, payoff: np.ndarray) -> np.ndarray:
        """The strategies of generation + 1, from the strategies and payoffs of `generation`."""
        g = self.game
        return update(
            g.process, self.seed, generation, strategy, payoff, g.selection, g.mutation,
            len(g.players),
        )  # fmt: skip

    def fixated(self, strategy: np.ndarray) -> bool:
        return self.game.mutation == 0 and bool(np.all(strategy == strategy[0]))

    def count(self, generation: int, strategy: np.ndarray, results: Counter[str]) -> None:
        """The population of `generation`, as counts per strategy (shard 0 only)."""
        listed = np.bincount(strategy, minlength=len(self.game.players))
        for k, c in enumerate(listed.tolist()):
            if c:
                results[f"count {generation} {k}"] += c

    def play(
        self, generation: int, strategy: np.ndarray, mine: np.ndarray, results: Counter[str]
    ) -> tuple[np.ndarray, int, int]:
        """Every match (every donation round) of the players `mine` in `generation`: their
        payoffs (in that order), and their moves and cooperations, which `results` counts
        too."""
        if isinstance(self.generation, DonationRounds):
            return self._donate(self.generation, generation, strategy, mine, results)
        n = len(strategy)
        local = np.zeros(n, bool)
        local[mine] = True
        i, j = np.triu_indices(n, 1)
        keep = local[i] | local[j]
        a, b = i[keep], j[keep]
        played = self.generation.play(generation, a, b, strategy)
        per_turn = self.game.payoff == "per_turn"
        value = np.zeros((n, n))
        value[a, b] = played.pay_a / played.turns if per_turn else played.pay_a
        value[b, a] = played.pay_b / played.turns if per_turn else played.pay_b
        turns = np.zeros((n, n), np.int64)
        turns[a, b] = turns[b, a] = played.turns
        coops = np.zeros((n, n), np.int64)
        coops[a, b], coops[b, a] = played.coop_a, played.coop_b
        moves, cooperations = int(turns[mine].sum()), int(coops[mine].sum())
        results[f"moves {generation}"] += moves
        results[f"cooperations {generation}"] += cooperations
        payoff = np.array([math.fsum(value[p].tolist()) / (n - 1) for p in mine.tolist()])
        return payoff, moves, cooperations

    @staticmethod
    def _donate(
        rounds: DonationRounds,
        generation: int,
        strategy: np.ndarray,
        mine: np.ndarray,
        results: Counter[str],
    ) -> tuple[np.ndarray, int, int]:
        """The donation rounds of `generation`, played for everyone: the payoffs of `mine`,
        and their donations and gifts (as moves and cooperations)."""
        played = rounds.play(generation, strategy)
        moves, gifts = int(played.acts[mine].sum()), int(played.gifts[mine].sum())
        results[f"moves {generation}"] += moves
        results[f"cooperations {generation}"] += gifts
        return played.payoff[mine], moves, gifts


class EvolutionShard(ClassicShard):
    game: Evolution
    STATE: ClassVar[tuple[str, ...]] = ("strategy", "payoff", "done")

    def setup(self) -> None:
        self.population = Population(self.scenario)
        self.strategy = starting(self.game)[self.ids]
        self.payoff = np.zeros(len(self.ids))  # each player's payoff in the last generation
        self.done = np.zeros(len(self.ids), np.uint8)  # the game is over (a strategy fixated)

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        generation = tick - 1
        if tick == 1:
            strategy = starting(self.game)
        elif bool(self.done.any()) or not len(inbox):
            return Mail()  # the game is over
        else:
            strategy = self.population.next(generation - 1, *self._last(inbox))
            self.strategy[:] = strategy[self.ids]
        over = self.population.fixated(strategy)
        if self.index == 0:
            self.population.count(generation, strategy, stats.results)
        if over:
            self.done[:] = 1
        if over or generation >= self.game.generations:
            return Mail()
        payoff, moves, coops = self.population.play(generation, strategy, self.ids, stats.results)
        self.payoff[:] = payoff
        stats.add("decisions", moves)
        stats.add("cooperative", coops)
        stats.add("defecting", moves - coops)
        return self._tell()

    def _last(self, inbox: Mail) -> tuple[np.ndarray, np.ndarray]:
        """Every player's strategy and payoff in the last generation: this shard's from its
        state, the others' from their envelopes."""
        n, m = self.game.characters(), len(inbox)
        strategy = np.full(n, -1, np.int16)
        payoff = np.zeros(n)
        sender = inbox.sender[:m].astype(np.int64)
        strategy[sender] = inbox.ref[:m]
        bits = np.stack([inbox.due[:m], inbox.source[:m]], axis=1).astype("<u4")
        payoff[sender] = bits.view("<f8").reshape(-1)
        strategy[self.ids] = self.strategy
        payoff[self.ids] = self.payoff
        if np.any(strategy < 0):
            raise ValueError(
                f"shard {self.index}: tick {self.tick + 1} lacks the strategies of players "
                f"{np.flatnonzero(strategy < 0).tolist()[:5]}"
            )
        return strategy, payoff

    def _tell(self) -> Mail:
        """Each local player's strategy and payoff, to every other player, in sender order."""
        n, ids = self.game.characters(), self.ids.astype(np.int64)
        sender = np.repeat(ids, n - 1)
        others = np.array([[j for j in range(n) if j != i] for i in ids.tolist()], np.int64)
        mail = Mail(len(sender))
        mail.sender[:] = sender
        mail.recipient[:] = others.reshape(-1)
        mail.kind[:] = Kind.OBSERVATION
        mail.subject[:] = sender
        mail.ref[:] = np.repeat(self.strategy, n - 1)
        bits = np.ascontiguousarray(self.payoff, "<f8").view("<u4").reshape(-1, 2)
        mail.due[:] = np.repeat(bits[:, 0], n - 1)
        mail.source[:] = np.repeat(bits[:, 1], n - 1)
        return mail


def evolve(scenario: Scenario) -> Counter[str]:
    """The counts a whole run of the scenario returns (what `results_of` reads), played here
    without shards or mail: the same generations, draws and numbers as on any runtime."""
    game = scenario.classic
    assert isinstance(game, Evolution)
    population = Population(scenario)
    counts: Counter[str] = Counter({TICKS: scenario.ticks})
    everyone = np.arange(game.characters())
    strategy = starting(game)
    payoff = np.zeros(len(strategy))
    for generation in range(min(scenario.ticks, game.generations + 1)):
        if generation:
            strategy = population.next(generation - 1, strategy, payoff)
        population.count(generation, strategy, counts)
        if population.fixated(strategy) or generation >= game.generations:
            break
        payoff = population.play(generation, strategy, everyone, counts)[0]
    return counts


def describe(scenario: Scenario) -> dict[str, Any]:
    """The rules a run's results repeat."""
    game = scenario.classic
    assert isinstance(game, Evolution)
    rules: dict[str, Any] = {
        "game": game.game,
        "process": game.process,
        "selection": game.selection,
        "mutation": game.mutation,
        "generations": game.generations,
    }
    if game.game == "donation":
        noise = scenario.noise
        return {
            **rules,
            **game.donation.model_dump(),
            "norm": scenario.norm,
            "reputation": "public",
            "execution_error": noise.execution,
            "assessment_error": noise.assessment,
        }
    return {
        **rules,
        "turns": game.turns,
        "continuation": game.continuation,
        "noise": game.noise,
        "payoff": game.payoff,
    }
