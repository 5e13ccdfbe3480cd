"""The gateway: every shard's model requests, batched onto a backend without overrunning it.

Shards send the requests of a whole tick at once. The gateway lets at most `concurrency` of them
be in flight (the rest wait: back-pressure), applies a time-out to each, resends one that failed
in transit up to `retries` times after an exponential back-off with jitter (`BACKOFF`, tenacity's:
the jitter spreads resends out in time and changes nothing a character decides, so it is not
drawn from the characters' streams), and never raises for a failed request: it answers `None` text
with the reason, and the shard falls back to the heuristic mind. It keeps the figures a serving
engineer asks for: batch sizes, queue depth, latency and time to first token.

`Gateway` is plain asyncio. `LoopThread` runs one on its own event loop for the in-process
runtime; on Ray, `actors.cluster.gateway_actor.GatewayActor` hosts one per replica.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)

from inference.backends.base import Answer, Backend, Request

T = TypeVar("T")

#: the wait before resend k = 1, 2, 3 ...: 0.5 x 2^(k-1) seconds plus up to 0.5 s of jitter,
#: at most 8 s
BACKOFF = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.5)


def _failed(answer: Answer) -> bool:
    """An answer worth asking again: none came, and the backend did not refuse the request."""
    return answer.text is None and not answer.refused


def _last(state: RetryCallState) -> Answer:
    """The last attempt's answer, when every attempt failed."""
    assert state.outcome is not None
    answer: Answer = state.outcome.result()
    return answer


class Gateway:
    def __init__(
        self,
        backend: Backend,
        *,
        concurrency: int = 64,
        timeout: float = 60.0,
        retries: int = 1,
        on_answer: Callable[[Answer, bool], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`on_answer(answer, timed_out)` is called for every attempt sent (the load test's
        samples); `sleep` waits out the back-off before a resend."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.backend = backend
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.on_answer = on_answer
        self.sleep = sleep
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0
        self.in_flight = 0
        self.figures: dict[str, float] = {
            "batches": 0,
            "batch_rows": 0,
            "batch_max": 0,
            "queue_peak": 0,
            "requests": 0,
            "failed": 0,
            "timeouts": 0,
            "resends": 0,
        }

    async def start(self) -> int:
        """Connect or load; returns the served context length, in tokens."""
        self._slots = asyncio.Semaphore(self.concurrency)
        await self.backend.start()
        return self.backend.context_length()

    async def close(self) -> None:
        await self.backend.close()

    async def ask(self, requests: list[Request]) -> list[Answer]:
        """Answers to a batch of requests, in order."""
        f = self.figures
        f["batches"] += 1
        f["batch_rows"] += len(requests)
        f["batch_max"] = max(f["batch_max"], len(requests))
        return list(await asyncio.gather(*(self.one(r) for r in requests)))

    async def one(self, request: Request) -> Answer:
        """The answer to one request (not counted as a batch)."""
        assert self._slots is not None, "Gateway.start() first"
        self.waiting += 1
        self.figures["queue_peak"] = max(self.figures["queue_peak"], self.waiting)
        async with self._slots:
            self.waiting -= 1
            self.in_flight += 1
            try:
                return await self._send(request)
            finally:
                self.in_flight -= 1

    async def _send(self, request: Request) -> Answer:
        attempts = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=BACKOFF,
            retry=retry_if_result(_failed),
            retry_error_callback=_last,
            sleep=self.sleep,
        )
        sent = 0

        async def attempt() -> Answer:
            nonlocal sent
            if sent:
                self.figures["resends"] += 1
            sent += 1
            answer = await self._attempt(request)
            if _failed(answer):
                self.figures["failed"] += 1
            return answer

        answer: Answer = await attempts(attempt)
        return answer

    async def _attempt(self, request: Request) -> Answer:
        """One try: the backend's answer, or why there is none."""
        self.figures["requests"] += 1
        started, t0 = time.time(), time.perf_counter()
        timed_out = False
        try:
            async with asyncio.timeout(self.timeout):  # no task per request, as wait_for has
                answer = await self.backend.generate(request)
        except TimeoutError:
            self.figures["timeouts"] += 1
            timed_out = True
            answer = Answer(
                text=None,
                error=f"no answer within {self.timeout:g} s",
                latency=time.perf_counter() - t0,
            )
        except Exception as err:  # a backend must not take the world down with it
            answer = Answer(
                text=None,
                error=f"{type(err).__name__}: {err}",
                latency=time.perf_counter() - t0,
            )
        if not answer.started:
            answer.started = started
        if self.on_answer is not None:
            self.on_answer(answer, timed_out)
        return answer

    def stats(self) -> dict[str, float]:
        return {**self.figures, **self.backend.stats()}


async def by_affinity(
    requests: list[Request],
    n: int,
    ask: Callable[[int, list[Request]], Awaitable[list[Answer]]],
) -> list[Answer]:
    """Answers, in order, with each request asked of part `affinity % n` (a gateway replica, a
    load generator), so that a character's prompt prefix stays cached in one place."""
    parts: list[list[int]] = [[] for _ in range(n)]
    for i, r in enumerate(requests):
        parts[r.affinity % n].append(i)
    answers: list[Answer | None] = [None] * len(requests)

    async def one(k: int) -> None:
        got = await ask(k, [requests[i] for i in parts[k]])
        for i, a in zip(parts[k], got, strict=True):
            answers[i] = a

    await asyncio.gather(*(one(k) for k in range(n) if parts[k]))
    return [a if a is not None else Answer(text=None, error="lost") for a in answers]


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where installed (it comes with vLLM and Ray's extras): it serves the
    same requests with about half the CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoopThread:
    """An event loop on a daemon thread, for synchronous callers of asynchronous backends."""

    def __init__(self) -> None:
        self.loop = _new_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
