"""The state of a shard's characters, one row each (struct of arrays).

Static self-model columns (role, group, traits ...) are derived from the scenario at start and
kept for speed; everything else changes as the world lives. `rel_*` columns are the bounded
relational memory (K slots per character), `ep_*` the episodic memory (E slots).
"""

from __future__ import annotations

from typing import Any, ClassVar

from world.arrays import Table
from world.vocab import N_EMOTIONS, N_GOODS, N_TRAITS

K, E = "K", "E"


class Characters(Table):
    COLUMNS: ClassVar[dict[str, tuple[str, tuple[int | str, ...], Any]]] = {
        "cid": ("<i4", (), -1),
        # self-model (static)
        "role": ("i1", (), 0),
        "group": ("<i4", (), 0),
        "mind": ("i1", (), 0),
        "boundaries": ("u1", (), 0),
        "traits": ("<f4", (N_TRAITS,), 0.0),
        # economy and body
        "goods": ("<i4", (N_GOODS,), 0),
        "health": ("<f4", (), 1.0),
        "hunger": ("<i2", (), 0),
        # inner life
        "emotion": ("<f4", (N_EMOTIONS,), 0.0),
        "wariness": ("<f4", (), 0.0),  # grows with betrayals suffered: adaptation
        "pg_expect": ("<f4", (), 0.5),  # expected share of the group that contributes
        "standing": ("<f4", (), 0.5),  # running share of its acts that were cooperative
        "contributed": ("i1", (), 0),  # contributed in the last collection
        "seq": ("<u4", (), 0),  # last sequence number used
        # relational memory: one slot per known character
        "rel_id": ("<i4", (K,), -1),
        "rel_pos": ("<f4", (K,), 0.0),  # evidence of good faith (kept, fair, generous)
        "rel_neg": ("<f4", (K,), 0.0),  # evidence of bad faith (broken, unfair)
        "rel_aff": ("<f4", (K,), 0.0),  # affinity, -1..1
        "rel_att": ("<f4", (K,), 0.0),  # attachment from care, 0..1
        "rel_balance": ("<i4", (K,), 0),  # value given to them minus value received from them
        "rel_gifts": ("<i4", (K,), 0),  # gifts received from them
        "rel_trades": ("<i4", (K,), 0),
        "rel_betrayals": ("<i4", (K,), 0),  # promises they broke to this character
        "rel_kept": ("<i4", (K,), 0),  # promises they kept to this character
        "rel_meetings": ("<i4", (K,), 0),
        "rel_theirs": ("i1", (K,), -1),  # their last act towards me: 1 C, 0 D, -1 none
        "rel_mine": ("i1", (K,), -1),  # my last act towards them
        "rel_rep": ("<f4", (K,), 0.0),  # what I think of their standing, -1 (bad) .. 1 (good)
        "rel_rep_n": ("<i2", (K,), 0),  # judgements behind that view
        "rel_rep_src": ("<i4", (K,), -1),  # whom the last judgement came from
        "rel_seen": ("<i4", (K,), 0),  # tick of last contact
        "rel_needy": ("<i4", (K,), -1000),  # tick they were last seen in need
        "rel_open_in": ("i1", (K,), 0),  # open promises they made to me
        "rel_open_out": ("i1", (K,), 0),  # open promises I made to them
        # episodic memory
        "ep_tick": ("<i4", (E,), 0),
        "ep_kind": ("i1", (E,), -1),
        "ep_who": ("<i4", (E,), -1),
        "ep_sal": ("<f4", (E,), 0.0),
        "ep_val": ("<f4", (E,), 0.0),
    }

    def __init__(self, rows: int = 0, relationships: int = 24, episodes: int = 12) -> None:
        super().__init__(rows, K=relationships, E=episodes)

    @property
    def slots(self) -> int:
        return int(self._shape_args["K"])

    @property
    def episodes(self) -> int:
        return int(self._shape_args["E"])
