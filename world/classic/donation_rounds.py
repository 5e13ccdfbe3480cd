"""A generation of the donation game inside an evolution (`classic: {kind: evolution, game:
donation}`): indirect reciprocity with one public record, played for the whole population.

Round r of generation g: every player i is a donor once, to a recipient drawn among the others
(`below(seed, PARTNER, N - 1, i, g, r)`); it knows the recipient's standing with probability q
(`KNOW`) and means to give by its strategy (donation.py `intends`: a discriminator gives to the
good and to those it does not know, a cooperator always, a defector never); an intended gift
fails with the execution error e1 (`EXECUTION`). Every act is then judged at once under the
scenario's norm with the recipient's standing as it was when the act was done, and the record
takes the judgement the other way with the assessment error e2 (`ASSESSMENT`, the donor's
draw). Everyone starts a generation in good standing.

Every draw is a player's own, keyed by (player, generation, round), so the rounds come out the
same wherever they are played: each shard plays the whole generation (N donations a round; a
generation of 100 players and 20 rounds is a few milliseconds) and keeps its own players'
payoffs, so no mail is needed within a generation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from world.classic.config import Evolution
from world.classic.donation import intends, judged
from world.classic.strategies import DONATION_STRATEGIES
from world.rng import Stream, below, uniform
from world.vocab import NORM_NAMES, NORM_TABLE


@dataclasses.dataclass(frozen=True)
class Generation:
    """What each player (by id) did and got in one generation: its payoff per round, the
    donations it made (acts) and the gifts among them."""

    payoff: np.ndarray
    acts: np.ndarray
    gifts: np.ndarray


class DonationRounds:
    """Plays the donation rounds of a generation for a whole population."""

    def __init__(self, game: Evolution, seed: int, norm: str, execution: float, assessment: float):
        self.rules = game.donation
        self.seed = seed
        self.norm = NORM_TABLE[NORM_NAMES.index(norm)]
        self.execution = execution
        self.assessment = assessment
        #: each listed strategy's code in DONATION_STRATEGIES
        self.codes = np.array([DONATION_STRATEGIES.index(name) for name in game.names()])

    def play(self, generation: int, strategy: np.ndarray) -> Generation:
        """Every round of `generation`, each player playing its strategy (`strategy`: an index
        of the listed strategies, by player id)."""
        rules, seed = self.rules, self.seed
        n = len(strategy)
        ids = np.arange(n)
        code = self.codes[strategy.astype(np.int64)]
        record = np.ones(n, np.int64)  # 1: in good standing
        total = np.zeros(n)
        gifts = np.zeros(n, np.int64)
        for r in range(rules.rounds):
            recipient = below(seed, Stream.PARTNER, n - 1, ids, generation, r)
            recipient += recipient >= ids
            knows = uniform(seed, Stream.KNOW, ids, generation, r) < rules.knowledge
            standing = record[recipient]
            intend = intends(code, standing == 1, knows)
            fails = uniform(seed, Stream.EXECUTION, ids, generation, r) < self.execution
            gave = intend & ~fails
            total -= np.where(gave, rules.cost, 0.0)
            np.add.at(total, recipient[gave], rules.benefit)
            gifts += gave
            wrong = uniform(seed, Stream.ASSESSMENT, ids, generation, r) < self.assessment
            record = judged(self.norm, gave.astype(np.int64), standing, wrong).astype(np.int64)
        acts = np.full(n, rules.rounds, np.int64)
        return Generation(total / rules.rounds, acts, gifts)
