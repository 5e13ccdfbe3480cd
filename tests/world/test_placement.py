"""Where characters live: blocks of consecutive ids (world/placement.py). Every id has one
shard and one row, each shard's rows hold its ids in ascending order, shards differ by at most
one character per segment, groups stay together, and the layout never changes the world. The
placement of one segment is computed with numpy in a process that has not loaded the compiled
kernels and with `kernels/homes.py` in one that has: the tests of ids run both ways."""

from __future__ import annotations

import numpy as np
import pytest

from world import kernels
from world.placement import Placement
from world.runtime import LocalRuntime
from world.scenario import parse_scenario
from world.wire import decode


@pytest.fixture(params=["numpy", "kernel"])
def compiled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "live", lambda: request.param == "kernel")


LAYOUTS = [
    ([(0, 10)], 1),
    ([(0, 10)], 3),
    ([(0, 7)], 7),  # one character per shard
    ([(0, 100), (100, 103), (103, 150)], 7),  # newcomers fewer than the shards
    ([(0, 10), (10, 10), (10, 31)], 4),  # an empty segment
    ([(0, 1000), (1000, 1500)], 64),
]


@pytest.mark.parametrize(("segments", "k"), LAYOUTS)
@pytest.mark.usefixtures("compiled")
def test_every_id_has_one_place_and_rows_follow_ids(segments, k) -> None:
    p = Placement(segments, k)
    ids = np.arange(p.size)
    shard, row = p.shard(ids), p.row(ids)
    assert shard.min() >= 0 and shard.max() < k
    for s in range(k):
        mine = ids[shard == s]
        assert row[shard == s].tolist() == list(range(len(mine)))  # rows 0.., ascending ids
    for a, b in segments:
        counts = np.bincount(shard[a:b], minlength=k)
        assert counts.max() - counts.min() <= 1  # balanced within each segment
        if b - a >= k:
            assert counts.min() >= 1
        assert np.all(np.diff(shard[a:b]) >= 0)  # a segment's ids form one block per shard
    for s in range(k):  # a shard's ids, segment by segment, are its rows in order
        joined = np.concatenate([p.segment_ids(s, i) for i in range(len(segments))])
        assert joined.tolist() == ids[shard == s].tolist()
    for c in (0, p.size - 1):
        assert (p.shard_of(c), p.row_of(c)) == (int(shard[c]), int(row[c]))


def test_an_id_outside_the_world_is_refused() -> None:
    p = Placement([(0, 10)], 3)
    for c in (-1, 10):
        with pytest.raises(ValueError, match=r"ids 0\.\.9"):
            p.shard_of(c)


def test_segments_must_tile_the_ids() -> None:
    for bad in ([], [(1, 5)], [(0, 5), (6, 9)], [(0, 5), (5, 3)]):
        with pytest.raises(ValueError, match="tile"):
            Placement(bad, 2)


def test_a_group_lives_in_one_shard_or_two() -> None:
    """400 groups of 25 on 64 shards (about 156 characters each): no group spans more than
    two shards."""
    p = Placement([(0, 10_000)], 64)
    groups = np.arange(10_000) // 25
    shard = p.shard(np.arange(10_000))
    spans = [len(set(shard[groups == g].tolist())) for g in range(400)]
    assert max(spans) == 2 and spans.count(1) > 300


def test_most_mail_stays_in_its_shard() -> None:
    """A lively world of 2,000 in groups of 25 on 16 shards: most envelopes go to a character
    of the sender's own shard (under id % 16 almost none would)."""
    sc = parse_scenario(
        {
            "name": "local",
            "seed": 4,
            "ticks": 8,
            "population": {"size": 2000, "group_size": 25},
            "encounters": {"rate": 0.8},
        }
    )
    rt = LocalRuntime(sc, 16)
    crossing = staying = 0
    for _ in range(sc.ticks):
        rt.step()
        for s, box in enumerate(rt.in_flight()):
            for payload in box:
                batch, mail = decode(payload)
                assert batch.dest_shard == s
                crossing += len(mail) * (batch.source_shard != s)
                staying += len(mail) * (batch.source_shard == s)
    assert crossing + staying > 10_000
    assert crossing / (crossing + staying) < 0.5


def test_newcomers_fewer_than_the_shards_do_not_change_the_world() -> None:
    """Two waves of newcomers (2 characters, then 31), on 1, 3, 5 and 7 shards: one digest."""
    sc = parse_scenario(
        {
            "name": "waves",
            "seed": 9,
            "ticks": 12,
            "population": {"size": 60, "group_size": 10},
            "events": [
                {"kind": "newcomers", "tick": 4, "count": 2},
                {"kind": "newcomers", "tick": 8, "count": 31, "group": 1},
            ],
        }
    )
    digests = set()
    for k in (1, 3, 5, 7):
        rt = LocalRuntime(sc, k)
        rt.run()
        assert sum(len(s.chars) for s in rt.villages) == 93
        digests.add(rt.digest())
    assert len(digests) == 1
