"""Tick statistics: small integer counts each shard returns, summed into the run's figures.

Everything is an integer (fractions are kept as fixed-point sums) so that the figures of a tick
are the same however the characters are split into shards.

The layers above the world add counts and duration histograms of their own under their own
names (the language model's requests, tokens and latencies: inference/figures.py); they travel,
merge and checkpoint with the rest, and the world never reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from world.arrays import tally
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
    # players (people or outside programs playing characters over gRPC: socius serve)
    "player_decisions",  # decisions put to a player
    "player_answers",  # of those, answered by the player in time, and applied
    "player_defaults",  # of those, decided by the character's own mind (no answer in time)
)

#: Upper bounds (seconds) of every duration histogram's buckets (a shard's step, and what the
#: layers above time); the last bucket is +Inf.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: The figures about players, last in a row of figures (after any the layers above add).
PLAYER_FIGURES = ("player_decisions", "player_answers", "player_defaults")


class Tally:
    """How many times each integer occurs (a tick's wealth): the distinct values ascending and
    their counts, two arrays, so that merging, sending and checkpointing it, and its Gini, are
    a few numpy passes, not a Python loop over its values (thousands of them, once wealth has
    spread: a millisecond each, every tick)."""

    __slots__ = ("counts", "values")

    def __init__(self, values: Any = (), counts: Any = ()) -> None:
        self.values = np.asarray(values, np.int64)
        self.counts = np.asarray(counts, np.int64)

    @classmethod
    def of(cls, samples: np.ndarray) -> Tally:
        """The tally of `samples`."""
        values, counts = tally(np.asarray(samples, np.int64))
        return cls(values, counts)

    def merge(self, other: Tally) -> None:
        """Add `other`'s counts to these (new arrays: these may be read-only views)."""
        if not len(other.values):
            return
        if not len(self.values):
            self.values, self.counts = other.values.copy(), other.counts.copy()
            return
        values = np.concatenate([self.values, other.values])
        counts = np.concatenate([self.counts, other.counts])
        order = np.argsort(values, kind="stable")
        values, counts = values[order], counts[order]
        starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
        self.values, self.counts = values[starts], np.add.reduceat(counts, starts)

    def as_dict(self) -> dict[int, int]:
        return dict(zip(self.values.tolist(), self.counts.tolist(), strict=True))


class TickStats:
    """Counts for one tick (of one shard, or summed over shards)."""

    def __init__(self) -> None:
        #: counts by name: the world's (COUNTS), and any a layer above adds
        self.c: Counter[str] = Counter(dict.fromkeys(COUNTS, 0))
        self.kinds = np.zeros(max(Kind) + 1, np.int64)
        self.produced = np.zeros(N_GOODS, np.int64)
        self.consumed = np.zeros(N_GOODS, np.int64)
        self.wealth = Tally()
        #: duration histograms by name, over DURATION_BUCKETS (their sums are in `c` as
        #: NAME_us): the world keeps "shard_step"
        self.durations: dict[str, np.ndarray] = {}
        # by the actor's role: cooperative and defecting acts; trust (fixed-point sum, count)
        self.by_role = np.zeros((4, N_ROLES), np.int64)
        # a classic game's own counts, by name (world/classic/results.py reads them)
        self.results: Counter[str] = Counter()

    def observe(self, name: str, seconds: float) -> None:
        """One duration (wall clock: a figure, never part of the state) into the histogram
        `name` and the sum `c[name + "_us"]`, in microseconds."""
        hist = self.durations.get(name)
        if hist is None:
            hist = self.durations[name] = np.zeros(len(DURATION_BUCKETS) + 1, np.int64)
        hist[np.searchsorted(DURATION_BUCKETS, seconds)] += 1
        self.c[f"{name}_us"] += round(seconds * 1e6)

    def observe_step(self, seconds: float) -> None:
        """One shard's step time."""
        self.observe("shard_step", seconds)

    def histogram(self, name: str) -> np.ndarray:
        """The duration histogram `name` (all zero if nothing was observed)."""
        hist = self.durations.get(name)
        return hist if hist is not None else np.zeros(len(DURATION_BUCKETS) + 1, np.int64)

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

    def merge(self, other: TickStats, wealth: bool = True) -> None:
        """Add `other`'s counts to these. `wealth=False` leaves the wealth distribution out: a
        run's totals keep none (a distribution is a tick's; summed over ticks it means nothing,
        and merging it cost a Python loop over its values every tick)."""
        self.c.update(other.c)
        self.kinds += other.kinds
        self.produced += other.produced
        self.consumed += other.consumed
        if wealth:
            self.wealth.merge(other.wealth)
        for name, hist in other.durations.items():
            self.durations[name] = self.histogram(name) + hist
        self.by_role += other.by_role
        self.results.update(other.results)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (as Ray sends it between processes) as its plain dict: it arrives with
        arrays of its own to add into, not read-only views of the message."""
        return (TickStats.from_dict, (self.to_dict(),))

    @classmethod
    def summed(cls, parts: list[TickStats]) -> TickStats:
        """The shards' statistics of a tick, summed into the first's (each shard's are its
        own, made for the tick, so no copy is made to merge into)."""
        total = parts[0] if parts else cls()
        for part in parts[1:]:
            total.merge(part)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "c": dict(self.c),
            "kinds": self.kinds.tolist(),
            "produced": self.produced.tolist(),
            "consumed": self.consumed.tolist(),
            "wealth": {
                "values": self.wealth.values.tolist(),
                "counts": self.wealth.counts.tolist(),
            },
            "durations": {k: v.tolist() for k, v in sorted(self.durations.items())},
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
        w = d["wealth"]
        if isinstance(w, dict):
            s.wealth = Tally(w["values"], w["counts"])
        else:  # checkpoints written before: [value, count] pairs, ascending
            s.wealth = Tally([v for v, _ in w], [n for _, n in w])
        durations = dict(d.get("durations", {}))
        # checkpoints written before durations had names: three fixed histograms
        for old, name in (("latency", "llm_latency"), ("ttft", "llm_ttft"), ("step", "shard_step")):
            if old in d and any(d[old]):
                durations[name] = d[old]
        s.durations = {k: np.array(v, np.int64) for k, v in durations.items()}
        if "by_role" in d:
            s.by_role = np.array(d["by_role"], np.int64)
        s.results = Counter({str(k): int(v) for k, v in d.get("results", {}).items()})
        return s

    # --- figures -------------------------------------------------------------------------

    def figures(self) -> dict[str, float | int]:
        """The world's per-tick figures (metrics.csv's, with those a layer above adds before
        the players' figures: inference/figures.py)."""
        c = self.c
        acts = c["cooperative"] + c["defecting"]
        return {
            "characters": c["characters"],
            "envelopes": c["envelopes"],
            "cooperation_rate": ratio(c["cooperative"], acts),
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
            "mean_trust": ratio(c["trust_sum"], c["trust_n"] * SCALE),
            "reputation_accuracy": ratio(c["reputation_right"], c["reputation_judged"]),
            "emotion_inference_accuracy": ratio(c["reading_sum"], c["reading_n"] * SCALE),
            "wealth_gini": round(gini(self.wealth), 6),
            "in_need": c["in_need"],
            "hungry": c["hungry"],
            "sick": c["sick"],
            "player_decisions": c["player_decisions"],
            "player_answers": c["player_answers"],
            "player_defaults": c["player_defaults"],
        }


#: A row of figures from a tick's statistics (TickStats.figures, or more).
Figures = Callable[[TickStats], dict[str, float | int]]


def ratio(a: int, b: int) -> float:
    """a / b, rounded for the record (0 when there is no b)."""
    return round(a / b, 6) if b else 0.0


def gini(dist: Tally) -> float:
    """Gini coefficient of a distribution (exact: integer sums, one division)."""
    keep = dist.counts > 0
    v, n = dist.values[keep], dist.counts[keep]
    total_n = int(n.sum())
    if total_n == 0:
        return 0.0
    vn = v * n
    total = int(vn.sum())
    if total <= 0:
        return 0.0
    # the sum over pairs |xi - xj| from the sorted distribution: each value's count times its
    # distance from every value below it. Its terms are bounded by 2 max|v| N^2, so where that
    # fits in 63 bits numpy's int64 sums are exact; otherwise Python's integers are used.
    if int(np.abs(v).max()) * total_n * total_n < 1 << 62:
        below_n = np.cumsum(n) - n
        below_sum = np.cumsum(vn) - vn
        acc = int((n * (v * below_n - below_sum)).sum())
    else:
        acc, below, below_sum_ = 0, 0, 0
        for value, count in zip(v.tolist(), n.tolist(), strict=True):
            acc += count * (value * below - below_sum_)
            below += count
            below_sum_ += value * count
    return (2 * acc) / (2 * total_n * total)


def fixed(x: np.ndarray) -> int:
    """Sum of fractions as a fixed-point integer, the same in any grouping."""
    return int(np.rint(np.asarray(x, np.float64) * SCALE).astype(np.int64).sum())
