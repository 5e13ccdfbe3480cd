"""Tick statistics crossing a process boundary (Ray pickles them, out-of-band buffers read-only)
arrive whole and can be summed into; a tick's shards' statistics sum into the first's."""

from __future__ import annotations

import pickle

import numpy as np

from world.stats import Tally, TickStats, gini
from world.vocab import Kind


def shard_stats(gifts: int, wealth: int) -> TickStats:
    s = TickStats()
    s.add("gifts", gifts)
    s.kinds[Kind.GIFT] += gifts
    s.wealth = Tally.of(np.array([wealth]))
    s.observe("shard_step", 0.01)
    return s


def test_stats_sent_between_processes_can_be_summed_into() -> None:
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(shard_stats(3, 10), protocol=5, buffer_callback=buffers.append)
    # as Ray hands them over: the buffers read-only, the arrays (if any went out) views of them
    got = pickle.loads(data, buffers=[bytes(b.raw()) for b in buffers])
    got.merge(shard_stats(2, 10))
    assert got.c["gifts"] == 5 and got.kinds[Kind.GIFT] == 5
    assert got.wealth.as_dict() == {10: 2}
    np.testing.assert_array_equal(
        got.histogram("shard_step"), 2 * shard_stats(0, 0).histogram("shard_step")
    )


def test_a_ticks_statistics_sum_into_the_first_shards() -> None:
    parts = [shard_stats(1, 4), shard_stats(2, 4), shard_stats(4, 7)]
    total = TickStats.summed(parts)
    assert total is parts[0]
    assert total.c["gifts"] == 7 and total.wealth.as_dict() == {4: 2, 7: 1}
    assert TickStats.summed([]).c["gifts"] == 0


def gini_of_pairs(hist: dict[int, int]) -> float:
    """The Gini coefficient as it was computed before wealth was a Tally: a Python loop over
    value -> count, in exact integers (the reference)."""
    items = sorted((v, n) for v, n in hist.items() if n > 0)
    total_n = sum(n for _, n in items)
    total = sum(v * n for v, n in items)
    if total_n == 0 or total <= 0:
        return 0.0
    acc = below_n = below_sum = 0
    for v, n in items:
        acc += n * (v * below_n - below_sum)
        below_n += n
        below_sum += v * n
    return (2 * acc) / (2 * total_n * total)


def test_wealth_merges_and_its_gini_is_the_exact_one() -> None:
    """Shards' wealth tallies merged hold every character's wealth once; their Gini is the
    exact one, bit for bit (numpy's integers where they cannot overflow, Python's where they
    could: values near 2^40 over a million characters), also for nothing and for all zero."""
    rng = np.random.default_rng(5)
    for size, top in ((1, 10), (300, 50), (5000, 100_000), (1_000_000, 1 << 40)):
        wealth = rng.integers(0, top, size)
        parts = np.array_split(wealth, 3)
        total = Tally.of(parts[0])
        for part in parts[1:]:
            total.merge(Tally.of(part))
        values, counts = np.unique(wealth, return_counts=True)
        assert total.as_dict() == dict(zip(values.tolist(), counts.tolist(), strict=True))
        assert gini(total) == gini_of_pairs(total.as_dict())
    assert gini(Tally()) == 0.0 and gini(Tally.of(np.zeros(4, np.int64))) == 0.0
    back = TickStats.from_dict(shard_stats(1, 9).to_dict())
    assert back.wealth.as_dict() == {9: 1}
    old = {**shard_stats(1, 9).to_dict(), "wealth": [[3, 2], [9, 1]]}  # a checkpoint before
    assert TickStats.from_dict(old).wealth.as_dict() == {3: 2, 9: 1}
