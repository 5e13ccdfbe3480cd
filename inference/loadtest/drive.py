"""One measurement per load level, closed loop or open loop, and what is kept of each.

Closed loop: a world of N characters runs tick by tick on the in-process runtime; its thinkers
ask the pool's generators and every tick waits for its answers. The level's folder holds the
world's `scenario.yaml` and `traces/`, so it can be replayed open loop later (`--replay`).
Open loop: the schedule is launched at its mean rate and the pool drained until every request
is answered. Either way each request sent becomes one sample (`samples.jsonl` in the level's
folder) and the figures of `figures.measure`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inference.loadtest.figures import Sample, Slo, measure
from inference.loadtest.live import LiveFigures
from inference.loadtest.pool import Pool, Schedule
from inference.think import Thinker
from world.runtime import LocalRuntime
from world.scenario import Scenario
from world.shard import Decisions, Pending, Shard

#: progress(done, total, samples so far): done/total in ticks (closed) or requests (open)
Progress = Callable[[int, int, list[Sample]], None]


class Measurement:
    """Runs levels against one pool, feeding the live figures and keeping every sample."""

    def __init__(
        self,
        pool: Pool,
        out: Path,
        slo: Slo,
        live: LiveFigures | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.pool = pool
        self.out = out
        self.slo = slo
        self.live = live
        self.progress = progress
        self.context_length = 0

    def _drain(self, samples: list[Sample]) -> None:
        got = self.pool.drain()
        samples.extend(got)
        if self.live is not None:
            self.live.add(got)

    def _resent(self) -> int:
        """Requests the pool's generators have resent on a closed connection so far."""
        return int(self.pool.stats().get("resent_on_closed", 0))

    def _finish(self, folder: Path, samples: list[Sample], extra: dict[str, Any]) -> dict[str, Any]:
        with open(folder / "samples.jsonl", "w", encoding="utf-8") as f:
            for s in samples:
                f.write(json.dumps(s.to_row()) + "\n")
        figures = {**extra, **measure(samples, self.slo)}
        if self.live is not None:
            self.live.finished(figures)
        return figures

    def closed(self, scenario: Scenario, ticks: int) -> dict[str, Any]:
        """A live world of `scenario.population.size` characters for `ticks` ticks."""
        n = scenario.population.size
        folder = self.out / f"characters-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
        if self.live is not None:
            self.live.level.set(n)
        runtime = LocalRuntime(scenario)
        resent = self._resent()
        thinker = Thinker(
            scenario,
            self.pool.ask,
            context_length=self.context_length,
            n_shards=runtime.n_shards,
            folder=folder,
        )

        async def think(work: list[tuple[Shard, Pending]]) -> list[Decisions]:
            return list(await asyncio.gather(*(thinker.think(s, p) for s, p in work)))

        runtime.decide = lambda work: self.pool.run(think(work))
        samples: list[Sample] = []
        decisions = 0
        try:
            for t in range(ticks):
                stats = runtime.step()
                decisions += stats.c["llm_decisions"]
                self._drain(samples)
                if self.progress is not None:
                    self.progress(t + 1, ticks, samples)
        finally:
            thinker.close()
        self._drain(samples)
        world = {"mode": "closed", "level": n, "characters": n, "ticks": ticks}
        sent = {"decisions": decisions, "resent_on_closed": self._resent() - resent}
        return self._finish(folder, samples, {**world, **sent})

    def open(self, schedule: Schedule, rate: float, arrivals: str) -> dict[str, Any]:
        """`schedule` sent at mean `rate` requests per second, whatever the answers."""
        folder = self.out / f"rate-{rate:g}"
        folder.mkdir(parents=True, exist_ok=True)
        if self.live is not None:
            self.live.level.set(rate)
        samples: list[Sample] = []
        resent = self._resent()
        self.pool.launch(schedule, time.time() + 0.5)
        while not self.pool.done(0.5):
            self._drain(samples)
            if self.progress is not None:
                self.progress(len(samples), len(schedule), samples)
        self._drain(samples)
        if self.progress is not None:
            self.progress(len(samples), len(schedule), samples)
        world = {"mode": "open", "level": rate, "rate": rate, "arrivals": arrivals}
        return self._finish(folder, samples, {**world, "resent_on_closed": self._resent() - resent})
