"""What an evolution run reports (summary.json's `results`), from the counts its shards
returned: shard 0's count of each strategy in every generation reached (`count g k`), and the
moves and cooperations of every generation's matches (`moves g`, `cooperations g`).

- `cooperation_rate`: cooperations over moves, over every match of every generation played
  (time-averaged: each generation weighs its moves);
- `fixation_generation` and `winner`: without mutation, the first generation in which one
  strategy is all the population has (the game stops there); none while two or more remain,
  and always none with mutation, where nothing fixates for good;
- `by_strategy`: for each listed strategy its starting `players`, `fixated` (1 if it is the
  winner, else 0: over repeats, its mean is the strategy's fixation probability, as a sweep
  reports it), its `final_share` and its `mean_share` over the generations reached;
- `per_generation`: `shares` (each strategy's share in generation 0, 1, ...) and
  `cooperation` (the cooperation rate of each generation's matches);
- `played.rounds`: the generations completed (updates applied).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.classic.base import share
from world.classic.config import Evolution
from world.classic.evolution import describe
from world.scenario import Scenario


def population_counts(game: Evolution, counts: Counter[str]) -> np.ndarray:
    """(generations reached, strategies): how many played each strategy in each generation;
    generation 0 from the scenario when the counts hold none yet."""
    k = len(game.players)
    rows: list[list[int]] = []
    while any(f"count {len(rows)} {s}" in counts for s in range(k)):
        rows.append([int(counts.get(f"count {len(rows)} {s}", 0)) for s in range(k)])
    if not rows:
        rows.append(list(game.players.values()))
    return np.array(rows, np.int64)


def evolution_results(scenario: Scenario, counts: Counter[str]) -> dict[str, Any]:
    game = scenario.classic
    assert isinstance(game, Evolution)
    names = game.names()
    n = game.characters()
    population = population_counts(game, counts)
    reached = len(population)
    fixation: int | None = None
    winner: str | None = None
    if game.mutation == 0:
        alone = np.flatnonzero(population.max(axis=1) == n)
        if len(alone):
            fixation = int(alone[0])
            winner = names[int(np.argmax(population[fixation]))]
    moves = [int(counts.get(f"moves {g}", 0)) for g in range(reached)]
    coops = [int(counts.get(f"cooperations {g}", 0)) for g in range(reached)]
    shares = population / n
    by_strategy = {
        name: {
            "players": game.players[name],
            "fixated": int(name == winner),
            "final_share": round(float(shares[-1, k]), 6),
            "mean_share": round(float(shares[:, k].mean()), 6),
        }
        for k, name in enumerate(names)
    }
    return {
        "kind": "evolution",
        **describe(scenario),
        "cooperation_rate": share(sum(coops), sum(moves)),
        "fixation_generation": fixation,
        "winner": winner,
        "by_strategy": by_strategy,
        "per_generation": {
            "shares": {
                name: [round(float(x), 6) for x in shares[:, k]] for k, name in enumerate(names)
            },
            "cooperation": [share(c, m) for c, m in zip(coops, moves, strict=True) if m],
        },
        "played": {"rounds": reached - 1},
    }
