"""A character's panel: its self-model, and its state read from its shard between ticks.

The state is `world.self_view` (what a player's Inspect returns: goods, needs and health,
feelings, relationships with trust, promises both ways), plus its memories with their salience
and what it showed in the last tick. The truth of its feelings (`hidden`) is kept only when
`hidden` is asked for (the operator, a recorded run); whoever asks otherwise gets what the
character showed, never what it felt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from google.protobuf.json_format import MessageToDict

from protos import world_service_pb2 as wpb
from world.population import self_model
from world.shard import Shard
from world.vocab import EMOTION_NAMES, Kind

#: Keys of a panel that only the operator, a recorded run or the character itself may see.
PRIVATE = ("hidden",)


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
    c, lo = shard.chars, character // shard.n_shards
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


def panel(
    shard: Shard, state: wpb.CharacterState, names: Sequence[str], hidden: bool
) -> dict[str, Any]:
    """The panel of the character `state` describes (its shard's `self_view`)."""
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
    return out
