"""The load test's generators as Ray actors: `socius loadtest --generators K`.

Each actor holds one `inference.loadtest.Generator` (a gateway and a pooled HTTP client) on its
own event loop, in its own process, on whichever node has room, so generating the load is never
what limits the figures. Requests are split among them by character.
"""

from __future__ import annotations

from typing import Any

import ray

from actors.cluster.lifecycle import close_actors, start_replicas
from inference.backends.base import Answer, Request
from inference.connect import Target
from inference.gateway import by_affinity
from inference.loadtest.figures import Sample
from inference.loadtest.generator import Generator
from inference.loadtest.pool import Pool, Schedule, split

GeneratorActor = ray.remote(Generator)


class RayPool(Pool):
    def __init__(self, target: Target, timeout: float, generators: int, cpus: float = 1.0):
        super().__init__()
        opts: dict[str, Any] = {"num_cpus": cpus, "max_restarts": 0}
        self.handles: list[Any] = [
            GeneratorActor.options(**opts).remote(target, timeout)  # type: ignore[attr-defined]
            for _ in range(generators)
        ]
        self._launched: list[Any] = []

    def start(self) -> int:
        return start_replicas(self.handles, timeout=300)

    async def ask(self, requests: list[Request]) -> list[Answer]:
        return await by_affinity(requests, len(self.handles), self._part)

    async def _part(self, k: int, requests: list[Request]) -> list[Answer]:
        return list(await self.handles[k].ask.remote(requests))

    def launch(self, schedule: Schedule, start_at: float) -> None:
        parts = split(schedule, len(self.handles))
        self._launched = [
            h.fire.remote(part, start_at) for h, part in zip(self.handles, parts, strict=True)
        ]

    def done(self, wait: float) -> bool:
        ready, waiting = ray.wait(self._launched, num_returns=len(self._launched), timeout=wait)
        ray.get(ready)  # a generator that failed says why
        return not waiting

    def drain(self) -> list[Sample]:
        return [s for got in ray.get([h.drain.remote() for h in self.handles]) for s in got]

    def each_stats(self) -> list[dict[str, float]]:
        return list(ray.get([h.stats.remote() for h in self.handles]))

    def close(self) -> None:
        try:
            close_actors(self.handles, timeout=30)
        finally:
            super().close()
