"""Same scenario and seed, same digest: whatever the shard layout, and across a restore."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from tests.conftest import quiet_world
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario
from world.shard import Shard
from world.wire import Mail


def lively(size: int = 120, seed: int = 3, **population) -> Scenario:
    return parse_scenario(
        {
            "name": "lively",
            "seed": seed,
            "ticks": 15,
            "population": {
                "size": size,
                "group_size": 10,
                "minds": {
                    "heuristic": 0.6,
                    "tit_for_tat": 0.1,
                    "random": 0.1,
                    "win_stay_lose_shift": 0.1,
                    "discriminator": 0.1,
                },
                **population,
            },
            "information": {"observation_rate": 0.3},
            "noise": {"execution": 0.05, "assessment": 0.05},
            "public_goods": {"every": 3},
            "memory": {"relationships": 6, "episodes": 4},
        }
    )


def digest(sc: Scenario, shards: int, ticks: int = 15) -> str:
    return LocalRuntime(sc, shards).run(ticks).state_digest


def test_same_seed_same_digest() -> None:
    """Two runs of the same scenario and seed end in the same state."""
    sc = lively()
    assert digest(sc, 1) == digest(sc, 1)


def test_another_seed_another_world() -> None:
    """A different seed gives a different run."""
    assert digest(lively(seed=3), 1) != digest(lively(seed=4), 1)


@pytest.mark.parametrize("shards", [2, 4, 7])
def test_shard_count_does_not_matter(shards: int) -> None:
    """1 shard and several shards reach the same digest (memory kept small so that
    forgetting, a layout-sensitive path, is exercised)."""
    sc = lively()
    assert digest(sc, shards) == digest(sc, 1)


def test_one_shard_per_character() -> None:
    """The literal layout, one shard per character, matches the packed one."""
    sc = lively(size=40)
    assert digest(sc, 40) == digest(sc, 1)


def test_metrics_do_not_depend_on_the_layout() -> None:
    """Every per-tick figure is identical for 1 and 3 shards."""
    sc = lively()
    a, b = LocalRuntime(sc, 1), LocalRuntime(sc, 3)
    for _ in range(10):
        assert a.step().figures() == b.step().figures()


def test_restored_shards_continue_exactly() -> None:
    """Saving every shard (through msgpack) and restoring it into fresh shards mid-run ends in
    the digest of the uninterrupted run."""
    sc = lively()
    whole = LocalRuntime(sc, 3)
    whole.run(14)
    first = LocalRuntime(sc, 3)
    first.run(6)
    states = [
        msgpack.unpackb(msgpack.packb(s.get_state(), use_bin_type=True), strict_map_key=False)
        for s in first.shards
    ]
    inboxes = [s.pending_mail() for s in first.shards]
    second = LocalRuntime(sc, 3)
    for shard, state in zip(second.shards, states, strict=True):
        shard.set_state(state)
    second.inboxes = [[] for _ in range(3)]
    for mail in inboxes:
        for dest, payload in mail.items():
            second.inboxes[dest].append(payload)
    assert second.digest() == first.digest()
    second.run(8)
    assert second.digest() == whole.digest()


def test_mail_handed_on_in_process_is_what_the_wire_carries() -> None:
    """In one process a shard's mail is handed on as it is, not serialized: read-only (a
    recipient cannot change its sender's outbox), and the same world as when every share
    crosses the wire as a Batch, tick by tick, on 1 and 3 shards."""
    sc = lively()
    for shards in (1, 3):
        handed, wired = LocalRuntime(sc, shards), LocalRuntime(sc, shards)
        for _ in range(10):
            handed.step()
            wired.step()
            parts = [p for box in handed.inboxes for p in box]
            assert parts and all(isinstance(p, Mail) for p in parts)
            for p in parts:
                with pytest.raises(ValueError, match="read-only"):
                    p.recipient[0] = 0
            wired.inboxes = [list(box) for box in wired.in_flight()]
            assert all(isinstance(p, bytes) for box in wired.inboxes for p in box)
            assert handed.digest() == wired.digest()
        whole = LocalRuntime(sc, 1)
        whole.run(10)
        assert handed.digest() == whole.digest()


def test_state_round_trip_covers_every_table() -> None:
    """get_state/set_state round-trips characters, both ledgers and the mail in flight."""
    sc = lively()
    rt = LocalRuntime(sc, 2)
    rt.run(9)
    shard = rt.shards[1]
    assert len(shard.owed) + len(shard.owed_to) > 0 and len(shard.outbox) > 0
    copy = Shard(sc, 1, 2)
    copy.set_state(
        msgpack.unpackb(msgpack.packb(shard.get_state(), use_bin_type=True), strict_map_key=False)
    )
    assert copy.digest_parts() == shard.digest_parts()
    for name in shard.chars.COLUMNS:
        assert np.array_equal(getattr(copy.chars, name), getattr(shard.chars, name)), name


def test_state_of_another_shard_is_refused() -> None:
    """Loading shard 0's state into shard 1 is an error that says so."""
    sc = quiet_world(size=10)
    with pytest.raises(ValueError, match="cannot be loaded"):
        Shard(sc, 1, 2).set_state(Shard(sc, 0, 2).get_state())
