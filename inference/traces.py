"""LLM traces: every request and answer of a run, and the consequences that followed.

Each shard appends JSON lines to `traces/shard-NNNN.jsonl` in the run folder, flushed every
tick. Three record types:

- `request`: one per request sent (attempt 0, and attempt 1 when the first answer failed
  validation): the key, who decided what, the messages, the answer's text or why there was
  none, its validation, tokens and timings;
- `decision`: one per decision given to the model: the action the world received from it (or
  the heuristic's, on a fallback), and the actor's trust in the counterpart at that moment;
- `outcome`: `outcome_ticks` later, the actor's trust in the counterpart then.

A record's key is `tick:actor:situation:counterpart:ref:attempt`. A shard restored to a checkpoint
(resume, recovery) writes a `restore` record; readers drop what came before it from later ticks,
so the traces hold the run that survived, as the journal does. `export` joins all this with the
journal (was a promise kept, was an offer accepted) into chat-format JSONL, the interaction data
a model can be trained on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from world.errors import RunFolderError
from world.journal import read_journal
from world.journal_mode import require_journal
from world.vocab import Kind
from world.wire import from_batch

FOLDER = "traces"


def key_of(tick: int, actor: int, situation: int, counterpart: int, ref: int, attempt: int) -> str:
    return f"{tick}:{actor}:{situation}:{counterpart}:{ref}:{attempt}"


def trace_path(folder: Path, shard: int) -> Path:
    return folder / FOLDER / f"shard-{shard:04d}.jsonl"


class TraceWriter:
    def __init__(self, folder: Path, shard: int) -> None:
        path = trace_path(folder, shard)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - close()

    def write(self, record: dict[str, Any]) -> None:
        self._f.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def read_traces(folder: Path) -> Iterator[dict[str, Any]]:
    """Every record of the run that survived (a line cut short by a killed run is skipped)."""
    for path in sorted((folder / FOLDER).glob("shard-*.jsonl")):
        kept: list[dict[str, Any]] = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                record = json.loads(line)
                if record["type"] == "restore":
                    kept = [r for r in kept if r["tick"] <= record["tick"]]
                else:
                    kept.append(record)
        yield from kept


def latest(folder: Path, kind: str) -> dict[str, dict[str, Any]]:
    """The last record of each key, of one type."""
    return {r["key"]: r for r in read_traces(folder) if r["type"] == kind}


def check_traces(folder: Path) -> None:
    if not (folder / FOLDER).is_dir() or not any((folder / FOLDER).glob("shard-*.jsonl")):
        raise RunFolderError(
            f"{folder} holds no LLM traces ({FOLDER}/shard-*.jsonl): give the folder of a run "
            f"whose characters thought with a model"
        )


# --- export -------------------------------------------------------------------------------


def _journal_facts(folder: Path) -> tuple[dict[tuple[int, int], str], dict[tuple, int]]:
    """From the journal: what became of each promise and trade offer (keyed by the sender and
    sequence of the envelope that made it), and the envelope each decision produced."""
    fate: dict[tuple[int, int], str] = {}
    made: dict[tuple, int] = {}
    for path in sorted((folder / "journal").glob("shard-*.sjl")):
        for batch in read_journal(path):
            mail = from_batch(batch)
            for i in range(len(mail)):
                k, s, r = int(mail.kind[i]), int(mail.sender[i]), int(mail.recipient[i])
                if k in (Kind.PROMISE, Kind.TRADE_OFFER):
                    made[(batch.tick, s, r, k)] = int(mail.seq[i])
                elif k == Kind.PROMISE_KEPT:
                    fate[(s, int(mail.ref[i]))] = "kept"
                elif k == Kind.PROMISE_BROKEN:
                    fate[(r, int(mail.ref[i]))] = "broken"
                elif k == Kind.TRADE_REPLY:
                    status = int(mail.flag[i]) & 3
                    word = {1: "accepted", 2: "rejected", 3: "countered"}.get(status, "answered")
                    fate.setdefault((r, int(mail.ref[i])), word)
    return fate, made


def export(folder: Path, out: IO[str]) -> int:
    """Write one chat-format JSON line per decision the model made; returns how many."""
    check_traces(folder)
    require_journal(folder, "socius traces export (what became of promises and offers)")
    requests = latest(folder, "request")
    decisions = latest(folder, "decision")
    outcomes = latest(folder, "outcome")
    fate, made = _journal_facts(folder)
    n = 0
    for key, d in sorted(decisions.items(), key=lambda kv: _order(kv[0])):
        asked = [requests[k] for k in d.get("requests", []) if k in requests]
        final = next((r for r in reversed(asked) if r.get("valid")), asked[-1] if asked else None)
        if final is None:
            continue
        action = d["action"]
        outcome: dict[str, Any] = {
            "applied_by": "model" if d["by_model"] else "heuristic",
            "trust_before": d["trust"],
        }
        later = outcomes.get(key)
        if later is not None:
            outcome["trust_after"] = later["trust"]
            outcome["trust_change"] = round(later["trust"] - d["trust"], 6)
            outcome["after_ticks"] = later["tick"] - d["tick"]
        if action in ("keep", "break"):
            outcome["promise"] = "kept" if action == "keep" else "broken"
        elif action in ("promise", "offer_trade"):
            kind = Kind.PROMISE if action == "promise" else Kind.TRADE_OFFER
            seq = made.get((d["tick"], d["actor"], d["counterpart"], int(kind)))
            if seq is not None:
                word = "promise" if action == "promise" else "offer"
                outcome[word] = fate.get((d["actor"], seq), "open")
        messages = [*final["messages"], {"role": "assistant", "content": final["answer"] or ""}]
        line = {
            "messages": messages,
            "metadata": {
                "run": folder.name,
                "tick": d["tick"],
                "actor": d["actor"],
                "counterpart": d["counterpart"],
                "situation": d["situation"],
                "action": action,
                "valid": bool(final.get("valid")),
                "attempts": len(asked),
            },
            "outcome": outcome,
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        n += 1
    return n


def _order(key: str) -> tuple[int, ...]:
    return tuple(int(x) for x in key.split(":"))


__all__ = [
    "FOLDER",
    "TraceWriter",
    "check_traces",
    "export",
    "key_of",
    "latest",
    "read_traces",
    "trace_path",
]
