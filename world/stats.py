"""Tick statistics: small integer counts each shard returns, summed into the run's figures.

Everything is an integer (fractions are kept as fixed-point sums) so that the figures of a tick
are the same however the characters are split into shards.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.vocab import N_GOODS, N_ROLES, Kind

SCALE = 1_000_000  # fixed-point unit of summed fractions

COUNTS = (
    "characters",
    "envelopes",
    "decisions",
    "cooperative",
    "defecting",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "betrayals",
    "apologies",
    "forgiveness",
    "trades",
    "trade_volume",
    "trade_offers",
    "gifts",
    "care_gifts",
    "requests",
    "loans",
    "gossip",
    "chats",
    "contributions",
    "free_rides",
    "observations",
    "invalid_actions",
    "in_need",
    "hungry",
    "sick",
    "trust_sum",
    "trust_n",
    "reputation_right",
    "reputation_judged",
    "reading_sum",
    "reading_n",
    "wealth_total",
    # language-model minds (inference/)
    "llm_decisions",  # decisions given to the model
    "llm_requests",  # requests sent (first answers and retries)
    "llm_answers",  # answers that passed validation and were used
    "llm_invalid",  # answers that failed validation
    "llm_retries",  # second requests, after an invalid answer
    "llm_fallbacks",  # decisions given to the model that the heuristic mind made in the end
    "llm_errors",  # requests with no answer (backend down, time-out, refused)
    "llm_skipped",  # decisions kept from the model by the token budget or the context
    "llm_tokens_in",
    "llm_tokens_out",
    "llm_prefix_queries",  # prompt tokens of answers whose prefix-cache use is known
    "llm_prefix_hits",  # of those, tokens served from the prefix cache
    "llm_latency_us",  # summed request latency, microseconds
    "llm_ttft_us",  # summed time to first token, microseconds
    "shard_step_us",  # summed shard step time, microseconds
    # players (people or outside programs playing characters over gRPC: socius serve)
    "player_decisions",  # decisions put to a player
    "player_answers",  # of those, answered by the player in time, and applied
    "player_defaults",  # of those, decided by the character's own mind (no answer in time)
)

#: Upper bounds (seconds) of the LLM latency histograms' buckets; the last is +Inf.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class TickStats:
    """Counts for one tick (of one shard, or summed over shards)."""

    def __init__(self) -> None:
        self.c: dict[str, int] = dict.fromkeys(COUNTS, 0)
        self.kinds = np.zeros(max(Kind) + 1, np.int64)
        self.produced = np.zeros(N_GOODS, np.int64)
        self.consumed = np.zeros(N_GOODS, np.int64)
        self.wealth: Counter[int] = Counter()
        self.latency = np.zeros(len(LATENCY_BUCKETS) + 1, np.int64)  # LLM request latency
        self.ttft = np.zeros(len(LATENCY_BUCKETS) + 1, np.int64)  # LLM time to first token
        self.step = np.zeros(len(LATENCY_BUCKETS) + 1, np.int64)  # shard step time
        # by the actor's role: cooperative and defecting acts; trust (fixed-point sum, count)
        self.by_role = np.zeros((4, N_ROLES), np.int64)
        # a classic game's own counts, by name (world/classic/results.py reads them)
        self.results: Counter[str] = Counter()

    def observe(self, latency: float, ttft: float) -> None:
        """One LLM request's timings, into the histograms and sums."""
        self.latency[np.searchsorted(LATENCY_BUCKETS, latency)] += 1
        self.c["llm_latency_us"] += round(latency * 1e6)
        if ttft > 0:
            self.ttft[np.searchsorted(LATENCY_BUCKETS, ttft)] += 1
            self.c["llm_ttft_us"] += round(ttft * 1e6)

    def observe_step(self, seconds: float) -> None:
        """One shard's step time (wall clock: a figure, never part of the state)."""
        self.step[np.searchsorted(LATENCY_BUCKETS, seconds)] += 1
        self.c["shard_step_us"] += round(seconds * 1e6)

    def by_role_rows(self) -> dict[str, np.ndarray]:
        """The per-role figures, each an array indexed by Role."""
        coop, defect, trust_sum, trust_n = self.by_role
        return {
            "cooperative": coop,
            "defecting": defect,
            "trust_sum": trust_sum,
            "trust_n": trust_n,
        }

    def add(self, name: str, value: int | np.integer) -> None:
        self.c[name] += int(value)

    def merge(self, other: TickStats) -> None:
        for k, v in other.c.items():
            self.c[k] += v
        self.kinds += other.kinds
        self.produced += other.produced
        self.consumed += other.consumed
        self.wealth.update(other.wealth)
        self.latency += other.latency
        self.ttft += other.ttft
        self.step += other.step
        self.by_role += other.by_role
        self.results.update(other.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "c": dict(self.c),
            "kinds": self.kinds.tolist(),
            "produced": self.produced.tolist(),
            "consumed": self.consumed.tolist(),
            "wealth": [[int(k), int(v)] for k, v in sorted(self.wealth.items())],
            "latency": self.latency.tolist(),
            "ttft": self.ttft.tolist(),
            "step": self.step.tolist(),
            "by_role": self.by_role.tolist(),
            "results": dict(self.results),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TickStats:
        s = cls()
        s.c.update({k: int(v) for k, v in d["c"].items()})
        s.kinds = np.array(d["kinds"], np.int64)
        s.produced = np.array(d["produced"], np.int64)
        s.consumed = np.array(d["consumed"], np.int64)
        s.wealth = Counter({int(k): int(v) for k, v in d["wealth"]})
        if "latency" in d:
            s.latency = np.array(d["latency"], np.int64)
            s.ttft = np.array(d["ttft"], np.int64)
        if "step" in d:
            s.step = np.array(d["step"], np.int64)
            s.by_role = np.array(d["by_role"], np.int64)
        s.results = Counter({str(k): int(v) for k, v in d.get("results", {}).items()})
        return s

    # --- figures -------------------------------------------------------------------------

    def figures(self) -> dict[str, float | int]:
        """The per-tick figures of metrics.csv (and, later, the Prometheus exporter)."""
        c = self.c
        acts = c["cooperative"] + c["defecting"]
        return {
            "characters": c["characters"],
            "envelopes": c["envelopes"],
            "cooperation_rate": _ratio(c["cooperative"], acts),
            "promises_made": c["promises_made"],
            "promises_kept": c["promises_kept"],
            "promises_broken": c["promises_broken"],
            "betrayals": c["betrayals"],
            "apologies": c["apologies"],
            "forgiveness": c["forgiveness"],
            "trades": c["trades"],
            "trade_volume": c["trade_volume"],
            "gifts": c["gifts"],
            "care_gifts": c["care_gifts"],
            "requests": c["requests"],
            "gossip": c["gossip"],
            "contributions": c["contributions"],
            "free_rides": c["free_rides"],
            "mean_trust": _ratio(c["trust_sum"], c["trust_n"] * SCALE),
            "reputation_accuracy": _ratio(c["reputation_right"], c["reputation_judged"]),
            "emotion_inference_accuracy": _ratio(c["reading_sum"], c["reading_n"] * SCALE),
            "wealth_gini": round(gini(self.wealth), 6),
            "in_need": c["in_need"],
            "hungry": c["hungry"],
            "sick": c["sick"],
            **self.llm_figures(),
            "player_decisions": c["player_decisions"],
            "player_answers": c["player_answers"],
            "player_defaults": c["player_defaults"],
        }

    def llm_figures(self) -> dict[str, float | int]:
        """The language model's share of the tick (all zero in a world without one)."""
        c = self.c
        answered = int(self.latency.sum())
        timed = int(self.ttft.sum())
        return {
            "llm_decisions": c["llm_decisions"],
            "llm_requests": c["llm_requests"],
            "llm_answers": c["llm_answers"],
            "llm_invalid": c["llm_invalid"],
            "llm_retries": c["llm_retries"],
            "llm_fallbacks": c["llm_fallbacks"],
            "llm_errors": c["llm_errors"],
            "llm_skipped": c["llm_skipped"],
            "llm_tokens_in": c["llm_tokens_in"],
            "llm_tokens_out": c["llm_tokens_out"],
            "llm_latency_mean": _ratio(c["llm_latency_us"], answered * 1_000_000),
            "llm_ttft_mean": _ratio(c["llm_ttft_us"], timed * 1_000_000),
            "llm_prefix_hit_ratio": _ratio(c["llm_prefix_hits"], c["llm_prefix_queries"]),
        }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 6) if b else 0.0


def gini(hist: Counter[int]) -> float:
    """Gini coefficient of a distribution given as value -> count (exact)."""
    items = sorted((v, n) for v, n in hist.items() if n > 0)
    total_n = sum(n for _, n in items)
    total = sum(v * n for v, n in items)
    if total_n == 0 or total <= 0:
        return 0.0
    # sum over pairs |xi - xj| computed from the sorted distribution
    acc = 0
    below_n = 0
    below_sum = 0
    for v, n in items:
        acc += n * (v * below_n - below_sum)
        below_n += n
        below_sum += v * n
    return (2 * acc) / (2 * total_n * total)


def fixed(x: np.ndarray) -> int:
    """Sum of fractions as a fixed-point integer, the same in any grouping."""
    return int(np.rint(np.asarray(x, np.float64) * SCALE).astype(np.int64).sum())
