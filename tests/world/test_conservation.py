"""Goods are conserved under any sequence of acts, even acts the world must refuse."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from world.acts import N_ACTIONS
from world.minds.base import DecisionBatch, Mind
from world.scenario import parse_scenario
from world.shard import Shard
from world.stats import TickStats
from world.wire import concat, decode


class ArbitraryMind(Mind):
    """Chooses any action at all, legal or not, from a generator the test seeds."""

    name = "arbitrary"

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def decide(self, batch: DecisionBatch) -> np.ndarray:
        return self.rng.integers(-2, N_ACTIONS + 2, len(batch)).astype(np.int8)


def in_flight(inboxes: list[list[bytes]]) -> np.ndarray:
    mail = concat(decode(b)[1] for box in inboxes for b in box)
    return mail.carried().sum(axis=0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(2, 40),
    shards=st.integers(1, 4),
    ticks=st.integers(1, 10),
    execution=st.floats(0.0, 0.5),
    abundance=st.floats(0.05, 3.0),
    every=st.integers(1, 4),
    chaos=st.integers(0, 2**32 - 1),
)
def test_goods_are_conserved(seed, size, shards, ticks, execution, abundance, every, chaos) -> None:
    """Holdings plus goods in flight always equal what was endowed, made and used up; nobody
    ever holds a negative amount; illegal choices are counted and never applied."""
    shards = min(shards, size)
    sc = parse_scenario(
        {
            "seed": seed,
            "population": {"size": size, "group_size": 5},
            "economy": {"abundance": abundance},
            "noise": {"execution": execution},
            "public_goods": {"every": every},
            "encounters": {"rate": 1.0},
        }
    )
    rng = np.random.default_rng(chaos)
    world = [Shard(sc, i, shards, minds=[ArbitraryMind(rng)] * 8) for i in range(shards)]
    start = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in world)
    totals = TickStats()
    inboxes: list[list[bytes]] = [[] for _ in range(shards)]
    for _ in range(ticks):
        nxt: list[list[bytes]] = [[] for _ in range(shards)]
        for s in world:
            result = s.step(inboxes[s.index])
            totals.merge(result.stats)
            for dest, payload in result.batches.items():
                nxt[dest].append(payload)
        inboxes = nxt
        held = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in world)
        assert all((s.chars.goods >= 0).all() for s in world)
        expected = start + totals.produced - totals.consumed
        assert (held + in_flight(inboxes)).tolist() == expected.tolist()
    assert totals.c["invalid_actions"] > 0 or totals.c["decisions"] < 5
