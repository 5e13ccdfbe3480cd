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
from inference.backends.openai import (
    MAX_REST,
    RESENDS_ON_CLOSED,
    REST,
    OpenAIBackend,
    retry_after,
)
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
            b = OpenAIBackend([url])
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


@asynccontextmanager
async def hanging_up(drops: Callable[[int, int], bool]) -> AsyncIterator[tuple[str, list[str]]]:
    """A raw HTTP/1.1 server that keeps connections alive, and reads the k-th request on its
    n-th connection then hangs up without a byte of answer where `drops(n, k)`, as a server
    whose keep-alive timer fired as the request arrived does. Yields its URL and the log of
    what happened, one `"n.k answered"` or `"n.k dropped"` per request. (aiohttp's own server
    cannot be told to drop one request of a kept-alive connection.)"""
    log: list[str] = []
    connections = 0
    models = json.dumps({"data": [{"id": "m", "max_model_len": 2048}]}).encode()
    chat = sse(content('{"a": 1}'), {"choices": [], "usage": {"prompt_tokens": 3}})
    chat += b"data: [DONE]\n\n"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        n, k = connections, 0
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
                length = next(
                    (int(h.split(":")[1]) for h in head.split("\r\n") if "content-length" in h),
                    0,
                )
                await reader.readexactly(length)
                k += 1
                if drops(n, k):
                    log.append(f"{n}.{k} dropped")
                    return
                log.append(f"{n}.{k} answered")
                body, kind = (models, "json") if head.startswith("get") else (chat, "event-stream")
                writer.write(
                    f"HTTP/1.1 200 OK\r\ncontent-type: application/{kind}\r\n"
                    f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed it
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.close()
        await server.wait_closed()


def test_a_kept_alive_connection_closed_as_it_is_reused_is_no_error() -> None:
    """The connection /v1/models went on is reused for the chat, and the server hangs up on
    it (its idle timer fired): the chat goes again on a new connection and is answered, once;
    it is not rested, and the gateway sees one request that was answered, not an error."""

    async def main() -> None:
        async with hanging_up(lambda n, k: (n, k) == (1, 2)) as (url, log):
            b = OpenAIBackend([url])
            gateway = Gateway(b, retries=0)
            await gateway.start()  # starts the backend: /v1/models
            try:
                answer = await gateway.one(request())
            finally:
                await gateway.close()
        assert answer.text == '{"a": 1}', answer
        assert log == ["1.1 answered", "1.2 dropped", "2.1 answered"]
        assert b.resent_on_closed == 1 and b.down_until == [0.0]
        assert gateway.stats()["resent_on_closed"] == 1  # what the exporter and load test read
        assert (gateway.figures["requests"], gateway.figures["failed"]) == (1, 0)

    asyncio.run(main())


def test_a_server_that_hangs_up_on_every_request_is_an_error_after_a_few_resends() -> None:
    """Hung up on every chat, on every connection: the request goes RESENDS_ON_CLOSED more
    times, no more, and the answer says the server disconnected; the endpoint is rested."""

    async def main() -> tuple[str, Answer, list[str]]:
        async with hanging_up(lambda n, k: (n, k) != (1, 1)) as (url, log):
            b = await backend_of(url)
            try:
                return url, await b.generate(request()), log
            finally:
                await b.close()

    url, answer, log = asyncio.run(main())
    assert answer.text is None and answer.error == f"{url}: Server disconnected", answer
    assert log == ["1.1 answered", "1.2 dropped"] + [
        f"{n}.1 dropped" for n in range(2, RESENDS_ON_CLOSED + 2)
    ]
