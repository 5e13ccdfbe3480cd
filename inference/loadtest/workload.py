"""The traffic: a live world of N characters (closed loop), or a run's recorded requests set on a
clock (open loop).

Closed loop, every character of the world thinks with the model (`llm` mind) and a share of
their decisions goes to it, drawn per decision from the characters' own streams; a tick waits
for its answers, so what is asked next depends on what was answered. Open loop, the requests of
a recorded run (its `traces/`) are sent as they were asked, at a chosen mean rate: Poisson
arrivals, or the run's own tick bursts (every request of a tick at once, ticks spaced so that
the mean rate is the one asked for).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from inference.answer import answer_schema
from inference.backends.base import Request
from inference.loadtest.pool import Schedule
from inference.traces import FOLDER, read_traces
from world.errors import UserError
from world.record import load_run_scenario
from world.scenario import Scenario, parse_scenario

ARRIVALS = ("poisson", "ticks")


@dataclasses.dataclass(frozen=True)
class Knobs:
    """What a server feels of the world's traffic."""

    share: float = 1.0  # of the llm characters' decisions sent to the model
    max_tokens: int = 96  # an answer's length limit
    memories: int = 3  # episodes recalled into each prompt (prompt length)
    lore: int = 0  # words of lore every prompt shares (a longer shared prefix)
    history: int = 0  # words of history per character (a longer per-character prefix)
    words: int = 120  # characters an utterance may have
    structured: bool = True  # the answer's JSON schema as structured output


def closed_world(
    characters: int, knobs: Knobs, seed: int, timeout: float, base: Scenario | None = None
) -> Scenario:
    """The world of the closed loop: `base` (or a village) with every character an llm mind."""
    data: dict[str, Any] = (
        base.model_dump()
        if base is not None
        else {
            "name": "loadtest",
            "description": "the load test's village: every character thinks with the model",
            "population": {"group_size": 20},
        }
    )
    data["seed"] = seed
    data["shards"] = None
    data["population"] = {**data["population"], "size": characters, "minds": {"llm": 1.0}}
    data["llm"] = {
        **data.get("llm", {}),
        "decisions": "all" if knobs.share >= 1.0 else "fraction",
        "fraction": min(max(knobs.share, 1e-9), 1.0),
        "token_budget": 0,
        "max_tokens": knobs.max_tokens,
        "memories": knobs.memories,
        "lore": knobs.lore,
        "history": knobs.history,
        "words": knobs.words,
        "timeout": timeout,
        "retries": 0,
    }
    return parse_scenario(data, source="loadtest")


def recorded(folder: Path) -> tuple[Scenario, list[dict[str, Any]]]:
    """A run's scenario and its request records, in the order asked (tick by tick)."""
    if not (folder / "scenario.yaml").is_file():
        raise UserError(
            f"--replay {folder}: not a socius run folder (no scenario.yaml); give the folder "
            f"of a run made with an LLM (socius run ... --llm-endpoint ...) or of a closed-loop "
            f"load test"
        )
    if not any((folder / FOLDER).glob("shard-*.jsonl")):
        raise UserError(
            f"--replay {folder}: the run holds no LLM traces ({FOLDER}/ is missing or empty); "
            f"record one with an LLM first"
        )
    scenario = load_run_scenario(folder)
    records = [r for r in read_traces(folder) if r["type"] == "request"]
    records.sort(key=lambda r: r["tick"])  # stable: a shard's records keep their order
    if not records:
        raise UserError(f"--replay {folder}: the traces hold no requests")
    return scenario, records


def schedule(
    scenario: Scenario,
    records: list[dict[str, Any]],
    rate: float,
    arrivals: str,
    seed: int,
    knobs: Knobs | None = None,
) -> Schedule:
    """The recorded requests, each with its offset in seconds from the start, at mean `rate`
    requests per second. `knobs` (max_tokens, words) override the run's own, if given."""
    if arrivals not in ARRIVALS:
        raise UserError(f"--arrivals {arrivals}: allowed: {', '.join(ARRIVALS)}")
    llm = scenario.llm
    max_tokens = knobs.max_tokens if knobs else llm.max_tokens
    words = knobs.words if knobs else llm.words
    if arrivals == "poisson":
        gaps = np.random.default_rng(seed).exponential(1.0 / rate, len(records))
        offsets = np.concatenate([[0.0], np.cumsum(gaps)[:-1]])
    else:
        ticks = np.array([r["tick"] for r in records])
        _, counts = np.unique(ticks, return_counts=True)  # records are in tick order
        starts = np.concatenate([[0.0], np.cumsum(counts)[:-1]]) / rate
        offsets = np.repeat(starts, counts)
    out: Schedule = []
    for offset, r in zip(offsets.tolist(), records, strict=True):
        out.append(
            (
                offset,
                Request(
                    key=r["key"],
                    messages=r["messages"],
                    schema=answer_schema(tuple(r["legal"]), words),
                    max_tokens=max_tokens,
                    seed=int(r["seed"]),
                    temperature=llm.temperature,
                    affinity=int(r["actor"]),
                ),
            )
        )
    return out
