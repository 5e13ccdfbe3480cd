"""The public goods game, with or without costly punishment, on the world's shards.

Groups of the same make-up play `rounds` rounds, in the order of Fehr and Gächter (2000):
contribute, see the others' contributions, punish, then the next round. Envelopes take a tick
to arrive, so a round is played across two ticks, and the next round's decision shares the
second:

- tick t (round t, t <= rounds): each member decides what to put into the pot out of its
  endowment e and tells each other member (a CONTRIBUTION envelope, the round as `ref`);
- tick t + 1: each member has the others' round-t contributions and settles round t. It keeps
  e - x and gets an equal share r x pot / n of the multiplied pot. With punishment, this is also
  round t's punishment stage: each Punisher gives each member who put in less than it did one
  point per unit short (up to `points`), paying `cost` a point, and the punished loses `fine` a
  point. The points are a function of the round's contributions alone, which every member of
  the group now holds, so the punisher's cost and the punished member's fine are both settled
  in this tick, from the same numbers, without waiting for an envelope. The punisher also
  sends each punished member a notice (an OBSERVATION envelope: ref CONTRIBUTION, not
  cooperated, `amount` points) that puts the act in the journal; it arrives in tick t + 2 and
  changes nothing there, the fine being paid. Then, still in tick t + 1, each member decides
  round t + 1 knowing round t's contributions and punishment: the punished respond in the very
  next round.

A game takes `rounds` + 2 ticks (the last round settles in tick rounds + 1, its notices arrive
in rounds + 2). Payoffs are numbers, not goods: a member's payoffs add up to its endowments,
plus its share of the multiplied pots, less what it gave; the fines and what punishing costs
are destroyed, as in the experiments, so all payoffs together are the endowments, plus (r - 1)
times all that was given, less (cost + fine) a point.

Each strategy's rule, in one line (e the endowment; last round: the round just settled):

- Cooperator: gives e every round.
- Defector: gives nothing, every round.
- Conditional Cooperator: gives e in round 1, then the others' mean of last round, rounded down.
- Punisher: gives as a Conditional Cooperator does; punishes each member who gave less than it.
- Rational: gives the least x maximizing (1 - r/n)(e - x) - k fine min(max(top - x, 0), points),
  k the most members that punished it in one round and top the most another gave last round.

Where the rules come from. Fischbacher, Gächter and Fehr (2001) find conditional cooperators
the commonest type and free riders the next, unconditional cooperators rare; conditional
cooperators give a little less than the others (Fischbacher and Gächter 2010), which is what
makes contributions decline without punishment; rounding down is the least such shortfall in
whole units. A Punisher is Fehr, Fischbacher and Gächter's (2002) strong reciprocator, a
conditional cooperator who also punishes free riders (Fehr and Gächter 2002: most punishment
comes from those who give more, on those who give less): without a punishment stage it plays
as a Conditional Cooperator. Rational is the selfish member, myopic: it gives nothing until
punished (k = 0), then gives what it expects to spare it the fines.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.classic.base import ClassicShard, moves_mail, roster, rounds_played, share, transfers
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
        group = roster(game.group, PUBLIC_GOODS_STRATEGIES)  # by place in the group
        self.strategy = group[self.ids % size]
        first = (self.ids - self.ids % size)[:, None]  # my group's first member
        seat = np.arange(size - 1)[None, :]
        # the other members of my group, in id order: skip my own place
        self.others = first + seat + (first + seat >= self.ids[:, None])
        self.others_strategy = group[self.others % size]
        m = len(self.ids)
        self.payoff = np.zeros(m, np.float64)
        self.given = np.zeros(m, np.int64)  # my contribution to the last round played
        self.others_mean = np.full(m, -1.0)  # what the others gave on average (-1: no round)
        self.top = np.zeros(m, np.int64)  # the most another member gave last round
        self.punishers = np.zeros(m, np.int64)  # the most members who punished me in a round

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        # OBSERVATION envelopes are notices of a punishment settled last tick: nothing to do
        n = len(inbox)
        parts = [self._settle(inbox, np.flatnonzero(inbox.kind[:n] == Kind.CONTRIBUTION), stats)]
        if tick <= self.game.rounds:
            parts.append(self._contribute(tick, stats))
        mail = concat(parts)
        return mail.take(np.argsort(mail.sender[: len(mail)], kind="stable"))

    def _settle(self, inbox: Mail, rows: np.ndarray, stats: TickStats) -> Mail:
        """Last round's pot shared and its punishment stage: the payoffs, and the punishers'
        notices to the punished."""
        if not len(rows):
            return Mail()
        game = self.game
        size, m = game.group_size(), len(self.ids)
        local = self.placement.row(inbox.recipient[rows])
        place = inbox.sender[rows].astype(np.int64) % size
        mine = self.ids[local] % size
        theirs = np.full((m, size - 1), -1, np.int64)  # what each other member gave
        theirs[local, place - (place > mine)] = inbox.amount[rows]
        if np.any(theirs < 0):
            raise ValueError("a member settles a round without every other member's contribution")
        pot = theirs.sum(axis=1) + self.given
        gain = game.endowment - self.given + game.multiplier * pot / size
        self.others_mean = theirs.sum(axis=1) / (size - 1)
        self.top = theirs.max(axis=1)
        mail = Mail()
        if game.punishment is not None:
            p = game.punishment
            # points I give each other member, and points each other member gives me
            given = np.clip(self.given[:, None] - theirs, 0, p.points)
            given[self.strategy != PUNISHER] = 0
            got = np.clip(theirs - self.given[:, None], 0, p.points)
            got[self.others_strategy != PUNISHER] = 0
            gain = gain - p.cost * given.sum(axis=1) - p.fine * got.sum(axis=1)
            np.maximum(self.punishers, (got > 0).sum(axis=1), out=self.punishers)
            stats.results["points"] += int(given.sum())
            punisher, seat = np.nonzero(given)
            mail = moves_mail(
                self.ids[punisher],
                self.others[punisher, seat],
                np.zeros(len(punisher), bool),
                ref=int(Kind.CONTRIBUTION),
            )
            mail.amount[:] = given[punisher, seat]
        self.payoff += gain
        for s in np.unique(self.strategy).tolist():
            stats.results[f"payoff {s}"] += fixed(gain[self.strategy == s])
        return mail

    def _contribute(self, tick: int, stats: TickStats) -> Mail:
        e = self.game.endowment
        x = np.where(self.strategy == COOPERATOR, e, 0).astype(np.int64)
        cc = np.isin(self.strategy, (CONDITIONAL, PUNISHER))
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
    """The results of the rounds settled (round t settles in tick t + 1, so a run cut to T
    ticks holds T - 1 of them): their contributions, payoffs per round settled, punishment
    points; a strategy's `contribution` counts every round it gave in, the last one of a cut
    run, not yet settled, included."""
    e, n = game.endowment, game.characters()
    played = rounds_played(counts, game.rounds, lag=1)
    by_strategy = {}
    for s, name in enumerate(PUBLIC_GOODS_STRATEGIES):
        per_group = game.group.get(name, 0)
        if not per_group:
            continue
        players = per_group * game.groups
        by_strategy[name] = {
            "players": players,
            "contribution": share(counts.get(f"given {s}", 0), e * counts.get(f"acts {s}", 0)),
            "payoff_per_round": share(counts.get(f"payoff {s}", 0) / SCALE, players * played),
        }
    return {
        "kind": "public_goods",
        "endowment": e,
        "multiplier": game.multiplier,
        "punishment": game.punishment is not None,
        "contributions": [share(counts.get(f"round {t}", 0), e * n) for t in range(1, played + 1)],
        "punishment_points": counts.get("points", 0),
        "by_strategy": by_strategy,
        "played": {"rounds": played},
    }
