"""A minimal OpenAI-compatible server that answers at once: the load generator's own ceiling.

    python -m inference.loadtest.instant --port 8900

It speaks just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) and just enough of the API
(`GET /v1/models`, streamed `POST /v1/chat/completions` with a usage chunk) for
`socius loadtest` and socius' OpenAI backend, and does no other work, so a measurement against
it is a measurement of the client. Each answer is one valid socius answer, streamed in
`--chunks` pieces.

With `--api-key KEY` it answers HTTP 401 to any `/v1` request without `Authorization: Bearer
KEY`, as vLLM's `--api-key` does. For tests of the tool's accounting it can also misbehave on
purpose: `--fail-every N` answers
every Nth request with HTTP 500, `--stall-every N` never answers every Nth one (the client
must time out), and `--hang-up N` closes the connection, without a byte of answer, on the first
N requests that come on a connection it has answered before (as a server whose keep-alive timer
fired as the request came; the client should send it again). `GET /counts` tells what it
received: requests, failed, stalled and hung up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

MODEL = "instant"
ANSWER = '{"action":"cooperate","say":"","reading":{}}'
PROMPT_TOKENS = 100


def _chunk(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def sse_body(chunks: int, cached: int = 0) -> bytes:
    """The whole streamed answer: a role chunk, `chunks` content pieces, usage, [DONE]."""
    base = {"id": "chatcmpl-instant", "object": "chat.completion.chunk", "model": MODEL}
    size = -(-len(ANSWER) // max(chunks, 1))
    pieces = [ANSWER[i : i + size] for i in range(0, len(ANSWER), size)]
    out = [_chunk({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})]
    out += [_chunk({**base, "choices": [{"index": 0, "delta": {"content": p}}]}) for p in pieces]
    usage = {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": len(pieces),
        "total_tokens": PROMPT_TOKENS + len(pieces),
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    out.append(_chunk({**base, "choices": [], "usage": usage}))
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def _response(status: str, ctype: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {len(body)}\r\n"
        f"connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


class InstantServer(asyncio.Protocol):
    """One connection. Counts are shared by every connection of a server (`counts`)."""

    def __init__(
        self,
        counts: dict[str, int],
        chunks: int,
        fail_every: int,
        stall_every: int,
        api_key: str = "",
        hang_up: int = 0,
    ):
        self.counts = counts
        self.hang_up = hang_up
        self.served = 0  # requests that came on this connection before
        self.bearer = f"bearer {api_key}" if api_key else ""
        self.unauthorized = _response(
            "401 Unauthorized", "application/json", b'{"error":"Unauthorized"}'
        )
        self.buf = b""
        self.transport: Any = None
        self.stream = _response("200 OK", "text/event-stream", sse_body(chunks))
        self.models = _response(
            "200 OK",
            "application/json",
            json.dumps({"object": "list", "data": [{"id": MODEL, "max_model_len": 4096}]}).encode(),
        )
        self.failure = _response(
            "500 Internal Server Error",
            "application/json",
            b'{"error":{"message":"failed on purpose"}}',
        )
        self.fail_every = fail_every
        self.stall_every = stall_every

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            length = 0
            authorization = ""
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                if name.strip().lower() == "authorization":
                    authorization = value.strip()
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length :]
            self._answer(head.split(" ", 2), authorization)
            self.served += 1
            if self.transport.is_closing():
                return

    def _answer(self, request_line: list[str], authorization: str) -> None:
        method, path = request_line[0], request_line[1] if len(request_line) > 1 else ""
        if self.bearer and path.startswith("/v1") and authorization.lower() != self.bearer.lower():
            self.counts["unauthorized"] += 1
            self.transport.write(self.unauthorized)
            return
        if method == "GET" and path.startswith("/v1/models"):
            self.transport.write(self.models)
            return
        if method == "GET" and path.startswith("/counts"):
            body = json.dumps(self.counts).encode()
            self.transport.write(_response("200 OK", "application/json", body))
            return
        if method != "POST" or not path.startswith("/v1/chat/completions"):
            self.transport.write(_response("404 Not Found", "text/plain", b"not found"))
            return
        if self.served and self.counts["hung_up"] < self.hang_up:
            self.counts["hung_up"] += 1
            self.transport.close()  # a kept-alive connection closed as the request came
            return
        n = self.counts["requests"] = self.counts["requests"] + 1
        if self.stall_every and n % self.stall_every == 0:
            self.counts["stalled"] += 1
            return  # never answered: the client's time-out must catch it
        if self.fail_every and n % self.fail_every == 0:
            self.counts["failed"] += 1
            self.transport.write(self.failure)
            return
        self.transport.write(self.stream)


async def serve(
    port: int,
    host: str = "127.0.0.1",
    chunks: int = 4,
    fail_every: int = 0,
    stall_every: int = 0,
    api_key: str = "",
    hang_up: int = 0,
) -> tuple[asyncio.Server, dict[str, int]]:
    counts = {"requests": 0, "failed": 0, "stalled": 0, "unauthorized": 0, "hung_up": 0}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: InstantServer(counts, chunks, fail_every, stall_every, api_key, hang_up),
        host,
        port,
        backlog=1024,
    )
    return server, counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m inference.loadtest.instant",
        description="A minimal OpenAI-compatible server that answers every chat request at once.",
    )
    p.add_argument("--port", type=int, default=8900)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--chunks", type=int, default=4, help="content pieces per answer (default 4)")
    p.add_argument("--fail-every", type=int, default=0, help="answer every Nth with HTTP 500")
    p.add_argument("--stall-every", type=int, default=0, help="never answer every Nth request")
    p.add_argument("--api-key", default="", help="answer HTTP 401 to /v1 without this key")
    p.add_argument(
        "--hang-up",
        type=int,
        default=0,
        help="close the connection, unanswered, on the first N requests that reuse one",
    )
    args = p.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def run() -> None:
        server, _ = await serve(
            args.port,
            args.host,
            args.chunks,
            args.fail_every,
            args.stall_every,
            args.api_key,
            args.hang_up,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"instant OpenAI-compatible server on http://{args.host}:{args.port}", flush=True)
        await stop.wait()
        server.close()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
