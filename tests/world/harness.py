"""Driving a single shard tick by tick with hand-made mail, for the mechanism tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from protos import society_pb2 as pb
from world import memory
from world.minds.registry import MIND_NAMES
from world.record import RunRecord, latest_checkpoint
from world.runtime import LocalRuntime
from world.scenario import Scenario
from world.shard import Shard, StepResult
from world.wire import Mail, concat, decode, from_envelopes


def mind_index(name: str) -> int:
    return MIND_NAMES.index(name)


def envelopes(result: StepResult) -> Mail:
    return concat(decode(b)[1] for b in result.batches.values())


def step(shard: Shard, *envs: pb.Envelope, carry: StepResult | None = None) -> StepResult:
    """One tick with the given envelopes (plus, if `carry`, the mail of the previous tick)."""
    parts = [from_envelopes(list(envs))] if envs else []
    if carry is not None:
        parts.append(envelopes(carry))
    return shard.step(concat(parts))


def slot_of(shard: Shard, me: int, other: int) -> int:
    return int(memory.find(shard.chars, np.array([me]), np.array([other]))[0])


def trust(shard: Shard, me: int, other: int) -> float:
    s = slot_of(shard, me, other)
    c = shard.chars
    if s < 0:
        return 0.5
    return float((c.rel_pos[me, s] + 1) / (c.rel_pos[me, s] + c.rel_neg[me, s] + 2))


def sent(result: StepResult, kind: int) -> list[tuple[int, int, int]]:
    """(sender, recipient, ref) of the envelopes of one kind a tick sent."""
    m = envelopes(result)
    rows = np.flatnonzero(m.kind[: len(m)] == kind)
    return [(int(m.sender[r]), int(m.recipient[r]), int(m.ref[r])) for r in rows]


def assert_resume_is_exact(sc: Scenario, folder: Path, shards: int = 2) -> None:
    """A run checkpointed every 7 ticks, stopped at tick 12 and resumed from the tick-7
    checkpoint ends in the digest and results of the uninterrupted run."""
    whole = LocalRuntime(sc, shards).run()
    record = RunRecord(folder, sc, shards)
    LocalRuntime(sc, shards, record, checkpoint_every=7).run(12)
    record.close()
    manifest = latest_checkpoint(folder)
    assert manifest is not None and manifest["tick"] == 7
    record = RunRecord(folder, sc, shards, resume=True)
    second = LocalRuntime(sc, shards, record, checkpoint_every=7)
    second.restore(manifest)
    result = second.run()
    record.close()
    assert result.state_digest == whole.state_digest
    summary = result.summary(sc, shards, "local")
    expected = whole.summary(sc, shards, "local")
    for part in ("results", "totals", "final"):  # a classic game's results; a village's figures
        assert summary.get(part) == expected.get(part)
