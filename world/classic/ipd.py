"""The iterated prisoner's dilemma as a round robin on the world's shards.

Every character is a player with a strategy (world/classic/strategies.py); it meets every other
player in `repetitions` matches, all at once. A shard keeps a *seat* for each match of each of
its characters (the match seen from that side), in canonical order: by player, opponent,
repetition. Tick t is turn t of every match still going: each player decides its move from what
its seat remembers, noise may flip it (a draw from the player's own stream), and the move
travels to the opponent as an OBSERVATION envelope (the player acted towards the opponent,
cooperating or not). In tick t + 1 the opponent's move for turn t arrives: the turn settles
(payoff R, S, T or P), both histories grow, and the match goes on while it has turns left and,
with a continuation probability w, while a draw from the lower-numbered player's stream (the
same on both sides) falls below w.

The k-th move that player i sends player j in a tick belongs to their k-th match still going,
so an envelope needs no match number: both sides know which matches go on.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from world.arrays import Table
from world.classic.base import ClassicShard, moves_mail
from world.classic.config import IteratedDilemma
from world.classic.strategies import History, cooperate
from world.rng import Stream, uniform
from world.stats import SCALE, TickStats
from world.wire import Mail


class Seats(Table):
    """One row per match of a local player, seen from its side."""

    COLUMNS: ClassVar[dict[str, tuple[str, tuple[int | str, ...], Any]]] = {
        "player": ("<i4", (), -1),
        "opponent": ("<i4", (), -1),
        "repetition": ("<i4", (), 0),
        "strategy": ("i1", (), 0),
        "going": ("u1", (), 1),  # the match has a turn to play
        "turn": ("<i4", (), 0),  # turns settled
        "mine": ("u1", (), 0),  # my last moves, bit 0 the last (1: cooperated)
        "theirs": ("u1", (), 0),
        "their_c": ("<i4", (), 0),
        "their_d": ("<i4", (), 0),
        "sent": ("i1", (), -1),  # my move of the turn in flight (-1: none)
        "score": ("<f8", (), 0.0),  # my payoff so far
    }


def payoff_table(game: IteratedDilemma) -> np.ndarray:
    """[my move, their move] -> my payoff (0: defect, 1: cooperate)."""
    p = game.payoffs
    return np.array([[p.P, p.T], [p.S, p.R]], np.float64)


class DilemmaShard(ClassicShard):
    game: IteratedDilemma

    def setup(self) -> None:
        game = self.game
        self.table = payoff_table(game)
        n = game.characters()
        reps = game.repetitions
        player = np.repeat(self.ids, (n - 1) * reps)
        others = np.array([[j for j in range(n) if j != i] for i in self.ids], np.int64)
        opponent = np.repeat(others.reshape(-1), reps)
        repetition = np.tile(np.arange(reps), len(self.ids) * (n - 1))
        strategies = game.strategies()
        codes = np.array([code for code, _ in strategies], np.int8)
        # each player's memory-one vector (zeros for the other strategies): from the scenario,
        # so not part of the state
        self.chances = np.array(
            [vector.row() if vector else (0.0,) * 5 for _, vector in strategies], np.float64
        ).reshape(n, 5)
        self.seats = Seats(len(player))
        self.seats.player[:] = player
        self.seats.opponent[:] = opponent
        self.seats.repetition[:] = repetition
        self.seats.strategy[:] = codes[player]

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        self._settle(tick, inbox, stats)
        return self._move(tick, stats)

    def _settle(self, tick: int, inbox: Mail, stats: TickStats) -> None:
        s, n = self.seats, len(inbox)
        rows = np.flatnonzero(s.sent >= 0)
        if n != len(rows) or not (
            np.array_equal(inbox.recipient[:n], s.player[rows])
            and np.array_equal(inbox.sender[:n], s.opponent[rows])
        ):
            raise ValueError(
                f"shard {self.index}: the moves that arrived in tick {tick} ({n}) are not the "
                f"answers of the {len(rows)} matches in play"
            )
        if not n:
            return
        mine = s.sent[rows].astype(np.int64)
        theirs = (inbox.flag[:n] & 1).astype(np.int64)
        payoff = self.table[mine, theirs]
        s.score[rows] += payoff
        s.turn[rows] += 1
        s.mine[rows] = ((s.mine[rows].astype(np.int64) << 1) | mine) & 0xFF
        s.theirs[rows] = ((s.theirs[rows].astype(np.int64) << 1) | theirs) & 0xFF
        s.their_c[rows] += theirs
        s.their_d[rows] += 1 - theirs
        s.sent[rows] = -1
        going = s.turn[rows] < self.game.turns
        w = self.game.continuation
        if w is not None:
            lo = np.minimum(s.player[rows], s.opponent[rows])
            hi = np.maximum(s.player[rows], s.opponent[rows])
            turn = s.turn[rows]
            go_on = uniform(self.scenario.seed, Stream.CONTINUE, lo, hi, s.repetition[rows], turn)
            going &= go_on < w
        s.going[rows] = going
        self._count_pairs(s.player[rows], s.opponent[rows], payoff, stats)

    def _count_pairs(
        self, player: np.ndarray, opponent: np.ndarray, payoff: np.ndarray, stats: TickStats
    ) -> None:
        """Payoffs (fixed-point) and turns settled this tick, by player and opponent."""
        n = self.game.characters()
        pairs, at = np.unique(player.astype(np.int64) * n + opponent, return_inverse=True)
        paid = np.bincount(at, weights=payoff, minlength=len(pairs))
        played = np.bincount(at, minlength=len(pairs))
        for p, v, k in zip(pairs.tolist(), paid.tolist(), played.tolist(), strict=True):
            i, j = divmod(p, n)
            stats.results[f"payoff {i} {j}"] += round(v * SCALE)
            stats.results[f"turns {i} {j}"] += k

    def _move(self, tick: int, stats: TickStats) -> Mail:
        s = self.seats
        rows = np.flatnonzero((s.going == 1) & (s.sent < 0))
        player, opponent, rep = s.player[rows], s.opponent[rows], s.repetition[rows]
        seed = self.scenario.seed
        history = History(
            turn=s.turn[rows].astype(np.int64),
            mine=s.mine[rows],
            theirs=s.theirs[rows],
            their_c=s.their_c[rows].astype(np.int64),
            their_d=s.their_d[rows].astype(np.int64),
            coin=uniform(seed, Stream.STRATEGY, player, tick, opponent, rep),
            chances=self.chances[player],
        )
        move = cooperate(s.strategy[rows], history)
        if self.game.noise > 0:
            move ^= uniform(seed, Stream.EXECUTION, player, tick, opponent, rep) < self.game.noise
        s.sent[rows] = move
        stats.add("decisions", len(rows))
        stats.add("cooperative", int(move.sum()))
        stats.add("defecting", int(len(rows) - move.sum()))
        players, counts = np.unique(player, return_counts=True)
        coops = np.bincount(np.searchsorted(players, player), weights=move, minlength=len(players))
        for p, k, c in zip(players.tolist(), counts.tolist(), coops.tolist(), strict=True):
            stats.results[f"moves {p}"] += k
            stats.results[f"cooperations {p}"] += round(c)
        return moves_mail(player, opponent, move)

    # --- state ------------------------------------------------------------------------------

    def rows(self) -> np.ndarray:
        return self.seats.row_bytes().reshape(len(self.ids), -1)

    def game_state(self) -> dict[str, Any]:
        return self.seats.get_state()

    def set_game_state(self, state: dict[str, Any]) -> None:
        self.seats.set_state(state)
