"""Training data from recorded runs: what characters perceived and did, with the truth the world
knows and the consequences that followed, as datasets Hugging Face `datasets` loads.

Kinds (each row has `messages`: chat messages whose last is the assistant's answer to learn):

- `reading`: a character hears from another, who shows a feeling; the prompt is the question
  the world would put to a model mind (inference/questions.py), the answer the speaker's TRUE
  hidden feelings. Any run makes it, heuristic worlds included: the world knows the truth.
- `decisions`: each decision a model made in the run (its traces: a run whose characters
  thought with a model), its prompt and answer, and what came of it: the promise kept or
  broken, the offer accepted, the actor's trust in the other `outcome_ticks` later. `good`
  keeps only decisions whose consequences were good; `pairs` pairs a good and a bad answer to
  the same kind of situation (`prompt`, `chosen`, `rejected`, for preference training).
- `dialogue`: the words two characters exchanged over the run, in chat format (the first to
  speak is the user), with each speaker's hidden feelings and the listener's, message by message.

Splits go by world seed: a seed is in `train` or in `test`, never both. Rows are in a
deterministic order (seed, tick, characters, sequence).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from actors.drive.launch import recorded_minds
from actors.lab.eval.items import LEVELS, Item, observe
from inference.prompt import Cast
from inference.questions import messages
from inference.traces import export
from world.errors import UserError
from world.journal_mode import require_journal
from world.record import atomic_write, load_run_scenario
from world.scenario import Scenario
from world.vocab import EMOTION_NAMES

KINDS = ("reading", "decisions", "dialogue")
SPLITS = ("train", "test")
#: Called with (what is being done, done so far, out of how many).
Report = Callable[[str, int, int], None]


def _quiet(what: str, done: int, total: int) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class Run:
    """A recorded run: its folder, scenario and seed."""

    folder: Path
    scenario: Scenario

    @property
    def seed(self) -> int:
        return self.scenario.seed

    @classmethod
    def of(cls, folder: Path) -> Run:
        if not (folder / "scenario.yaml").is_file():
            raise UserError(
                f"{str(folder)!r} is not a run folder (no scenario.yaml); give folders written "
                f"by socius run or socius serve"
            )
        return cls(folder, load_run_scenario(folder))


def split_of(
    runs: Sequence[Run], train: Sequence[int] | None, test: Sequence[int] | None
) -> dict[str, str]:
    """Each run's split, by its seed: --test-seeds go to test, --train-seeds (default: every
    other seed) to train; a run whose seed is in neither is an error, so is a seed in both."""
    both = sorted(set(train or ()) & set(test or ()))
    if both:
        raise UserError(
            f"--train-seeds and --test-seeds share {', '.join(map(str, both))}: a seed goes to "
            f"one split only"
        )
    out = {}
    for run in runs:
        if test is not None and run.seed in test:
            out[str(run.folder)] = "test"
        elif train is None or run.seed in train:
            out[str(run.folder)] = "train"
        else:
            raise UserError(
                f"{run.folder} is a world of seed {run.seed}, in neither --train-seeds nor "
                f"--test-seeds; add it to one, or leave the run out"
            )
    return out


def _answer(levels: Sequence[int]) -> str:
    reading = {name: LEVELS[v] for name, v in zip(EMOTION_NAMES, levels, strict=True)}
    return json.dumps({"reading": reading}, separators=(",", ":"))


def reading_rows(run: Run, items: Iterable[Item]) -> list[dict[str, Any]]:
    cast = Cast(run.scenario)
    rows = []
    for item in items:
        levels = [int(x) for x in item.true_levels]
        chat = messages(cast, item.to_json())
        rows.append(
            {
                "id": item.id,
                "run": run.folder.name,
                "seed": item.seed,
                "tick": item.tick,
                "reader": item.reader,
                "speaker": item.other,
                "act": item.act,
                "messages": [*chat, {"role": "assistant", "content": _answer(levels)}],
                "truth": list(item.truth["feelings"]),
                "levels": [LEVELS[v] for v in levels],
                "shown": list(item.shown),
            }
        )
    return rows


def dialogue_rows(run: Run, items: Iterable[Item]) -> list[dict[str, Any]]:
    """One conversation per pair of characters: every envelope with words between them."""
    cast = Cast(run.scenario)
    talks: dict[tuple[int, int], list[Item]] = defaultdict(list)
    for item in items:
        if item.said:
            talks[(min(item.reader, item.other), max(item.reader, item.other))].append(item)
    rows = []
    for (a, b), said in sorted(talks.items()):
        said.sort(key=lambda it: (it.tick, it.other, it.seq))
        first = said[0].other
        rows.append(
            {
                "id": f"dialogue-s{run.seed}-{a}-{b}",
                "run": run.folder.name,
                "seed": run.seed,
                "characters": [cast.name(first), cast.name(b if first == a else a)],
                "messages": [
                    {
                        "role": "user" if it.other == first else "assistant",
                        "content": it.said,
                    }
                    for it in said
                ],
                "ticks": [it.tick for it in said],
                "acts": [it.act for it in said],
                "speaker_feelings": [list(it.truth["feelings"]) for it in said],
                "shown": [list(it.shown) for it in said],
                "listener_feelings": [list(it.feels) for it in said],
            }
        )
    return rows


def check_decisions(run: Run) -> None:
    """A run decisions can be made from: its model's traces, and its whole journal (what
    became of promises and offers)."""
    if not (run.folder / "traces").is_dir():
        raise UserError(
            f"{run.folder}: decisions come from a run whose characters thought with a model "
            f"(its traces/); this run has none. Make reading or dialogue data from it, or give "
            f"a run of an llm scenario"
        )
    require_journal(run.folder, "socius dataset --kind decisions (what became of promises)")


def decision_rows(run: Run) -> list[dict[str, Any]]:
    """The run's model decisions with their outcomes (`socius traces export`)."""
    check_decisions(run)
    text = io.StringIO()
    export(run.folder, text)
    rows = []
    for line in text.getvalue().splitlines():
        d = json.loads(line)
        meta, outcome = d["metadata"], d["outcome"]
        rows.append(
            {
                "id": f"decision-s{run.seed}-t{meta['tick']}-a{meta['actor']}-c"
                f"{meta['counterpart']}-{meta['situation']}",
                "run": run.folder.name,
                "seed": run.seed,
                "tick": meta["tick"],
                "actor": meta["actor"],
                "counterpart": meta["counterpart"],
                "situation": meta["situation"],
                "action": meta["action"],
                "valid": meta["valid"],
                "messages": d["messages"],
                "outcome": json.dumps(outcome, sort_keys=True),
                "good": good(outcome),
            }
        )
    return rows


