"""An evaluation from start to end: items gathered from worlds, each mind asked, each skill
scored, and the evaluation folder written.

    eval.json    what was evaluated (scenario, seeds, item counts) and, per mind and skill,
                 its figures with 95% intervals: minds.NAME.reading.accuracy, .macro_f1,
                 .within_one; minds.NAME.trust.brier, .log_loss, .reliability;
                 minds.NAME.validity.valid_share; minds.NAME.asking (tokens, latency ...)
    items.jsonl  every item with its truth and every mind's answer

Items come from worlds run here from a scenario and seeds, or from recorded runs (each run
again as it ran: its model's recorded answers, its players). Seeds that train a mind (or fit
the majority baseline) and seeds that test it never overlap.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actors.drive.launch import recorded_minds
from actors.lab.eval.items import Collector, Item, draw, observe, write_items
from actors.lab.eval.minds import Answers, Mind
from actors.lab.eval.score import reading_scores, trust_scores, validity_scores
from world.errors import UserError
from world.record import atomic_write, load_run_scenario
from world.scenario import Scenario

#: Called with (what is being done, done so far, out of how many).
Report = Callable[[str, int, int], None]


def _quiet(what: str, done: int, total: int) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class ItemSet:
    """The items of an evaluation, and where they came from."""

    readings: list[Item]
    trust: list[Item]
    source: dict[str, Any]

    @property
    def seeds(self) -> list[int]:
        return sorted({it.seed for it in (*self.readings, *self.trust)})


def from_worlds(
    scenario: Scenario,
    seeds: Sequence[int],
    count: int,
    shards: int = 1,
    report: Report = _quiet,
) -> ItemSet:
    """`count` items of each kind from the scenario's worlds, one per seed, run here."""
    found: list[Collector] = []
    for i, seed in enumerate(seeds):
        report(f"world seed {seed}", i, len(seeds))
        found.append(observe(scenario.with_overrides(seed=seed), shards))
    report("worlds", len(seeds), len(seeds))
    source = {"scenario": scenario.name, "seeds": list(seeds), "ticks": scenario.ticks}
    return _drawn(found, count, source, scenario.name)


def from_runs(runs: Sequence[Path], count: int, report: Report = _quiet) -> ItemSet:
    """`count` items of each kind from recorded runs, each run again as it ran."""
    found: list[Collector] = []
    names = []
    for i, run in enumerate(runs):
        report(f"run {run}", i, len(runs))
        sc = load_run_scenario(run)
        names.append(sc.name)
        n = sc.shards or 1
        found.append(observe(sc, n, recorded_minds(run, sc, n)))
    report("runs", len(runs), len(runs))
    seeds = sorted({c.seed for c in found})
    if len(seeds) != len(runs):
        raise UserError(
            "--runs: two of the runs have the same seed; an evaluation's worlds are told apart "
            "by their seeds, so give runs of different seeds"
        )
    source = {"runs": [str(r) for r in runs], "seeds": seeds}
    return _drawn(found, count, source, ", ".join(sorted(set(names))))


def _drawn(found: Sequence[Collector], count: int, source: dict[str, Any], name: str) -> ItemSet:
    readings = draw((it for c in found for it in c.readings), count)
    trust = draw((it for c in found for it in c.trust), count)
    if not readings and not trust:
        raise UserError(
            f"{name}: its worlds hold no readable situations (nobody showed a feeling to be "
            f"read, nobody promised anything); give a village scenario, with more ticks or "
            f"characters, not a classic game"
        )
    return ItemSet(readings, trust, source)


def ask(minds: Sequence[Mind], items: ItemSet, report: Report = _quiet) -> dict[str, Answers]:
    """Every mind's answers to every item."""
    out = {}
    for i, mind in enumerate(minds):
        report(f"asking {mind.name}", i, len(minds))
        out[mind.name] = mind.answer(items.readings, items.trust)
    report("minds", len(minds), len(minds))
    return out


def scores(items: ItemSet, answers: dict[str, Answers]) -> dict[str, Any]:
    """Each mind's figures, skill by skill."""
    truth = np.array([it.true_levels for it in items.readings], np.int64).reshape(-1, 5)
    kept = np.array([1.0 if it.truth["kept"] else 0.0 for it in items.trust])
    return {
        name: {
            "reading": reading_scores(truth, a.levels),
            "trust": trust_scores(kept, a.p),
            "validity": validity_scores(a.valid),
            "asking": a.figures,
        }
        for name, a in answers.items()
    }


def write(
    out: Path,
    items: ItemSet,
    answers: dict[str, Answers],
    figures: dict[str, Any],
    spec: dict[str, Any],
) -> None:
    """The evaluation folder: items.jsonl, then eval.json (written last, whole)."""
    out.mkdir(parents=True, exist_ok=True)
    every = [*items.readings, *items.trust]
    rows = [
        {**item.to_json(), "answers": {name: a.said[i] for name, a in answers.items()}}
        for i, item in enumerate(every)
    ]
    write_items(out / "items.jsonl", rows)
    doc = {
        **spec,
        **items.source,
        "items": {"reading": len(items.readings), "trust": len(items.trust)},
        "minds": figures,
    }
    atomic_write(out / "eval.json", (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode())
