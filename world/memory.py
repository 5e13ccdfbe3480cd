"""Bounded memory: who a character knows (relationship slots) and what it remembers (episodes).

Each character has K relationship slots and E episode slots. A new acquaintance takes an empty
slot or evicts the least salient one (weak ties, no debts, long unseen); an open promise keeps a
slot from being forgotten. Updates that touch the same slot twice in one call are applied one
row after another (world/kernels/), so the result is the sequential one whatever the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from world.arrays import each, rows_where
from world.characters import Characters
from world.kernels import slots, updates

#: What a forgotten slot's fields go back to: every relationship column but the newcomer's id
#: and when it was seen, at its column's empty value.
_RESET: dict[str, float | int] = {
    name: fill
    for name, (_, _, fill) in Characters.COLUMNS.items()
    if name.startswith("rel_") and name not in ("rel_id", "rel_seen")
}


def _by_dtype(reset: dict[str, float | int]) -> list[tuple[tuple[str, ...], tuple[Any, ...]]]:
    """The reset columns grouped by dtype (one `slots.fill` call each), with their values."""
    groups: dict[str, tuple[list[str], list[Any]]] = {}
    for name, value in reset.items():
        dtype = Characters.COLUMNS[name][0]
        names, values = groups.setdefault(dtype, ([], []))
        names.append(name)
        values.append(float(value) if np.dtype(dtype).kind == "f" else int(value))
    return [(tuple(names), tuple(values)) for names, values in groups.values()]


_RESET_BY_DTYPE = _by_dtype(_RESET)

#: The columns salience reads, in the kernels' order (att, aff, rep, betrayals, kept, seen,
#: open_in, open_out, id).
SalienceColumns = tuple[
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]


def find(chars: Characters, local: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Slot of `other` in each `local` character's memory, or -1."""
    return slots.find(chars.rel_id, _i64(local), _i64(other))


def _salience_columns(chars: Characters) -> SalienceColumns:
    return (
        chars.rel_att,
        chars.rel_aff,
        chars.rel_rep,
        chars.rel_betrayals,
        chars.rel_kept,
        chars.rel_seen,
        chars.rel_open_in,
        chars.rel_open_out,
        chars.rel_id,
    )


def _i64(a: np.ndarray | int) -> np.ndarray:
    return np.ascontiguousarray(a, np.int64).reshape(-1)


def ensure(
    chars: Characters,
    local: np.ndarray,
    other: np.ndarray,
    tick: int,
    found: np.ndarray | None = None,
) -> np.ndarray:
    """Slot of `other` for each `local`, making room (forgetting the least salient) if needed.
    `found`, if given, is what `find` returned for the same rows just before."""
    local, other = _i64(local), _i64(other)
    slot = find(chars, local, other) if found is None else np.array(found, np.int64)
    if slot.min(initial=0) >= 0:
        return slot
    # new acquaintances, once per (character, other), in (character, other) order, take their
    # character's empty slots and then its least salient ones, never a slot this call already
    # relies on (what one-at-a-time would do)
    new_local, new_other, new_slot = slots.make_room(
        *_salience_columns(chars), int(tick), local, other, slot
    )
    at = new_local * chars.slots + new_slot  # flat positions: a repeated one keeps the last
    for names, fills in _RESET_BY_DTYPE:
        slots.fill(at, chars.flat(names), fills)
    rel_id, rel_seen = chars.flat(("rel_id", "rel_seen"))
    rel_id[at] = new_other
    rel_seen[at] = tick
    return slot


def remember(
    chars: Characters,
    local: np.ndarray,
    kind: int | np.ndarray,
    who: np.ndarray,
    sal: np.ndarray | float,
    val: np.ndarray | float,
    tick: int,
) -> None:
    """Store episodes, each over the least salient one its character holds (in row order)."""
    local = np.asarray(local, np.int64)
    if len(local) == 0:
        return
    n = len(local)
    updates.remember(
        chars.ep_tick,
        chars.ep_kind,
        chars.ep_who,
        chars.ep_sal,
        chars.ep_val,
        local,
        each(kind, n, np.int8),
        each(who, n, np.int32),
        each(sal, n, np.float32),
        each(val, n, np.float32),
        int(tick),
    )


def recall(
    chars: Characters, local: int, counterpart: int, tick: int, k: int = 5
) -> list[dict[str, float | int]]:
    """The k episodes that matter most now: salient, recent, and about this counterpart."""
    kinds = chars.ep_kind[local]
    live = rows_where(kinds >= 0)
    if len(live) == 0:
        return []
    age = (tick - chars.ep_tick[local, live]).astype(np.float32)
    score = (
        chars.ep_sal[local, live]
        + 0.5 / (1.0 + age / 10.0)
        + 1.0 * (chars.ep_who[local, live] == counterpart)
    )
    best = live[np.argsort(-score, kind="stable")[:k]]
    return [
        {
            "tick": int(chars.ep_tick[local, e]),
            "kind": int(chars.ep_kind[local, e]),
            "who": int(chars.ep_who[local, e]),
            "salience": float(chars.ep_sal[local, e]),
            "valence": float(chars.ep_val[local, e]),
        }
        for e in best
    ]