def good(outcome: dict[str, Any]) -> bool:
    """Consequences that were good for the actor's standing with the other: no promise of
    theirs broken, no offer of theirs turned down, trust not lost."""
    if outcome.get("promise") == "broken" or outcome.get("offer") in ("rejected",):
        return False
    return float(outcome.get("trust_change", 0.0)) >= 0.0


def pairs(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A good and a bad answer to the same kind of situation, paired in order: the prompt of
    the good one, its answer as `chosen` and the bad one's answer as `rejected`."""
    by_kind: dict[tuple[Any, ...], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = defaultdict(
        lambda: ([], [])
    )
    for row in rows:
        if row["valid"]:
            by_kind[(row["seed"], row["situation"])][0 if row["good"] else 1].append(row)
    out = []
    for (seed, situation), (yes, no) in sorted(by_kind.items()):
        for g, b in zip(yes, no, strict=False):
            out.append(
                {
                    "id": f"pair-{g['id']}-{b['id']}",
                    "run": g["run"],
                    "seed": seed,
                    "situation": situation,
                    "prompt": g["messages"][:-1],
                    "chosen": [g["messages"][-1]],
                    "rejected": [b["messages"][-1]],
                }
            )
    return out


def rows_of(run: Run, kind: str, report: Report = _quiet) -> list[dict[str, Any]]:
    if kind == "decisions":
        return decision_rows(run)
    n = run.scenario.shards or 1
    found = observe(run.scenario, n, recorded_minds(run.folder, run.scenario, n))
    if kind == "reading":
        return reading_rows(run, found.readings)
    return dialogue_rows(run, found.readings)


def sample(rows: Sequence[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` rows drawn by a hash of their ids (the same every time), kept in their order."""
    if len(rows) <= count:
        return list(rows)

    def rank(row: dict[str, Any]) -> bytes:
        return hashlib.blake2b(row["id"].encode(), digest_size=8).digest()

    keep = {id(r) for r in sorted(rows, key=rank)[:count]}
    return [r for r in rows if id(r) in keep]


def balance(kind: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the labels look like: each feeling's levels (reading), good and bad (decisions),
    lengths (dialogue)."""
    if not rows:
        return {}
    if kind == "reading":
        return {
            name: dict(Counter(r["levels"][k] for r in rows).most_common())
            for k, name in enumerate(EMOTION_NAMES)
        }
    if kind == "decisions":
        if "good" not in rows[0]:
            return {"pairs": len(rows)}
        return {
            "good": sum(1 for r in rows if r["good"]),
            "bad": sum(1 for r in rows if not r["good"]),
            "actions": dict(Counter(r["action"] for r in rows).most_common()),
        }
    lengths = [len(r["messages"]) for r in rows]
    return {"conversations": len(rows), "messages": sum(lengths), "longest": max(lengths)}


def write_dataset(
    out: Path,
    kind: str,
    splits: dict[str, list[dict[str, Any]]],
    spec: dict[str, Any],
) -> dict[str, Any]:
    """DIR/SPLIT.parquet, dataset.json and the dataset card (README.md); returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, rows in splits.items():
        if rows:
            pq.write_table(pa.Table.from_pylist(rows), out / f"{split}.parquet")
        counts[split] = len(rows)
    summary = {
        "kind": kind,
        **spec,
        "counts": counts,
        "balance": {split: balance(kind, rows) for split, rows in splits.items()},
    }
    atomic_write(out / "dataset.json", (json.dumps(summary, indent=1) + "\n").encode())
    atomic_write(out / "README.md", card(summary).encode())
    return summary


FIELDS = {
    "reading": {
        "messages": "system (the question's rules and the reader's self-model), user (what the "
        "reader saw and knows), assistant (the speaker's true feelings, as the answer)",
        "truth": "the speaker's hidden feelings, 0..1: joy, gratitude, anger, sadness, fear",
        "levels": "the same as levels none/low/some/high",
        "shown": "the feelings the speaker showed",
        "seed, tick, reader, speaker, act": "where and what",
    },
    "decisions": {
        "messages": "the world's prompt to the model and the model's answer",
        "action": "what the world applied",
        "outcome": "JSON: promise kept/broken, offer accepted/rejected, trust before and after",
        "good": "the consequences were good (nothing broken or turned down, trust not lost)",
        "prompt, chosen, rejected": "(pairs) a prompt with a good and a bad answer",
    },
    "dialogue": {
        "messages": "what was said, in order (the first speaker is the user)",
        "speaker_feelings": "each message's speaker's hidden feelings then",
        "listener_feelings": "the listener's hidden feelings as it heard it",
        "shown": "the feelings each message showed",
        "ticks, acts": "when, and with which act, each message was said",
    },
}


def card(summary: dict[str, Any]) -> str:
    """The dataset card: how to load it, what each field means, where it came from."""
    kind = summary["kind"]
    files = "\n".join(
        f"    - split: {s}\n      path: {s}.parquet" for s in SPLITS if summary["counts"].get(s)
    )
    fields = "\n".join(f"| `{k}` | {v} |" for k, v in FIELDS[kind].items())
    present = ", ".join(f'"{s}": "{s}.parquet"' for s in SPLITS if summary["counts"].get(s))
    runs = "\n".join(f"- `{r}` (seed {s})" for r, s in summary["runs"])
    return f"""---
configs:
  - config_name: default
    data_files:
{files}
---
# socius {kind} data

Made by `socius dataset --kind {kind}` from worlds of socius, a simulated living world whose
characters have hidden feelings and keep or break their promises. Every label is the world's
own truth, never a guess.

```python
from datasets import load_dataset
data = load_dataset("parquet", data_files={{{present}}})
```

| field | what |
|---|---|
{fields}

Splits by world seed (a seed is in one split only): {json.dumps(summary["counts"])}.
Train seeds {summary["seeds"]["train"]}, test seeds {summary["seeds"]["test"]}.

Runs:
{runs}

Label balance: `{json.dumps(summary["balance"])}`
"""
