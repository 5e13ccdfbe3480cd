"""What the language model adds to a tick's statistics: counts, latencies and the figures made
of them (metrics.csv's llm_ columns, summary.json's `llm` section, the exporter's socius_llm_).

They travel in `world.stats.TickStats` under their own names (the world carries them and never
reads them): counts in `c`, the request latency and time to first token as duration histograms.
"""

from __future__ import annotations

from typing import Any

from world.stats import DURATION_BUCKETS, PLAYER_FIGURES, TickStats, ratio

#: The counts a language-model mind adds, by name, with what each counts.
COUNTS = {
    "llm_decisions": "decisions given to the model",
    "llm_requests": "requests sent (first answers and retries)",
    "llm_answers": "answers that passed validation and were used",
    "llm_invalid": "answers that failed validation",
    "llm_retries": "second requests, after an invalid answer",
    "llm_fallbacks": "decisions given to the model that the heuristic mind made in the end",
    "llm_errors": "requests with no answer (backend down, time-out, refused)",
    "llm_skipped": "decisions kept from the model by the token budget or the context",
    "llm_tokens_in": "prompt tokens",
    "llm_tokens_out": "answer tokens",
    "llm_prefix_queries": "prompt tokens of answers whose prefix-cache use is known",
    "llm_prefix_hits": "of those, tokens served from the prefix cache",
}
LATENCY = "llm_latency"  # a request's end-to-end latency, a duration histogram
TTFT = "llm_ttft"  # its time to first token


def observe_answer(stats: TickStats, latency: float, ttft: float) -> None:
    """One answered request's timings (a time to first token of 0: not known)."""
    stats.observe(LATENCY, latency)
    if ttft > 0:
        stats.observe(TTFT, ttft)


def llm_figures(stats: TickStats) -> dict[str, float | int]:
    """The language model's share of the tick (all zero in a world without one)."""
    c = stats.c
    answered = int(stats.histogram(LATENCY).sum())
    timed = int(stats.histogram(TTFT).sum())
    return {
        **{name: c[name] for name in COUNTS if not name.startswith("llm_prefix")},
        "llm_latency_mean": ratio(c[f"{LATENCY}_us"], answered * 1_000_000),
        "llm_ttft_mean": ratio(c[f"{TTFT}_us"], timed * 1_000_000),
        "llm_prefix_hit_ratio": ratio(c["llm_prefix_hits"], c["llm_prefix_queries"]),
    }


def run_figures(stats: TickStats) -> dict[str, float | int]:
    """A row of metrics.csv: the world's figures, the model's, then the players' (the order
    the columns have always had)."""
    world = stats.figures()
    head = {k: v for k, v in world.items() if k not in PLAYER_FIGURES}
    return {**head, **llm_figures(stats), **{k: world[k] for k in PLAYER_FIGURES}}


def llm_section(totals: TickStats, target: str, gateway: dict[str, float]) -> dict[str, Any]:
    """summary.json's `llm` section: where the model was, its figures over the run, the latency
    histograms and the gateway's own figures (batches, queue peak, prefix cache)."""
    return {
        "target": target,
        **llm_figures(totals),
        "latency_buckets": list(DURATION_BUCKETS),
        "latency_histogram": totals.histogram(LATENCY).tolist(),
        "ttft_histogram": totals.histogram(TTFT).tolist(),
        "gateway": gateway,
    }
