"""What a load test measures, defined as vLLM's serving benchmark (`vllm bench serve`) defines it,
so that figures from the two can be compared:

- request throughput: completed requests / duration; input and output tokens per second alike
  (tokens as the server's `usage` counts them);
- TTFT: from sending a request to its first streamed chunk that carries a choice;
- TPOT, per request with more than one output token: (E2E - TTFT) / (output tokens - 1);
- ITL: every gap between consecutive chunks after the first (pooled over all requests);
- E2E: from sending to the last chunk;
- each as mean, median, p90 and p99 (numpy's linear percentiles), in milliseconds;
- goodput: completed requests that meet every SLO given (TTFT, TPOT, E2E; a request with one
  output token has no TPOT and meets that SLO), per second of the duration.

Every request sent ends as exactly one of ok, error or timeout; the duration runs from the first
send to the last answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from inference.backends.base import Answer
from world.errors import UserError

OUTCOMES = ("ok", "error", "timeout")
SLO_NAMES = ("ttft", "tpot", "e2e")
STATS = ("mean", "median", "p90", "p99")


@dataclasses.dataclass(kw_only=True)
class Sample:
    """One request sent: when, how it ended, and its timings in seconds."""

    outcome: str  # ok | error | timeout
    started: float  # wall-clock seconds at sending
    ttft: float = 0.0
    e2e: float = 0.0
    itl: list[float] = dataclasses.field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int | None = None
    error: str | None = None

    @property
    def tpot(self) -> float | None:
        if self.outcome != "ok" or self.output_tokens < 2:
            return None
        return (self.e2e - self.ttft) / (self.output_tokens - 1)

    @property
    def ended(self) -> float:
        return self.started + self.e2e

    @classmethod
    def of(cls, answer: Answer, started: float, timed_out: bool = False) -> Sample:
        outcome = "ok" if answer.text is not None else "timeout" if timed_out else "error"
        return cls(
            outcome=outcome,
            started=answer.started or started,
            ttft=answer.ttft,
            e2e=answer.latency,
            itl=list(answer.itl),
            input_tokens=answer.prompt_tokens,
            output_tokens=answer.completion_tokens,
            cached_tokens=answer.cached_tokens,
            error=answer.error,
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "started": round(self.started, 6),
            "ttft_ms": round(self.ttft * 1e3, 3),
            "tpot_ms": None if self.tpot is None else round(self.tpot * 1e3, 3),
            "e2e_ms": round(self.e2e * 1e3, 3),
            "chunks": len(self.itl) + (1 if self.ttft else 0),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "error": self.error,
        }


@dataclasses.dataclass(frozen=True)
class Slo:
    """Service-level objectives, in milliseconds (None: not asked for)."""

    ttft: float | None = None
    tpot: float | None = None
    e2e: float | None = None

    @classmethod
    def parse(cls, text: str | None) -> Slo:
        """`ttft=MS,tpot=MS,e2e=MS`, any subset."""
        if not text:
            return cls()
        values: dict[str, float] = {}
        for part in text.split(","):
            name, eq, value = part.strip().partition("=")
            if not eq or name not in SLO_NAMES:
                raise UserError(
                    f"--slo {text}: {part.strip()!r} is not NAME=MS with NAME one of "
                    f"{', '.join(SLO_NAMES)} (for example --slo ttft=500,tpot=50,e2e=2000)"
                )
            try:
                ms = float(value)
            except ValueError:
                ms = -1.0
            if not ms > 0:
                raise UserError(f"--slo {text}: {name} must be a positive number of ms")
            values[name] = ms
        return cls(**values)

    def met(self, s: Sample) -> bool:
        if s.outcome != "ok":
            return False
        if self.ttft is not None and s.ttft * 1e3 > self.ttft:
            return False
        tpot = s.tpot
        if self.tpot is not None and tpot is not None and tpot * 1e3 > self.tpot:
            return False
        return not (self.e2e is not None and s.e2e * 1e3 > self.e2e)

    def asked(self) -> dict[str, float]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def _stats_ms(values: Sequence[float]) -> dict[str, float | None]:
    if not len(values):
        return dict.fromkeys(STATS)
    a = np.asarray(values, dtype=np.float64) * 1e3
    return {
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
    }


def measure(samples: Iterable[Sample], slo: Slo = Slo()) -> dict[str, Any]:
    """The figures of one measurement."""
    all_ = list(samples)
    counts = {o: sum(1 for s in all_ if s.outcome == o) for o in OUTCOMES}
    ok = [s for s in all_ if s.outcome == "ok"]
    duration = max(s.ended for s in all_) - min(s.started for s in all_) if all_ else 0.0
    per = 1.0 / duration if duration > 0 else 0.0
    tokens_in = sum(s.input_tokens for s in ok)
    tokens_out = sum(s.output_tokens for s in ok)
    queried = sum(s.input_tokens for s in ok if s.cached_tokens is not None)
    cached = sum(s.cached_tokens or 0 for s in ok)
    good = sum(1 for s in ok if slo.met(s))
    tpots = [t for t in (s.tpot for s in ok) if t is not None]
    return {
        "requests": len(all_),
        **counts,
        "duration_s": duration,
        "request_throughput": len(ok) * per,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "input_throughput": tokens_in * per,
        "output_throughput": tokens_out * per,
        "total_token_throughput": (tokens_in + tokens_out) * per,
        "ttft_ms": _stats_ms([s.ttft for s in ok]),
        "tpot_ms": _stats_ms(tpots),
        "itl_ms": _stats_ms([g for s in ok for g in s.itl]),
        "e2e_ms": _stats_ms([s.e2e for s in ok]),
        "slo_ms": slo.asked(),
        "good": good,
        "goodput": good * per,
        "prefix_cache_queries": queried,
        "prefix_cache_hits": cached,
        "prefix_cache_hit_ratio": cached / queried if queried else None,
    }
