"""What every backend answers to: one chat request in, one answer (or none) out.

A backend is asynchronous and may be asked for many answers at once; the gateway bounds how
many it has in flight. A backend never raises for a request that fails: it returns an `Answer`
with `text=None` and `error` saying why, so the world can fall back and count it.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

from world.errors import UserError


@dataclasses.dataclass(frozen=True, kw_only=True)
class Request:
    key: str  # unique within a run: tick, actor, situation, ref and attempt
    messages: list[dict[str, str]]  # chat messages: system (stable) first, user (changing) last
    schema: dict[str, Any]  # the JSON schema the answer must follow
    max_tokens: int
    seed: int
    temperature: float = 0.7
    affinity: int = 0  # the character: its requests go to the same replica and endpoint
    adapter: str | None = None  # the LoRA adapter to answer with (None: the base model)


@dataclasses.dataclass(kw_only=True)
class Answer:
    text: str | None  # None: no answer (backend down, time-out, refused)
    error: str | None = None
    refused: bool = False  # the backend rejected the request itself (too long ...): no resend
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency: float = 0.0  # seconds from sending to the last token
    ttft: float = 0.0  # seconds to the first token (0 when unknown)
    cached_tokens: int | None = None  # prompt tokens served from the prefix cache, if known
    itl: list[float] = dataclasses.field(default_factory=list)  # gaps between later chunks, s
    started: float = 0.0  # wall-clock time the request was sent (0 when unknown)


class Backend(abc.ABC):
    """Where answers come from: a vLLM engine in-process, OpenAI-compatible endpoints, a record."""

    name: str = "backend"

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect or load; raise BackendUnavailable with a clear message on failure."""

    @abc.abstractmethod
    async def generate(self, request: Request) -> Answer: ...

    def prepare(self, requests: list[Request]) -> None:  # noqa: B027 - optional hook
        """Get ready to send these requests soon (encode them ahead of time)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections, engines and child processes."""

    def context_length(self) -> int:
        """The served model's context, in tokens (prompts are shortened to fit)."""
        return 1 << 30

    def stats(self) -> dict[str, float]:
        """Backend-side figures (prefix-cache queries and hits, in tokens), where known."""
        return {}


class BackendUnavailable(UserError):
    """A backend could not be reached or started at all (a user error: say where it is)."""
