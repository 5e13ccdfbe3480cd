"""The generators of a load test, wherever they run, behind one interface.

A pool owns an event loop thread: the closed loop's world thinks on it (its thinkers' requests
go out through `ask`), and the open loop `launch`es a schedule from it. Requests are split among
the generators by character (`affinity % generators`), as a run splits them among gateway
replicas, so each character's prompt prefix stays warm on one endpoint.

`LocalPool` keeps its generators in this process; `actors.cluster.loadgen.RayPool` puts each in a
Ray actor, on this machine or across a cluster.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

from inference.backends.base import Answer, Request
from inference.connect import Target
from inference.gateway import LoopThread, by_affinity
from inference.loadtest.figures import Sample
from inference.loadtest.generator import Generator

T = TypeVar("T")
Schedule = list[tuple[float, Request]]


def split(schedule: Schedule, parts: int) -> list[Schedule]:
    """A schedule divided among `parts` generators by character."""
    out: list[Schedule] = [[] for _ in range(parts)]
    for offset, request in schedule:
        out[request.affinity % parts].append((offset, request))
    return out


class Pool(abc.ABC):
    def __init__(self) -> None:
        self.loop = LoopThread()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the pool's event loop and wait for it."""
        return self.loop.run(coro)

    @abc.abstractmethod
    def start(self) -> int:
        """Start and connect every generator; the served context length, in tokens."""

    @abc.abstractmethod
    async def ask(self, requests: list[Request]) -> list[Answer]:
        """Closed loop: answers, in order (awaited on the pool's loop)."""

    @abc.abstractmethod
    def launch(self, schedule: Schedule, start_at: float) -> None:
        """Open loop: start sending `schedule` (offsets from wall-clock `start_at`)."""

    @abc.abstractmethod
    def done(self, wait: float) -> bool:
        """Whether the launched schedule has been sent and answered; waits up to `wait` s."""

    @abc.abstractmethod
    def drain(self) -> list[Sample]:
        """Samples of the requests answered since the last call, from every generator."""

    @abc.abstractmethod
    def each_stats(self) -> list[dict[str, float]]:
        """Each generator's gateway figures."""

    def stats(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for got in self.each_stats():
            for k, v in got.items():
                total[k] = total.get(k, 0) + v
        return total

    def close(self) -> None:
        self.loop.stop()


class LocalPool(Pool):
    """Generators in this process, on the pool's own event loop."""

    def __init__(self, target: Target, timeout: float, generators: int = 1) -> None:
        super().__init__()
        self.generators = [Generator(target, timeout) for _ in range(max(1, generators))]
        self._launched: list[concurrent.futures.Future[int]] = []

    def start(self) -> int:
        return min(self.run(g.start()) for g in self.generators)

    async def ask(self, requests: list[Request]) -> list[Answer]:
        return await by_affinity(
            requests, len(self.generators), lambda k, part: self.generators[k].ask(part)
        )

    def launch(self, schedule: Schedule, start_at: float) -> None:
        parts = split(schedule, len(self.generators))
        self._launched = [
            asyncio.run_coroutine_threadsafe(g.fire(part, start_at), self.loop.loop)
            for g, part in zip(self.generators, parts, strict=True)
        ]

    def done(self, wait: float) -> bool:
        _, waiting = concurrent.futures.wait(self._launched, timeout=wait)
        for f in self._launched:
            if f.done():
                f.result()  # a generator that failed says why
        return not waiting

    def drain(self) -> list[Sample]:
        return [s for g in self.generators for s in g.drain()]

    def each_stats(self) -> list[dict[str, float]]:
        return [g.stats() for g in self.generators]

    def close(self) -> None:
        try:
            for g in self.generators:
                self.run(g.close())
        finally:
            super().close()
