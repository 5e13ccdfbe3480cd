"""Whole matches of the iterated prisoner's dilemma, played at once inside one tick.

The evolution kind (evolution.py) plays every match of a generation in one tick, turn after
turn over all its matches as arrays, with the strategy rules of strategies.py (`cooperate`
with a `History` per side). Every draw is keyed by the character who makes it: the memory-one
coin of player i against j in turn t of generation g is `uniform(seed, STRATEGY, i, g, j, t)`,
its noise `uniform(seed, EXECUTION, i, g, j, t)`; whether the match goes on after turn t
(`continuation`) is the lower-numbered player's `uniform(seed, CONTINUE, lo, hi, g, t)`. So a
match comes out the same whichever shard plays it, and with whatever other matches.

A match between deterministic strategies (every strategy but the memory-one ones with a chance
strictly between 0 and 1) without noise or continuation always goes the same way: `Matches`
plays each such pair of strategies once and remembers it (a cache derived from the scenario,
not state).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from world.classic.config import Evolution
from world.classic.strategies import History, cooperate
from world.rng import Stream, uniform


@dataclasses.dataclass(frozen=True)
class Played:
    """Matches played, one row per match (a against b): each side's total payoff, the turns
    played, each side's cooperations (moves made: `turns` each)."""

    pay_a: np.ndarray
    pay_b: np.ndarray
    turns: np.ndarray
    coop_a: np.ndarray
    coop_b: np.ndarray


class Matches:
    """Plays the matches of a generation between players of the listed strategies."""

    def __init__(self, game: Evolution, seed: int) -> None:
        self.game = game
        self.seed = seed
        p = game.payoffs
        self.table = np.array([[p.P, p.T], [p.S, p.R]], np.float64)  # [mine, theirs]
        listed = game.strategies()
        self.codes = np.array([code for code, _ in listed], np.int8)
        self.chances = np.array(
            [vector.row() if vector else (0.0,) * 5 for _, vector in listed], np.float64
        ).reshape(len(listed), 5)
        chancy = ((self.chances > 0) & (self.chances < 1)).any(axis=1)
        plain = game.noise == 0 and game.continuation is None
        #: strategies whose matches against each other always go the same way
        self.fixed: np.ndarray = np.logical_not(chancy) & plain
        k = len(listed)
        #: such matches played once: [x, y] -> x's total payoff and cooperations against y
        self.solved = np.zeros((k, k), bool)
        self.pay = np.zeros((k, k))
        self.coop = np.zeros((k, k), np.int64)

    def play(self, generation: int, a: np.ndarray, b: np.ndarray, strategy: np.ndarray) -> Played:
        """Matches a[k] against b[k] (character ids) in `generation`, each player playing its
        strategy (`strategy`: an index of the listed strategies, by character id)."""
        a = a.astype(np.int64)
        b = b.astype(np.int64)
        sa, sb = strategy[a].astype(np.int64), strategy[b].astype(np.int64)
        known = self.fixed[sa] & self.fixed[sb]
        self._solve(sa[known], sb[known])
        out = Played(
            np.where(known, self.pay[sa, sb], 0.0),
            np.where(known, self.pay[sb, sa], 0.0),
            np.where(known, self.game.turns, 0),
            np.where(known, self.coop[sa, sb], 0),
            np.where(known, self.coop[sb, sa], 0),
        )
        fresh = np.flatnonzero(~known)
        if len(fresh):
            played = self._simulate(generation, a[fresh], b[fresh], sa[fresh], sb[fresh])
            for field, values in zip(dataclasses.fields(out), played, strict=True):
                getattr(out, field.name)[fresh] = values
        return out

    def _solve(self, sa: np.ndarray, sb: np.ndarray) -> None:
        """Play once each pair of strategies among (sa, sb) not played yet (the draws do not
        matter: the ids and generation are placeholders)."""
        todo = ~self.solved[sa, sb]
        if not todo.any():
            return
        pairs = np.unique(np.stack([sa[todo], sb[todo]], axis=1), axis=0)
        x, y = pairs[:, 0], pairs[:, 1]
        ids = np.arange(len(x))
        pay_x, pay_y, _, coop_x, coop_y = self._simulate(0, ids, ids + len(x), x, y)
        self.pay[x, y], self.pay[y, x] = pay_x, pay_y
        self.coop[x, y], self.coop[y, x] = coop_x, coop_y
        self.solved[x, y] = self.solved[y, x] = True

    def _simulate(
        self, generation: int, a: np.ndarray, b: np.ndarray, sa: np.ndarray, sb: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Turn after turn, both sides of every match at once: rows 0..m-1 are a's side,
        m..2m-1 b's."""
        game, seed, m = self.game, self.seed, len(a)
        player = np.concatenate([a, b])
        opponent = np.concatenate([b, a])
        listed = np.concatenate([sa, sb])
        code = self.codes[listed]
        chances = self.chances[listed]
        other = np.concatenate([np.arange(m, 2 * m), np.arange(m)])  # the other side's row
        mine = np.zeros(2 * m, np.uint8)
        theirs = np.zeros(2 * m, np.uint8)
        their_c = np.zeros(2 * m, np.int64)
        their_d = np.zeros(2 * m, np.int64)
        score = np.zeros(2 * m)
        coops = np.zeros(2 * m, np.int64)
        going = np.ones(m, bool)
        turns = np.zeros(m, np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        for turn in range(game.turns):
            rows = np.flatnonzero(np.concatenate([going, going]))
            if not len(rows):
                break
            p, o = player[rows], opponent[rows]
            history = History(
                turn=np.full(len(rows), turn, np.int64),
                mine=mine[rows],
                theirs=theirs[rows],
                their_c=their_c[rows],
                their_d=their_d[rows],
                coin=uniform(seed, Stream.STRATEGY, p, generation, o, turn),
                chances=chances[rows],
            )
            move = np.zeros(2 * m, bool)
            move[rows] = cooperate(code[rows], history)
            if game.noise > 0:
                move[rows] ^= uniform(seed, Stream.EXECUTION, p, generation, o, turn) < game.noise
            theirs_now = move[other]
            mv, th = move[rows].astype(np.int64), theirs_now[rows].astype(np.int64)
            score[rows] += self.table[mv, th]
            coops[rows] += mv
            mine[rows] = ((mine[rows].astype(np.int64) << 1) | mv) & 0xFF
            theirs[rows] = ((theirs[rows].astype(np.int64) << 1) | th) & 0xFF
            their_c[rows] += th
            their_d[rows] += 1 - th
            turns[going] += 1
            if game.continuation is not None:
                live = np.flatnonzero(going)
                go_on = uniform(seed, Stream.CONTINUE, lo[live], hi[live], generation, turn)
                going[live] = go_on < game.continuation
        return score[:m], score[m:], turns, coops[:m], coops[m:]
