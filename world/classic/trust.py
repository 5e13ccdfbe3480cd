"""The trust game (Berg, Dickhaut and McCabe 1995), repeated, on the world's shards.

Investor i (ids 0 .. m-1) meets trustee m + i every round. A round takes two ticks: in tick
2k-1 the investor keeps part of its endowment and sends the rest (a GIFT envelope, good COIN);
in tick 2k the trustee receives it multiplied and sends back part of what it holds (a GIFT);
in tick 2k+1 the investor has its return, and sends again.

Investors: Full Trust sends everything, No Trust nothing, Trust Then Verify everything until a
trustee returns less than it was sent, then nothing. Trustees: Fair returns half of what it
received, Selfish nothing, Reciprocal half if the investor sent at least half its endowment,
else nothing.

What the results describe: the rounds played. Round k's figures (what was sent, what came
back, both sides' payoffs) are all counted in tick 2k, when the trustee answers, from what
it received: the investor's share (what it kept, and the return it will hold in tick 2k + 1)
with them. So a run cut short by `--ticks` (or stopped) reports the rounds whose trustees
answered, per round played, and nothing of a round whose investment is still in flight.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.classic.base import ClassicShard, roster, rounds_played, share, transfers
from world.classic.config import TrustGame
from world.classic.strategies import INVESTOR_STRATEGIES, TRUSTEE_STRATEGIES
from world.stats import TickStats
from world.vocab import Kind
from world.wire import Mail

FULL_TRUST, NO_TRUST, VERIFY = range(3)
FAIR, SELFISH, RECIPROCAL = range(3)


class TrustShard(ClassicShard):
    game: TrustGame

    def setup(self) -> None:
        game = self.game
        self.pairs = game.characters() // 2
        self.investor = self.ids < self.pairs
        every = np.concatenate(
            [roster(game.investors, INVESTOR_STRATEGIES), roster(game.trustees, TRUSTEE_STRATEGIES)]
        )
        self.strategy = every[self.ids]
        self.partner_strategy = every[(self.ids + self.pairs) % (2 * self.pairs)]
        m = len(self.ids)
        self.payoff = np.zeros(m, np.int64)
        self.sent = np.zeros(m, np.int64)  # investors: what was sent in the round in flight
        self.cheated = np.zeros(m, np.uint8)  # investors: a trustee returned less than sent

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        n = len(inbox)
        local = self.placement.row(inbox.recipient[:n])
        amount = inbox.amount[:n].astype(np.int64)
        if tick % 2 == 0:
            return self._return(tick, local, amount, stats)
        if n:  # investors get their returns (counted when the trustees sent them)
            np.add.at(self.payoff, local, amount)
            self.cheated[local] |= amount < self.sent[local]
        if tick > 2 * self.game.rounds:
            return Mail()
        return self._invest(stats)

    def _count(self, role: str, strategy: np.ndarray, amount: np.ndarray, stats: TickStats) -> None:
        """Payoffs of one role, counted by strategy."""
        by = np.bincount(strategy, weights=amount, minlength=3)
        for k in np.flatnonzero(by).tolist():
            stats.results[f"{role} payoff {k}"] += round(by[k])

    def _invest(self, stats: TickStats) -> Mail:
        e = self.game.endowment
        rows = np.flatnonzero(self.investor)
        s = self.strategy[rows]
        send = np.where((s == FULL_TRUST) | ((s == VERIFY) & (self.cheated[rows] == 0)), e, 0)
        self.sent[rows] = send
        self.payoff[rows] += e - send
        stats.add("cooperative", int((send > 0).sum()))
        stats.add("defecting", int((send == 0).sum()))
        stats.add("gifts", len(rows))
        ids = self.ids[rows]
        return transfers(Kind.GIFT, ids, ids + self.pairs, send)

    def _return(self, tick: int, local: np.ndarray, amount: np.ndarray, stats: TickStats) -> Mail:
        e, k = self.game.endowment, self.game.multiplier
        held = k * amount
        s = self.strategy[local]
        half = held // 2
        back = np.where((s == FAIR) | ((s == RECIPROCAL) & (2 * amount >= e)), half, 0).astype(
            np.int64
        )
        np.add.at(self.payoff, local, held - back)
        self._count_round(local, amount, held, back, stats)
        stats.add("cooperative", int((back > 0).sum()))
        stats.add("defecting", int(((back == 0) & (amount > 0)).sum()))
        stats.add("gifts", len(local))
        ids = self.ids[local]
        return transfers(Kind.GIFT, ids, ids - self.pairs, back)

    def _count_round(
        self,
        local: np.ndarray,
        amount: np.ndarray,
        held: np.ndarray,
        back: np.ndarray,
        stats: TickStats,
    ) -> None:
        """The whole round in the results, from the trustees' side: what the investors sent
        and kept, what came back, and both sides' payoffs."""
        e = self.game.endowment
        stats.results["sent"] += int(amount.sum())
        stats.results["investments"] += len(local)
        stats.results["returned"] += int(back.sum())
        self._count("trustee", self.strategy[local], held - back, stats)
        self._count("investor", self.partner_strategy[local], e - amount + back, stats)

    STATE = ("payoff", "sent", "cheated")


def trust_results(game: TrustGame, counts: Counter[str]) -> dict[str, Any]:
    """The results of the rounds played (two ticks a round, counted when the trustees
    answer): shares of what was sent and returned, payoffs per round played."""
    played = rounds_played(counts, game.rounds, per_round=2)

    def role(name: str, players: dict[str, int], names: tuple[str, ...]) -> dict[str, Any]:
        return {
            s: {
                "players": players[s],
                "payoff_per_round": share(
                    counts.get(f"{name} payoff {names.index(s)}", 0), players[s] * played
                ),
            }
            for s in players
            if players[s]
        }

    sent = counts.get("sent", 0)
    return {
        "kind": "trust",
        "endowment": game.endowment,
        "multiplier": game.multiplier,
        "rounds": game.rounds,
        "sent_share": share(sent, game.endowment * counts.get("investments", 0)),
        "returned_share": share(counts.get("returned", 0), game.multiplier * sent),
        "investors": role("investor", game.investors, INVESTOR_STRATEGIES),
        "trustees": role("trustee", game.trustees, TRUSTEE_STRATEGIES),
        "played": {"rounds": played},
    }
