"""A played character's own state, as the character knows it (the service's Inspect).

Its goods, body, feelings, the promises it made and those made to it, and its view of everyone
it remembers: never anyone else's hidden state or memory.
"""

from __future__ import annotations

import numpy as np

from protos import society_pb2 as pb
from protos import world_service_pb2 as wpb
from world import economy
from world.acts import PromiseState
from world.ledger import Promises
from world.shard import Shard
from world.vocab import EMOTION_NAMES, ROLE_NAMES, Good


def self_view(shard: Shard, character: int) -> wpb.CharacterState:
    """`character` (who lives in `shard`) as it knows itself."""
    if shard.placement.shard_of(character) != shard.index:
        raise ValueError(f"character {character} does not live in shard {shard.index}")
    c = shard.chars
    lo = shard.placement.row_of(character)
    feeling = np.clip(np.rint(c.emotion[lo] * 255), 0, 255).astype(int)
    state = wpb.CharacterState(
        character=character,
        tick=shard.tick,
        role=ROLE_NAMES[int(c.role[lo])],
        group=int(c.group[lo]),
        goods=[pb.Goods(good=int(g), amount=int(c.goods[lo, g])) for g in Good],  # type: ignore[arg-type]
        hunger=int(c.hunger[lo]),
        health=round(float(c.health[lo]), 4),
        sick=bool(economy.sick(c, np.array([lo]))[0]),
        need=round(float(economy.need(c, np.array([lo]))[0]), 4),
        feeling=pb.Signal(**{n: int(v) for n, v in zip(EMOTION_NAMES, feeling, strict=True)}),
    )
    state.owes.extend(_promises(shard.owed, shard.owed.promisor, character))
    state.owed.extend(_promises(shard.owed_to, shard.owed_to.promisee, character))
    for s in np.flatnonzero(c.rel_id[lo] >= 0).tolist():
        pos, neg = float(c.rel_pos[lo, s]), float(c.rel_neg[lo, s])
        state.relationships.append(
            wpb.Relationship(
                character=int(c.rel_id[lo, s]),
                trust=round((pos + 1.0) / (pos + neg + 2.0), 4),
                affinity=round(float(c.rel_aff[lo, s]), 4),
                reputation=round(float(c.rel_rep[lo, s]), 4),
                betrayals=int(c.rel_betrayals[lo, s]),
                kept=int(c.rel_kept[lo, s]),
                trades=int(c.rel_trades[lo, s]),
                meetings=int(c.rel_meetings[lo, s]),
                balance=int(c.rel_balance[lo, s]),
                last_seen=max(int(c.rel_seen[lo, s]), 0),
            )
        )
    return state


def _promises(led: Promises, column: np.ndarray, character: int) -> list[wpb.OpenPromise]:
    n = len(led)
    rows = np.flatnonzero(column[:n] == character)
    return [
        wpb.OpenPromise(
            promisor=int(led.promisor[i]),
            promisee=int(led.promisee[i]),
            seq=int(led.seq[i]),
            what=pb.Goods(good=int(led.good[i]), amount=int(led.amount[i])),  # type: ignore[arg-type]
            due_tick=int(led.due[i]),
            state=PromiseState(int(led.state[i])).name.lower(),
        )
        for i in rows.tolist()
    ]
