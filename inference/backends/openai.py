"""OpenAI-compatible endpoints (vLLM servers, Ray Serve LLM, anything speaking the API).

Requests go over one pooled HTTP client (aiohttp: about ten times the requests per second of
httpx on one core, see bench/loadtest_ceiling.py), streamed, and timed as vLLM's serving
benchmark times them: time to first token at the first chunk that carries a choice, the gap
before every later one, and the end at the last chunk. A character's requests go to the same
endpoint (`affinity`), so its prompt prefix stays in that server's cache; an endpoint that
cannot be reached, or answers HTTP 429 (too many requests) or 5xx (it failed), is rested for a
while (429's `Retry-After`, up to a minute, else `REST`) and the request goes to the next one;
a request every endpoint failed is the gateway's to resend, after its back-off. A pooled
connection the server closed just as it was reused (the request could not be written, or the
server hung up before any byte of an answer) is no answer from the server: the request goes again
on another connection, at once (`_post`). An error event inside a stream is an error, not a short
answer. Structured output uses `response_format` with the answer's JSON schema.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from inference.backends.base import Answer, Backend, BackendUnavailable, Request

#: Seconds an unreachable or failing endpoint is left alone before it is tried again.
REST = 5.0
#: The longest rest a server's Retry-After may ask for.
MAX_REST = 60.0
#: How many times a request goes again when the connection it went on was closed before any
#: byte of an answer (each stale pooled connection fails once and leaves the pool).
RESENDS_ON_CLOSED = 3


class _Rest(Exception):
    """An endpoint answered that it cannot serve now (429, 5xx): rest it `seconds`."""

    def __init__(self, answer: Answer, seconds: float) -> None:
        super().__init__(answer.error)
        self.answer = answer
        self.seconds = seconds


def retry_after(value: str | None) -> float:
    """The rest a 429's Retry-After asks for, in seconds (REST when absent or a date),
    at most MAX_REST."""
    try:
        return min(max(float(value or ""), 0.0), MAX_REST)
    except ValueError:
        return REST


JSON_BODY = {"Content-Type": "application/json"}


def base_url(url: str) -> str:
    """`http://host:port` from any of `host:port`, `http://host:port/`, `.../v1`."""
    u = url.strip().rstrip("/")
    if not u.startswith(("http://", "https://")):
        u = "http://" + u
    return u[: -len("/v1")] if u.endswith("/v1") else u


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(
        self,
        urls: list[str],
        model: str | None = None,
        *,
        connections: int = 128,
        api_keys: tuple[str, ...] = (),
        structured: bool = True,
        flag: str = "--llm-endpoint",
        key_flag: str = "--llm-api-key-env",
        adapters: tuple[str, ...] = (),
    ) -> None:
        """`api_keys`: none, one for every endpoint, or one per endpoint (sent as a bearer
        token, never logged); `flag` and `key_flag`, the command-line flags the endpoints and
        the keys' variables came from, named in messages; `adapters`, the LoRA adapters every
        endpoint must serve."""
        self.flag = flag
        self.key_flag = key_flag
        self.adapters = adapters
        if not urls:
            raise BackendUnavailable(f"no endpoint given: {flag} URL[,URL...]")
        self.urls = [base_url(u) for u in urls]
        if len(api_keys) not in (0, 1, len(self.urls)):
            raise BackendUnavailable(
                f"{key_flag}: {len(api_keys)} keys for {len(self.urls)} endpoints; give one "
                f"variable for all, or one per endpoint"
            )
        keys = api_keys * len(self.urls) if len(api_keys) == 1 else api_keys
        #: each endpoint's headers (its key, if any)
        self.auth = [{"Authorization": f"Bearer {k}"} if k else {} for k in keys] or [
            {} for _ in self.urls
        ]
        self.model = model
        self.connections = connections
        self.structured = structured
        self.down_until = [0.0] * len(self.urls)
        self.max_model_len = 0
        self.client: Any = None
        self._prompt_tokens = 0
        self._cached_tokens = 0
        self._cached_known = 0
        self._prepared: dict[str, bytes] = {}
        #: requests sent again because their connection was closed before any answer
        self.resent_on_closed = 0

    async def start(self) -> None:
        import aiohttp

        self.client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections, enable_cleanup_closed=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5.0),
        )
        problems: list[str] = []
        lengths: list[int] = []
        models: list[str] = []
        for i, url in enumerate(self.urls):
            try:
                async with self.client.get(
                    f"{url}/v1/models",
                    timeout=aiohttp.ClientTimeout(total=10.0),
                    headers=self.auth[i],
                ) as r:
                    if r.status == 401:
                        raise ValueError(self._unauthorized(i))
                    r.raise_for_status()
                    data = (await r.json()).get("data") or []
                if not data:
                    raise ValueError("it serves no model")
                models.append(str(data[0]["id"]))
                missing = sorted(set(self.adapters) - {str(d["id"]) for d in data})
                if missing:
                    await self.client.close()
                    raise BackendUnavailable(
                        f"{url} does not serve the adapter {missing[0]} that characters answer "
                        f"with; start vLLM with --enable-lora --lora-modules "
                        f"{missing[0]}=ADAPTER_DIR (socius' VLLMServer(adapters=...) does)"
                    )
                lengths.extend(int(d["max_model_len"]) for d in data if d.get("max_model_len"))
            except BackendUnavailable:
                raise
            except Exception as err:
                problems.append(f"{url} ({_why(err)})")
                self.down_until[i] = time.monotonic() + REST
        if len(problems) == len(self.urls):
            await self.client.close()
            raise BackendUnavailable(
                "no LLM endpoint answered at /v1/models: "
                + "; ".join(problems)
                + f". Start an OpenAI-compatible server (for example vLLM) there, or give "
                f"another {self.flag}."
            )
        if self.model is None:
            self.model = models[0]
        self.max_model_len = min(lengths) if lengths else 4096

    def context_length(self) -> int:
        return self.max_model_len or 4096

    def _order(self, affinity: int) -> list[int]:
        n = len(self.urls)
        first = affinity % n
        order = [(first + k) % n for k in range(n)]
        now = time.monotonic()
        up = [i for i in order if self.down_until[i] <= now]
        return up or order

    def body(self, request: Request) -> dict[str, Any]:
        """The chat completion request, streamed, with usage and (if on) the answer's schema."""
        body: dict[str, Any] = {
            "model": request.adapter or self.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "seed": request.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.schema, "strict": True},
            }
        return body

    def prepare(self, requests: list[Request]) -> None:
        """Encode requests ahead of sending them (a load test's schedule, before its clock
        starts), so that sending costs no encoding."""
        for r in requests:
            self._prepared[r.key] = json.dumps(self.body(r)).encode()

    async def generate(self, request: Request) -> Answer:
        import aiohttp

        body = self._prepared.pop(request.key, None) or json.dumps(self.body(request)).encode()
        answer = Answer(text=None, error="no endpoint")
        for i in self._order(request.affinity):
            try:
                answer = await self._stream(i, body)
            except (aiohttp.ClientConnectionError, TimeoutError) as err:
                # not reachable, or dropped us mid-answer: rest it, try the next endpoint
                self.down_until[i] = time.monotonic() + REST
                answer = Answer(text=None, error=f"{self.urls[i]}: {_why(err)}")
                continue
            except _Rest as busy:  # too many requests, or it failed: rest it, try the next
                self.down_until[i] = time.monotonic() + busy.seconds
                answer = busy.answer
                continue
            except (aiohttp.ClientError, ValueError) as err:
                return Answer(text=None, error=f"{self.urls[i]}: {_why(err)}")
            if answer.text is not None:
                self.down_until[i] = 0.0
            return answer
        return answer

    def _unauthorized(self, i: int) -> str:
        """What an endpoint's HTTP 401 means, in one line (never the key itself)."""
        given = "refused the API key given" if self.auth[i] else "wants an API key"
        return (
            f"HTTP 401 Unauthorized: the server {given}; put the key in OPENAI_API_KEY, or in "
            f"a variable named by {self.key_flag} NAME"
        )

    async def _post(self, i: int, body: bytes) -> Any:
        """The response to a chat completion sent to endpoint `i` (an `aiohttp.ClientResponse`).

        A keep-alive connection from the pool may have been closed by the server as it was
        reused: its idle timer fired (vLLM's front end closes a connection idle for 5 s; on a
        loaded machine such closes crossed requests sent on connections the client had left idle
        for under 4 s, and none did with the server's timer at 60 s), and the close crossed the
        request. The request was not written, or the server hung up before any byte of an
        answer: it goes again, on another connection, after one turn of the event loop (which
        lets the client see the other closes that arrived meanwhile). aiohttp does this itself
        only for idempotent methods (RFC 9112, 9.3.1.1), which POST is not by name; a chat
        completion changes nothing on the server, so resending it is safe. An endpoint that
        cannot be reached at all (`ClientConnectorError`) is not resent here: it is rested.
        The time a resend takes counts in the answer's latency, as the client waited it."""
        import aiohttp

        url = f"{self.urls[i]}/v1/chat/completions"
        headers = {**JSON_BODY, **self.auth[i]}
        resends = 0
        while True:
            try:
                return await self.client.post(url, data=body, headers=headers)
            except aiohttp.ClientConnectorError:
                raise
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if resends == RESENDS_ON_CLOSED:
                    raise
            resends += 1
            self.resent_on_closed += 1
            await asyncio.sleep(0)

    async def _stream(self, i: int, body: bytes) -> Answer:
        url = self.urls[i]
        started = time.time()
        t0 = last = time.perf_counter()
        ttft = 0.0
        itl: list[float] = []
        text: list[str] = []
        usage: dict[str, Any] = {}
        async with await self._post(i, body) as r:
            if r.status != 200:
                detail = (await r.read()).decode(errors="replace")[:300]
                why = self._unauthorized(i) if r.status == 401 else _message(detail)
                answer = Answer(
                    text=None,
                    error=f"{url} answered HTTP {r.status}: {why}",
                    refused=400 <= r.status < 500 and r.status != 429,
                    latency=time.perf_counter() - t0,
                    started=started,
                )
                if r.status == 429:
                    raise _Rest(answer, retry_after(r.headers.get("Retry-After")))
                if r.status >= 500:
                    raise _Rest(answer, REST)
                return answer
            rest = b""
            done = False
            async for piece in r.content.iter_any():  # as it arrives, as vLLM's bench reads
                now = time.perf_counter()
                *events, rest = (rest + piece).split(b"\n\n")
                for event in events:
                    data = event.strip()
                    if not data.startswith(b"data:"):
                        continue
                    data = data[5:].strip()
                    if data == b"[DONE]":
                        done = True
                        break
                    chunk = json.loads(data)
                    if chunk.get("error") or chunk.get("object") == "error":
                        return Answer(
                            text=None,
                            error=f"{url} failed mid-answer: {_message(data.decode())}",
                            latency=time.perf_counter() - t0,
                            started=started,
                        )
                    choices = chunk.get("choices")
                    if choices:
                        if not ttft:
                            ttft = now - t0
                        else:
                            itl.append(now - last)
                        for choice in choices:
                            content = (choice.get("delta") or {}).get("content")
                            if content:
                                text.append(content)
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    last = now
                if done:
                    break
        prompt = int(usage.get("prompt_tokens") or 0)
        details = usage.get("prompt_tokens_details") or {}
        cached = details.get("cached_tokens")
        self._prompt_tokens += prompt
        if cached is not None:
            self._cached_tokens += int(cached)
            self._cached_known += prompt
        return Answer(
            text="".join(text),
            prompt_tokens=prompt,
            completion_tokens=int(usage.get("completion_tokens") or 0),
            latency=last - t0,
            ttft=ttft,
            cached_tokens=None if cached is None else int(cached),
            itl=itl,
            started=started,
        )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    def stats(self) -> dict[str, float]:
        """Requests resent on a closed connection, and the prefix cache's use where the server
        tells it."""
        out = {"resent_on_closed": float(self.resent_on_closed)}
        if self._cached_known:
            out |= {"prefix_queries": self._cached_known, "prefix_hits": self._cached_tokens}
        return out


def _why(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:200]


def _message(body: str) -> str:
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return body.strip()
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, dict):
            return str(inner.get("message", inner))[:300]
        return str(data.get("message", inner))[:300]
    return body.strip()
