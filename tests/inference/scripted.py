"""Backends that answer by script, for testing what the world does with answers (validation,
retries, fallbacks, replay) exactly. The real backends are tested against real vLLM elsewhere."""

from __future__ import annotations

import json
from collections.abc import Callable

from inference.backends.base import Answer, Backend, Request
from world.vocab import EMOTION_NAMES


def legal_of(request: Request) -> list[str]:
    return list(request.schema["properties"]["action"]["enum"])


def good_answer(action: str, say: str = "Well met.") -> str:
    return json.dumps(
        {"action": action, "say": say, "reading": dict.fromkeys(EMOTION_NAMES, "low")}
    )


class Scripted(Backend):
    """Answers each request with `script(request)`; counts what it was asked."""

    name = "scripted"

    def __init__(self, script: Callable[[Request], str | None], context: int = 4096) -> None:
        self.script = script
        self.context = context
        self.requests: list[Request] = []

    async def generate(self, request: Request) -> Answer:
        self.requests.append(request)
        text = self.script(request)
        if text is None:
            return Answer(text=None, error="down")
        return Answer(text=text, prompt_tokens=200, completion_tokens=20, latency=0.01, ttft=0.002)

    def context_length(self) -> int:
        return self.context
