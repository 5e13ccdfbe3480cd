"""Tick statistics crossing a process boundary (Ray pickles them, out-of-band buffers read-only)
arrive whole and can be summed into; a tick's shards' statistics sum into the first's."""

from __future__ import annotations

import pickle

import numpy as np

from world.stats import TickStats
from world.vocab import Kind


def shard_stats(gifts: int, wealth: int) -> TickStats:
    s = TickStats()
    s.add("gifts", gifts)
    s.kinds[Kind.GIFT] += gifts
    s.wealth[wealth] += 1
    s.observe("shard_step", 0.01)
    return s


def test_stats_sent_between_processes_can_be_summed_into() -> None:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(shard_stats(3, 10), protocol=5, buffer_callback=buffers.append)
    # as Ray hands them over: the buffers read-only, the arrays (if any went out) views of them
    got = pickle.loads(data, buffers=[bytes(b.raw()) for b in buffers])
    got.merge(shard_stats(2, 10))
    assert got.c["gifts"] == 5 and got.kinds[Kind.GIFT] == 5
    assert got.wealth == {10: 2}
    np.testing.assert_array_equal(
        got.histogram("shard_step"), 2 * shard_stats(0, 0).histogram("shard_step")
    )


def test_a_ticks_statistics_sum_into_the_first_shards() -> None:
    parts = [shard_stats(1, 4), shard_stats(2, 4), shard_stats(4, 7)]
    total = TickStats.summed(parts)
    assert total is parts[0]
    assert total.c["gifts"] == 7 and total.wealth == {4: 2, 7: 1}
    assert TickStats.summed([]).c["gifts"] == 0
