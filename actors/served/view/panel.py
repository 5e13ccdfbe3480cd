"""A character's panel: its self-model, and its state read from its shard between ticks.

The state is `world.self_view` (what a player's Inspect returns: goods, needs and health,
feelings, relationships with trust, promises both ways), plus its memories with their salience
and what it showed in the last tick. The truth of its feelings (`hidden`) is kept only when
`hidden` is asked for (the operator, a recorded run); whoever asks otherwise gets what the
character showed, never what it felt.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.json_format import MessageToDict

from inference.traces import trace_path
from protos import world_service_pb2 as wpb
from world.population import self_model
from world.shard import Shard
from world.vocab import EMOTION_NAMES, Kind

#: Keys of a panel that only the operator, a recorded run or the character itself may see.
PRIVATE = ("hidden", "thoughts")
#: The end of a shard's traces read for a character's recent thoughts (bytes).
TRACE_TAIL = 4 << 20
#: Characters of a prompt shown (its end: the situation and the question).
PROMPT_CHARS = 1500


def state_dict(state: wpb.CharacterState) -> dict[str, Any]:
    """A CharacterState as the page reads it (goods by name, feelings 0..1)."""
    d = MessageToDict(
        state, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    d["goods"] = {str(g["good"]).lower(): int(g.get("amount", 0)) for g in d.get("goods", [])}
    d["feeling"] = {k: round(int(v) / 255, 2) for k, v in d.get("feeling", {}).items()}
    return d


def shown_by(shard: Shard, character: int) -> dict[str, float] | None:
    """The feeling `character` last showed in the tick just ended (its last envelope that
    spoke), or None if it showed nothing."""
    mail = shard.outbox
    n = len(mail)
    rows = np.flatnonzero(
        (mail.sender[:n] == character) & ((mail.phrase[:n] > 0) | (mail.text[:n] >= 0))
    )
    if not len(rows):
        return None
    shown = mail.shown[int(rows[-1])]
    return {k: round(int(v) / 255, 2) for k, v in zip(EMOTION_NAMES, shown, strict=True)}


def memories(shard: Shard, character: int, names: Sequence[str]) -> list[dict[str, Any]]:
    """What the character remembers, most salient first."""
    c, lo = shard.chars, shard.placement.row_of(character)
    live = np.flatnonzero(c.ep_kind[lo] >= 0)
    live = live[np.argsort(-c.ep_sal[lo, live], kind="stable")]
    out = []
    for e in live.tolist():
        who = int(c.ep_who[lo, e])
        kind = int(c.ep_kind[lo, e])
        out.append(
            {
                "tick": int(c.ep_tick[lo, e]),
                "kind": Kind(kind).name.lower() if kind in Kind._value2member_map_ else str(kind),
                "who": who,
                "name": names[who] if 0 <= who < len(names) else "",
                "salience": round(float(c.ep_sal[lo, e]), 3),
                "valence": round(float(c.ep_val[lo, e]), 3),
            }
        )
    return out


def thoughts(folder: Path, shard: int, character: int, limit: int = 3) -> list[dict[str, Any]]:
    """The character's last `limit` requests to a language model, with the answers, from the
    end of its shard's traces (traces/shard-NNNN.jsonl); none if it never asked one."""
    path = trace_path(folder, shard)
    if not path.is_file():
        return []
    with open(path, "rb") as f:
        start = max(0, f.seek(0, 2) - TRACE_TAIL)
        f.seek(start)
        lines = f.read().decode("utf-8", errors="replace").splitlines()
    if start:
        lines = lines[1:]  # the first is cut
    out: list[dict[str, Any]] = []
    for line in reversed(lines):
        if len(out) >= limit or f'"actor":{character},' not in line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("type") != "request" or r.get("actor") != character:
            continue
        prompt = str((r.get("messages") or [{}])[-1].get("content", ""))
        out.append(
            {
                "tick": r.get("tick"),
                "situation": r.get("situation"),
                "counterpart": r.get("counterpart"),
                "prompt": prompt[-PROMPT_CHARS:],
                "answer": r.get("answer"),
                "valid": r.get("valid"),
            }
        )
    return out


def panel(
    shard: Shard,
    state: wpb.CharacterState,
    names: Sequence[str],
    hidden: bool,
    folder: Path | None = None,
) -> dict[str, Any]:
    """The panel of the character `state` describes (its shard's `self_view`); with `hidden`,
    what it truly feels and, if it thinks with a model, its last prompts and answers (from the
    traces in the run `folder`)."""
    character = int(state.character)
    me = dataclasses.asdict(self_model(shard.scenario, character))
    d = state_dict(state)
    feeling = d.pop("feeling")
    for r in d.get("relationships", []):
        r["name"] = names[int(r.get("character", 0))]
    for side in ("owes", "owed"):
        for p in d.get(side, []):
            p["promisor_name"] = names[int(p.get("promisor", 0))]
            p["promisee_name"] = names[int(p.get("promisee", 0))]
    d["relationships"] = sorted(
        d.get("relationships", []), key=lambda r: (-int(r.get("meetings", 0)), r["character"])
    )
    out = {
        **me,
        **d,
        "boundaries": list(me["boundaries"]),
        "shown": shown_by(shard, character),
        "memories": memories(shard, character, names),
    }
    if hidden:
        out["hidden"] = feeling
        if folder is not None:
            out["thoughts"] = thoughts(folder, shard.index, character)
    return out
