"""The `llm` mind of an evaluation: a language model asked each item as its character would be
(inference/questions.py), through the project's gateway and backends (OpenAI-compatible
endpoints, or vLLM's engine in this process).

An answer that fails validation is asked again once, with the reason; if it fails again the
item counts as unanswered (a wrong reading, a probability of 0.5). Each request's seed is drawn
from the item's identity, and the temperature is 0, so the same model answers the same items the
same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from actors.lab.eval.items import LEVELS, Item
from actors.lab.eval.minds import Answers
from inference.backends.base import Answer, Request
from inference.connect import Target, make_backend
from inference.gateway import Gateway, LoopThread
from inference.prompt import Cast
from inference.questions import SCHEMAS, messages, parse
from world.scenario import Scenario

MAX_TOKENS = {"reading": 80, "trust": 16}
TIMEOUT = 600.0  # seconds a request may take (a small model on a busy CPU is slow)


def _seed(item: Item, attempt: int) -> int:
    key = hashlib.blake2b(f"{item.id} {attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(key, "little") & 0x7FFFFFFF


class ModelMind:
    """A language model at `target`, asked about items of `scenario`'s worlds."""

    name = "llm"

    def __init__(self, scenario: Scenario, target: Target) -> None:
        self.cast = Cast(scenario)
        self.adapter = target.adapters[0][0] if target.adapters else None
        self.loop = LoopThread()
        self.gateway = Gateway(
            make_backend(target), concurrency=target.concurrency, timeout=TIMEOUT, retries=1
        )
        try:
            self.loop.run(self.gateway.start())
        except BaseException:
            self.loop.stop()
            raise

    def close(self) -> None:
        try:
            self.loop.run(self.gateway.close())
        finally:
            self.loop.stop()

    def _request(self, item: Item, attempt: int, bad: tuple[str, str] | None) -> Request:
        chat = messages(self.cast, item.to_json())
        if bad is not None:
            text, reason = bad
            chat = [
                *chat,
                {"role": "assistant", "content": text[:2000]},
                {
                    "role": "user",
                    "content": f"That answer is not valid: {reason}. Answer again with one "
                    f"JSON object as described.",
                },
            ]
        return Request(
            key=f"{item.id}-a{attempt}",
            messages=chat,
            schema=SCHEMAS[item.kind],
            max_tokens=MAX_TOKENS[item.kind],
            seed=_seed(item, attempt),
            temperature=0.0,
            affinity=item.reader,
            adapter=self.adapter,
        )

    def answer(self, readings: Sequence[Item], trust: Sequence[Item]) -> Answers:
        items = [*readings, *trust]
        first = self.loop.run(self.gateway.ask([self._request(it, 0, None) for it in items]))
        parsed = [parse(it.kind, a.text) if a.text is not None else (None, a.error)
                  for it, a in zip(items, first, strict=True)]  # fmt: skip
        again = [
            i for i, (value, _) in enumerate(parsed) if value is None and first[i].text is not None
        ]
        second: dict[int, Answer] = {}
        if again:
            bad = {i: (first[i].text or "", parsed[i][1] or "invalid") for i in again}
            asked = [self._request(items[i], 1, bad[i]) for i in again]
            for i, a in zip(again, self.loop.run(self.gateway.ask(asked)), strict=True):
                second[i] = a
                if a.text is not None:
                    parsed[i] = parse(items[i].kind, a.text)
        levels = np.full((len(readings), 5), -1, np.int64)
        p = np.full(len(trust), np.nan)
        said: list[dict[str, Any]] = []
        for i, (value, why) in enumerate(parsed):
            last = second.get(i, first[i])
            record: dict[str, Any] = {"text": last.text, "valid": value is not None}
            if value is None:
                record["why"] = why
            elif i < len(readings):
                assert isinstance(value, list)
                levels[i] = value
                record["levels"] = [LEVELS[v] for v in value]
            else:
                p[i - len(readings)] = float(value)  # type: ignore[arg-type]
                record["p"] = float(value)  # type: ignore[arg-type]
            said.append(record)
        answered = first + list(second.values())
        valid = np.array([value is not None for value, _ in parsed], bool)
        return Answers(levels, p, valid, said, _figures(items, first, second, valid, answered))

    def stats(self) -> dict[str, float]:
        return self.gateway.stats()


def _figures(
    items: Sequence[Item],
    first: Sequence[Answer],
    second: dict[int, Answer],
    valid: np.ndarray,
    answered: Sequence[Answer],
) -> dict[str, Any]:
    """How the asking went: requests, first-try validity, retries, tokens, latency."""
    first_valid = sum(
        1
        for i, (it, a) in enumerate(zip(items, first, strict=True))
        if a.text is not None and i not in second
    )
    latency = [a.latency for a in answered if a.text is not None]
    return {
        "requests": len(answered),
        "valid_first_try": round(first_valid / len(items), 6) if items else None,
        "retried": len(second),
        "unanswered": int((~valid).sum()),
        "errors": sum(1 for a in answered if a.text is None),
        "tokens_in": sum(a.prompt_tokens for a in answered),
        "tokens_out": sum(a.completion_tokens for a in answered),
        "latency_mean_s": round(float(np.mean(latency)), 4) if latency else None,
        "latency_p90_s": round(float(np.percentile(latency, 90)), 4) if latency else None,
    }
