"""Scripted strategy minds for experiments: each decides cooperate-or-defect by a classic rule,
then takes the matching legal action of the situation (giving, keeping, accepting ... or not).

The rules read the actor's memory of the counterpart: `rel_theirs` (its last act towards me),
`rel_mine` (my last act towards it), `rel_betrayals` and `rel_rep` (my view of its standing).
"""

from __future__ import annotations

import numpy as np

from world.minds.base import DecisionBatch, Mind, by_preference
from world.rng import Stream, uniform


class StrategyMind(Mind):
    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        raise NotImplementedError

    def decide(self, batch: DecisionBatch) -> np.ndarray:
        return by_preference(batch, self.cooperate(batch).astype(bool))


class AlwaysCooperate(StrategyMind):
    name = "always_cooperate"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        return np.ones(len(batch), bool)


class AlwaysDefect(StrategyMind):
    name = "always_defect"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        return np.zeros(len(batch), bool)


class TitForTat(StrategyMind):
    """Cooperate first, then do what the counterpart did last."""

    name = "tit_for_tat"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        return batch.relation("rel_theirs", -1) != 0


class Grudger(StrategyMind):
    """Cooperate until the counterpart defects once, then never again."""

    name = "grudger"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        # a defection is remembered as evidence of bad faith, which never goes away for it
        return (batch.relation("rel_neg", 0.0) <= 0) & (batch.relation("rel_theirs", -1) != 0)


class WinStayLoseShift(StrategyMind):
    """Pavlov: repeat my last move if the counterpart cooperated, switch if it defected."""

    name = "win_stay_lose_shift"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        theirs = batch.relation("rel_theirs", -1)
        mine = batch.relation("rel_mine", -1)
        first = (theirs < 0) | (mine < 0)
        return np.where(first, True, np.where(theirs == 1, mine == 1, mine != 1))


class RandomMind(StrategyMind):
    name = "random"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        u = uniform(
            batch.seed,
            Stream.STRATEGY,
            batch.actor,
            batch.tick,
            batch.situation,
            batch.counterpart,
            batch.ref,
        )
        return u < 0.5


class Discriminator(StrategyMind):
    """Helps those it sees in good standing (or does not know), refuses those in bad."""

    name = "discriminator"

    def cooperate(self, batch: DecisionBatch) -> np.ndarray:
        return batch.relation("rel_rep", 0.0) >= 0
