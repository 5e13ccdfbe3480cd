"""Faults that heal at the endpoints: an endpoint that answers HTTP 429 (with Retry-After) or
5xx is rested and the request goes to the next one; an error event inside a stream is an
error, not a short answer; a 4xx other than 429 is the request's own fault (no resend); and
the gateway resends a failed request after an exponential back-off with jitter, tenacity's.

The endpoints are small aiohttp servers started here, each scripted to misbehave one way
(no real server answers 429 or fails mid-stream on demand); test_loadtest_vllm.py and the
LLM world tests talk to a real vLLM server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from inference.backends.base import Answer, Backend, Request
from inference.backends.openai import MAX_REST, REST, OpenAIBackend, retry_after
from inference.gateway import Gateway

Handler = Callable[[web.Request], Any]


def sse(*chunks: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)


def content(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


async def ok(_: web.Request) -> web.Response:
    body = sse(content('{"a": 1}'), {"choices": [], "usage": {"prompt_tokens": 3}})
    return web.Response(body=body + b"data: [DONE]\n\n", content_type="text/event-stream")


async def too_many(_: web.Request) -> web.Response:
    return web.json_response(
        {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "30"}
    )


async def failing(_: web.Request) -> web.Response:
    return web.json_response({"error": {"message": "engine died"}}, status=503)


async def bad_request(_: web.Request) -> web.Response:
    return web.json_response({"error": {"message": "prompt too long"}}, status=400)


async def error_mid_stream(_: web.Request) -> web.Response:
    body = sse(content('{"a"'), {"error": {"message": "out of KV cache", "code": 500}})
    return web.Response(body=body, content_type="text/event-stream")


@asynccontextmanager
async def endpoint(chat: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server whose /v1/models lists one model and whose chat answers with `chat`; yields
    its URL and the list its chat calls are counted in."""
    calls: list[int] = []

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "m", "max_model_len": 2048}]})

    async def counted(request: web.Request) -> web.Response:
        calls.append(1)
        response: web.Response = await chat(request)
        return response

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", counted)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", calls
    finally:
        await runner.cleanup()


def request(affinity: int = 0) -> Request:
    return Request(
        key=f"k{affinity}",
        messages=[{"role": "user", "content": "hi"}],
        schema={"type": "object"},
        max_tokens=8,
        seed=1,
        affinity=affinity,
    )


async def backend_of(*urls: str) -> OpenAIBackend:
    b = OpenAIBackend(list(urls))
    await b.start()
    return b


def test_429_and_5xx_rest_the_endpoint_and_the_next_answers() -> None:
    async def main() -> None:
        for bad, rest in ((too_many, 30.0), (failing, REST)):
            async with endpoint(bad) as (first, hits), endpoint(ok) as (second, served):
                b = await backend_of(first, second)
                try:
                    before = time.monotonic()
                    answer = await b.generate(request(affinity=0))  # the first one's character
                    assert answer.text == '{"a": 1}', answer
                    assert (len(hits), len(served)) == (1, 1)
                    resting = b.down_until[0] - before
                    assert rest <= resting <= rest + 5, resting
                    again = await b.generate(request(affinity=0))
                    assert again.text == '{"a": 1}'
                    assert (len(hits), len(served)) == (1, 2)  # the rested one is skipped
                finally:
                    await b.close()

    asyncio.run(main())


def answer_from(chat: Handler) -> tuple[str, Answer]:
    """One request to a single endpoint that chats with `chat`: its URL and the answer."""

    async def main() -> tuple[str, Answer]:
        async with endpoint(chat) as (url, _):
            b = await backend_of(url)
            try:
                return url, await b.generate(request())
            finally:
                await b.close()

    return asyncio.run(main())


def test_when_every_endpoint_fails_the_answer_says_why_and_may_be_resent() -> None:
    url, answer = answer_from(failing)
    assert answer.text is None and not answer.refused
    assert answer.error == f"{url} answered HTTP 503: engine died"


def test_a_4xx_is_the_requests_own_fault_and_not_resent() -> None:
    async def main() -> None:
        async with endpoint(bad_request) as (url, hits):
            b = await backend_of(url)
            gateway = Gateway(b, retries=3, sleep=no_wait([]))
            await gateway.start()
            try:
                answer = await gateway.one(request())
            finally:
                await gateway.close()
        assert answer.refused and "HTTP 400: prompt too long" in (answer.error or "")
        assert len(hits) == 1 and gateway.figures["resends"] == 0
        assert b.down_until[0] == 0.0  # not rested: the server is fine

    asyncio.run(main())


def test_an_error_event_inside_a_stream_is_an_error() -> None:
    url, answer = answer_from(error_mid_stream)
    assert answer.text is None and not answer.refused
    assert answer.error == f"{url} failed mid-answer: out of KV cache"


def test_retry_after_is_read_and_bounded() -> None:
    assert retry_after("12") == 12.0
    assert retry_after("0.5") == 0.5
    assert retry_after("86400") == MAX_REST
    assert retry_after(None) == REST
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == REST


def no_wait(waits: list[float]) -> Callable[[float], Any]:
    """A sleep that records how long it was asked to wait, and returns at once."""

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return sleep


class Flaky(Backend):
    """Fails `failures` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def generate(self, request: Request) -> Answer:
        self.calls += 1
        if self.calls <= self.failures:
            return Answer(text=None, error="dropped")
        return Answer(text="{}")

    def context_length(self) -> int:
        return 2048


def test_resends_back_off_exponentially_with_jitter() -> None:
    """Three failures then an answer, with retries 3: three resends, after waits of
    0.5-1.0, 1.0-1.5 and 2.0-2.5 s (0.5 x 2^(k-1) plus up to 0.5 s of jitter); with retries
    1 the second failure is the answer, after one wait; the figures count every attempt."""

    async def main() -> None:
        waits: list[float] = []
        gateway = Gateway(Flaky(3), retries=3, sleep=no_wait(waits))
        await gateway.start()
        answer = await gateway.one(request())
        assert answer.text == "{}"
        assert len(waits) == 3
        for k, wait in enumerate(waits):
            assert 0.5 * 2**k <= wait <= 0.5 * 2**k + 0.5, waits
        f = gateway.figures
        assert (f["requests"], f["resends"], f["failed"]) == (4, 3, 3)

        waits.clear()
        gateway = Gateway(Flaky(3), retries=1, sleep=no_wait(waits))
        await gateway.start()
        answer = await gateway.one(request())
        assert answer.text is None and answer.error == "dropped"
        assert len(waits) == 1 and gateway.figures["failed"] == 2

    asyncio.run(main())
