"""The in-process runtime: every shard in one process, stepping in lockstep.

It is the reference every other runtime is held to: for the same scenario and seed it gives the
same state digest whatever the number of shards. Mail moves between shards as serialized
batches, exactly as it would between processes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from world.digest import state_digest
from world.record import RunRecord
from world.scenario import Scenario
from world.shard import Shard
from world.stats import TickStats


@dataclasses.dataclass
class RunResult:
    ticks: int  # ticks completed
    state_digest: str
    totals: TickStats  # summed over every tick
    last: TickStats  # the final tick
    seconds: float
    stopped_early: bool = False

    def summary(self, scenario: Scenario, n_shards: int, runtime: str) -> dict[str, Any]:
        t = self.totals.c
        acts = t["cooperative"] + t["defecting"]
        return {
            "scenario": scenario.name,
            "seed": scenario.seed,
            "characters": scenario.population.size,
            "shards": n_shards,
            "runtime": runtime,
            "ticks": self.ticks,
            "stopped_early": self.stopped_early,
            "state_digest": self.state_digest,
            "seconds": round(self.seconds, 3),
            "totals": {
                "envelopes": t["envelopes"],
                "cooperation_rate": round(t["cooperative"] / acts, 6) if acts else 0.0,
                **{
                    k: t[k]
                    for k in (
                        "promises_made",
                        "promises_kept",
                        "promises_broken",
                        "betrayals",
                        "apologies",
                        "forgiveness",
                        "trades",
                        "trade_volume",
                        "gifts",
                        "care_gifts",
                        "requests",
                        "loans",
                        "gossip",
                        "contributions",
                        "free_rides",
                        "observations",
                        "invalid_actions",
                    )
                },
                "produced": self.totals.produced.tolist(),
                "consumed": self.totals.consumed.tolist(),
            },
            "final": self.last.figures(),
        }


TickHook = Callable[[int, TickStats, float], None]


class LocalRuntime:
    """Runs a scenario's shards in this process. `record` (optional) receives the run folder's
    journal, metrics and snapshots."""

    name = "local"

    def __init__(
        self, scenario: Scenario, shards: int | None = None, record: RunRecord | None = None
    ) -> None:
        self.scenario = scenario
        self.n_shards = shards if shards is not None else scenario.shards
        if self.n_shards > scenario.population.size:
            from world.errors import ScenarioError

            raise ScenarioError(
                f"{self.n_shards} shards for {scenario.population.size} characters leaves "
                f"shards empty; use at most {scenario.population.size} shards"
            )
        self.shards = [Shard(scenario, i, self.n_shards) for i in range(self.n_shards)]
        self.inboxes: list[list[bytes]] = [[] for _ in range(self.n_shards)]
        self.record = record
        self.totals = TickStats()
        self.last = TickStats()
        self.completed = 0  # ticks every shard has finished (and the record holds)

    @property
    def tick(self) -> int:
        return self.shards[0].tick

    def step(self) -> TickStats:
        """One tick of every shard; mail goes to next tick's inboxes (and the journal)."""
        merged = TickStats()
        nxt: list[list[bytes]] = [[] for _ in range(self.n_shards)]
        results = [shard.step(self.inboxes[shard.index]) for shard in self.shards]
        for shard, result in zip(self.shards, results, strict=True):
            for dest, payload in result.batches.items():
                nxt[dest].append(payload)
                if self.record is not None:
                    self.record.journal(shard.index, payload)
            merged.merge(result.stats)
        self.inboxes = nxt
        self.completed = self.tick
        self.totals.merge(merged)
        self.last = merged
        if self.record is not None:
            self.record.metrics_row({"tick": self.tick, **merged.figures()})
            self.record.flush()
        return merged

    def run(
        self,
        ticks: int | None = None,
        on_tick: TickHook | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RunResult:
        ticks = self.scenario.ticks if ticks is None else ticks
        start = time.perf_counter()
        stopped = False
        for _ in range(ticks):
            if should_stop is not None and should_stop():
                stopped = True
                break
            t0 = time.perf_counter()
            stats = self.step()
            if on_tick is not None:
                on_tick(self.tick, stats, time.perf_counter() - t0)
        return RunResult(
            self.tick, self.digest(), self.totals, self.last, time.perf_counter() - start, stopped
        )

    def digest(self) -> str:
        return state_digest(s.digest_parts() for s in self.shards)

    def snapshot(self) -> Path | None:
        if self.record is None:
            return None
        return self.record.snapshot(
            self.tick,
            [s.get_state() for s in self.shards],
            {"n_shards": self.n_shards, "runtime": self.name},
        )
