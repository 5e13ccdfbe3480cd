"""A load generator: sends a world's requests to OpenAI-compatible endpoints and keeps a sample of
every one it sends.

It is socius' own gateway and OpenAI backend (so it sends exactly what a run sends, character
by character to the same endpoint), without resends: each request sent is one sample, ending ok,
in error or in a time-out. Closed loop, the world `ask`s and waits; open loop, `fire` sends a
schedule at its times whatever the answers. The caller `drain`s samples as they come.

Plain asyncio: in-process it runs on a `LoopThread`; `actors.cluster.loadgen` hosts one per Ray
actor.
"""

from __future__ import annotations

import asyncio
import time

from inference.backends.base import Answer, Request
from inference.connect import Target, make_backend
from inference.gateway import Gateway
from inference.loadtest.figures import Sample


class Generator:
    def __init__(self, target: Target, timeout: float) -> None:
        self.samples: list[Sample] = []
        self.gateway = Gateway(
            make_backend(target),
            concurrency=target.concurrency,
            timeout=timeout,
            retries=0,
            on_answer=self._keep,
        )

    def _keep(self, answer: Answer, timed_out: bool) -> None:
        self.samples.append(Sample.of(answer, answer.started, timed_out))

    async def start(self) -> int:
        """Connect; returns the served context length, in tokens."""
        return await self.gateway.start()

    async def ask(self, requests: list[Request]) -> list[Answer]:
        """Closed loop: answers to a batch, in order."""
        return await self.gateway.ask(requests)

    async def fire(self, schedule: list[tuple[float, Request]], start_at: float) -> int:
        """Open loop: send each request at wall-clock time `start_at + offset` (at once if that
        has passed), never waiting for answers before the next send. Returns when all are
        answered; the count sent."""
        self.gateway.backend.prepare([r for _, r in schedule])
        sent: list[asyncio.Task[Answer]] = []
        for offset, request in schedule:
            delay = start_at + offset - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(asyncio.ensure_future(self.gateway.one(request)))
        await asyncio.gather(*sent)
        return len(sent)

    def drain(self) -> list[Sample]:
        """The samples of requests answered since the last call."""
        out, self.samples = self.samples, []
        return out

    def stats(self) -> dict[str, float]:
        return self.gateway.stats()

    async def close(self) -> None:
        await self.gateway.close()
