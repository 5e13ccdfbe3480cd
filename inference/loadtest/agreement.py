"""What `socius loadtest` measured, set beside what the server counted for the same requests
(vLLM's own `/metrics`, read before and after a level): the requests, the tokens, the
prefix-cache figures and the mean time to first token and end-to-end latency.

The server's histograms give exact means (sum / count) over the requests it served between the
two reads; when nothing else talks to the server, those are exactly the tool's requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the tool's latency figure and the server's histogram for the same span of a request
LATENCIES = (
    ("ttft_ms", "vllm:time_to_first_token_seconds"),
    ("e2e_ms", "vllm:e2e_request_latency_seconds"),
)


def delta(before: dict[str, float], after: dict[str, float], name: str) -> float:
    """How much the server's counter `name` grew between two reads of its metrics."""
    return after.get(name, 0.0) - before.get(name, 0.0)


@dataclass(frozen=True)
class Latency:
    """One latency as both sides saw it: the tool's mean, the server's mean (ms), and how
    many requests the server's histogram counted."""

    name: str
    ours_ms: float
    server_ms: float
    server_count: float

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.server_ms


def latencies(
    level: dict[str, Any], before: dict[str, float], after: dict[str, float]
) -> list[Latency]:
    """Mean TTFT and E2E of one level of `socius loadtest` and of the server's histograms."""
    found = []
    for ours, theirs in LATENCIES:
        n = delta(before, after, f"{theirs}_count")
        server_ms = delta(before, after, f"{theirs}_sum") / n * 1e3 if n else float("nan")
        found.append(Latency(ours, float(level[ours]["mean"]), server_ms, n))
    return found
