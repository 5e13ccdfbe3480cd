"""The public goods game, with or without costly punishment, on the world's shards.

Groups of the same make-up play `rounds` rounds. In tick t (round t) every member decides what
to put into the pot out of its endowment and tells each other member (a CONTRIBUTION envelope,
the round as `ref`). In tick t + 1 each member knows the round's pot and settles it: it keeps
what it did not give and gets an equal share of the multiplied pot. With punishment, a
Punisher then gives each member who put in less than it did one point per unit short (up to
`points`), paying `cost` a point; the points travel as OBSERVATION envelopes (the punisher saw
the short contribution: ref CONTRIBUTION, not cooperated, `amount` points) and take `fine` a
point from the punished in tick t + 2.

Strategies: Cooperator and Punisher give everything, Defector nothing; a Conditional
Cooperator gives everything at first, then what the others gave on average last round, rounded
down; Rational maximizes its own payoff against last round: without punishment that is giving
nothing, and once punished by k members it gives what minimizes the expected fines
(k points a unit short of the most another member gave, up to `points`) net of what it keeps.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.classic.base import ClassicShard, moves_mail, roster, share, transfers
from world.classic.config import PublicGoodsGame
from world.classic.strategies import PUBLIC_GOODS_STRATEGIES
from world.stats import SCALE, TickStats, fixed
from world.vocab import Kind
from world.wire import Mail, concat

COOPERATOR, DEFECTOR, CONDITIONAL, PUNISHER, RATIONAL = range(5)
N_STRATEGIES = len(PUBLIC_GOODS_STRATEGIES)


class PublicGoodsShard(ClassicShard):
    game: PublicGoodsGame

    def setup(self) -> None:
        game = self.game
        size = game.group_size()
        self.strategy = np.tile(roster(game.group, PUBLIC_GOODS_STRATEGIES), game.groups)[self.ids]
        first = (self.ids - self.ids % size)[:, None]  # my group's first member
        seat = np.arange(size - 1)[None, :]
        # the other members of my group, in id order: skip my own place
        self.others = first + seat + (first + seat >= self.ids[:, None])
        m = len(self.ids)
        self.payoff = np.zeros(m, np.float64)
        self.given = np.zeros(m, np.int64)  # my contribution to the last round played
        self.others_mean = np.full(m, -1.0)  # what the others gave on average (-1: no round)
        self.top = np.zeros(m, np.int64)  # the most another member gave last round
        self.punishers = np.zeros(m, np.int64)  # the most members who punished me in a round

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        n = len(inbox)
        parts = [self._settle(inbox, np.flatnonzero(inbox.kind[:n] == Kind.CONTRIBUTION), stats)]
        self._punished(inbox, np.flatnonzero(inbox.kind[:n] == Kind.OBSERVATION), stats)
        if tick <= self.game.rounds:
            parts.append(self._contribute(tick, stats))
        mail = concat(parts)
        return mail.take(np.argsort(mail.sender[: len(mail)], kind="stable"))

    def _gain(self, stats: TickStats, local: np.ndarray, amount: np.ndarray) -> None:
        """Payoff changes of local members, counted by strategy."""
        np.add.at(self.payoff, local, amount)
        by = np.zeros(N_STRATEGIES, np.float64)
        np.add.at(by, self.strategy[local], amount)
        for s in np.flatnonzero(by).tolist():
            stats.results[f"payoff {s}"] += fixed(np.array([by[s]]))

    def _settle(self, inbox: Mail, rows: np.ndarray, stats: TickStats) -> Mail:
        """Last round's pot shared; punishers answer the short contributions."""
        if not len(rows):
            return Mail()
        game = self.game
        local = (inbox.recipient[rows] // self.n_shards).astype(np.int64)
        amount = inbox.amount[rows].astype(np.int64)
        m = len(self.ids)
        others_sum = np.bincount(local, weights=amount, minlength=m)
        top = np.zeros(m, np.int64)
        np.maximum.at(top, local, amount)
        everyone = np.arange(m)
        pot = others_sum + self.given
        self._gain(
            stats,
            everyone,
            game.endowment - self.given + game.multiplier * pot / (game.group_size()),
        )
        self.others_mean = others_sum / (game.group_size() - 1)
        self.top = top
        if game.punishment is None:
            return Mail()
        short = (self.strategy[local] == PUNISHER) & (amount < self.given[local])
        points = np.minimum(self.given[local] - amount, game.punishment.points)[short]
        punisher = local[short]
        self._gain(stats, punisher, -game.punishment.cost * points)
        stats.results["points"] += int(points.sum())
        target = inbox.sender[rows][short].astype(np.int64)
        mail = moves_mail(
            self.ids[punisher], target, np.zeros(len(target), bool), ref=int(Kind.CONTRIBUTION)
        )
        mail.amount[:] = points
        return mail

    def _punished(self, inbox: Mail, rows: np.ndarray, stats: TickStats) -> None:
        if not len(rows) or self.game.punishment is None:
            return
        local = (inbox.recipient[rows] // self.n_shards).astype(np.int64)
        points = inbox.amount[rows].astype(np.float64)
        self._gain(stats, local, -self.game.punishment.fine * points)
        by = np.bincount(local, minlength=len(self.ids))
        np.maximum(self.punishers, by, out=self.punishers)

    def _contribute(self, tick: int, stats: TickStats) -> Mail:
        e = self.game.endowment
        x = np.where(np.isin(self.strategy, (COOPERATOR, PUNISHER)), e, 0).astype(np.int64)
        cc = self.strategy == CONDITIONAL
        first = self.others_mean < 0
        x[cc] = np.where(first[cc], e, np.floor(np.maximum(self.others_mean[cc], 0.0)))
        rational = np.flatnonzero(self.strategy == RATIONAL)
        if len(rational):
            x[rational] = self._best_response(rational)
        self.given = x
        for s in range(N_STRATEGIES):
            mine = self.strategy == s
            stats.results[f"given {s}"] += int(x[mine].sum())
            stats.results[f"acts {s}"] += int(mine.sum())
        stats.results[f"round {tick}"] += int(x.sum())
        stats.add("contributions", int((x > 0).sum()))
        stats.add("free_rides", int((x == 0).sum()))
        stats.add("cooperative", int((x == e).sum()))
        stats.add("defecting", int((x < e).sum()))
        size = self.others.shape[1]
        sender = np.repeat(self.ids, size)
        mail = transfers(Kind.CONTRIBUTION, sender, self.others.reshape(-1), np.repeat(x, size))
        mail.ref[:] = tick
        return mail

    def _best_response(self, rows: np.ndarray) -> np.ndarray:
        """Each Rational member's payoff-maximizing contribution against last round: keeping a
        unit is worth 1 - r/n, being a unit short of the top costs k points' fines."""
        game, e = self.game, self.game.endowment
        x = np.arange(e + 1)[None, :]
        keep = (1 - game.multiplier / game.group_size()) * (e - x)
        fines = np.zeros_like(keep)
        if game.punishment is not None:
            p = game.punishment
            short = np.minimum(np.maximum(self.top[rows, None] - x, 0), p.points)
            fines = p.fine * self.punishers[rows, None] * short
        return np.argmax(keep - fines, axis=1)  # the first best: the least given, on ties

    STATE = ("payoff", "given", "others_mean", "top", "punishers")


def public_goods_results(game: PublicGoodsGame, counts: Counter[str]) -> dict[str, Any]:
    e, n = game.endowment, game.characters()
    by_strategy = {}
    for s, name in enumerate(PUBLIC_GOODS_STRATEGIES):
        per_group = game.group.get(name, 0)
        if not per_group:
            continue
        players = per_group * game.groups
        by_strategy[name] = {
            "players": players,
            "contribution": share(counts.get(f"given {s}", 0), e * counts.get(f"acts {s}", 0)),
            "payoff_per_round": share(counts.get(f"payoff {s}", 0) / SCALE, players * game.rounds),
        }
    return {
        "kind": "public_goods",
        "endowment": e,
        "multiplier": game.multiplier,
        "punishment": game.punishment is not None,
        "contributions": [
            share(counts.get(f"round {t}", 0), e * n) for t in range(1, game.rounds + 1)
        ],
        "punishment_points": counts.get("points", 0),
        "by_strategy": by_strategy,
    }
