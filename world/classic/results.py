"""What a classic run reports (summary.json's `results`), from the counts its shards returned.

The iterated prisoner's dilemma reports what axelrod's tournaments report: each player's total
payoff against the others (self-play excluded: no player meets itself), its mean payoff per
turn and cooperation rate, the same per strategy, a ranking by total and the payoff matrix
(the mean payoff per turn of row against column). The donation game's results are in
donation.py (cooperation rate, the share in good standing, payoffs per strategy),
public_goods.py (contributions per round) and trust.py (shares sent and returned).

Every game's results describe the rounds actually played, whatever the length of the run
(`--ticks` shorter than the game, a run stopped with Ctrl-C): rates over the acts counted,
payoffs per round (turn) played, and `played` saying how far the game went. A run's counts
hold how many ticks it played (world/classic/base.py: `TICKS`, carried through checkpoints, so
a resumed run that completes reports the whole game); each game turns them into its rounds
played by its own timing (`rounds_played`), and world/classic/games.py adds whether the game
finished and, when it did not, a note saying so (summary.json's `stopped_early` is then true).
Cutting a game short is allowed for every kind rather than refused: a partial game's figures
are meaningful as what happened in the rounds played, as long as they say they are partial.

In the dilemma a turn is settled in the tick after it is played, when the opponent's move
arrives: a run of T ticks holds T - 1 turns of every match still going (`played.rounds`), its
totals are those of the turns settled and `mean_per_turn` is per turn settled; the cooperation
rates count every move made, the last tick's unanswered moves of a cut run included.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.classic.base import rounds_played, share
from world.classic.config import IteratedDilemma
from world.stats import SCALE


def pair_matrix(counts: Counter[str], name: str, n: int) -> np.ndarray:
    """counts["<name> i j"] as an n x n matrix."""
    m = np.zeros((n, n), np.int64)
    for i in range(n):
        for j in range(n):
            m[i, j] = counts.get(f"{name} {i} {j}", 0)
    return m


def dilemma_results(game: IteratedDilemma, counts: Counter[str]) -> dict[str, Any]:
    n = game.characters()
    payoff = pair_matrix(counts, "payoff", n) / SCALE
    turns = pair_matrix(counts, "turns", n)
    moves = np.array([counts.get(f"moves {i}", 0) for i in range(n)])
    coops = np.array([counts.get(f"cooperations {i}", 0) for i in range(n)])
    players = [
        {
            "player": i,
            "strategy": game.players[i],
            "total": round(float(payoff[i].sum()), 6),
            "turns": int(turns[i].sum()),
            "mean_per_turn": share(float(payoff[i].sum()), float(turns[i].sum())),
            "cooperation_rate": share(float(coops[i]), float(moves[i])),
        }
        for i in range(n)
    ]
    by_strategy: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(game.players):
        mine = [i for i in range(n) if game.players[i] == name]
        total = float(payoff[mine].sum())
        played = float(turns[mine].sum())
        by_strategy[name] = {
            "players": len(mine),
            "total": round(total, 6),
            "mean_per_turn": share(total, played),
            "cooperation_rate": share(float(coops[mine].sum()), float(moves[mine].sum())),
        }
    return {
        "kind": "ipd",
        "turns": game.turns,
        "repetitions": game.repetitions,
        "continuation": game.continuation,
        "noise": game.noise,
        "players": players,
        "totals": {name: s["total"] for name, s in by_strategy.items()},
        "by_strategy": by_strategy,
        "ranking": sorted(by_strategy, key=lambda s: -by_strategy[s]["total"]),
        "payoff_matrix": [
            [share(float(payoff[i, j]), float(turns[i, j])) for j in range(n)] for i in range(n)
        ],
        "cooperation_rate": share(float(coops.sum()), float(moves.sum())),
        "played": {"rounds": rounds_played(counts, game.turns, lag=1)},
    }
