"""What the page shows of a village, read from its shards: the roster (who is who), a tick's
frame (wealth and health of the characters in the graph, the strongest trust and distrust
edges, aggregates by group and role) and the changes from the frame before.

Everything here reads shards and returns plain JSON-ready data; it never changes a shard and
draws no random number. Large worlds: the graph holds at most `GRAPH_LIMIT` characters (every
k-th id, the same sample at every tick), the aggregates cover everyone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from world.population import groups_of, known_as, roles_of
from world.scenario import Scenario
from world.shard import Shard
from world.vocab import PRICE, ROLE_NAMES

#: Characters drawn in the graph; larger worlds show an even sample of this many.
GRAPH_LIMIT = 600
#: An edge is drawn from a character to the one it trusts most (at or above TRUSTS) and the
#: one it trusts least (at or below DISTRUSTS), after at least EVIDENCE acts between them.
TRUSTS, DISTRUSTS, EVIDENCE = 0.7, 0.35, 1.0


def trust_of(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Trust from the evidence of good and bad faith (as world.self_view reports it)."""
    return (pos + 1.0) / (pos + neg + 2.0)


@dataclasses.dataclass(frozen=True)
class Roster:
    """Who is who: names, roles and groups of every character, and the graph's sample."""

    names: list[str]
    roles: list[int]
    groups: list[int]
    sample: np.ndarray  # ids drawn in the graph, ascending

    @functools.cached_property
    def role_codes(self) -> np.ndarray:
        return np.asarray(self.roles, np.int64)

    @classmethod
    def of(cls, sc: Scenario) -> Roster:
        size = sc.population.size
        ids = np.arange(size, dtype=np.int64)
        roles = roles_of(sc, ids).astype(int).tolist()
        names = [known_as(sc, c).rsplit(" (", 1)[0] for c in range(size)]
        step = max(1, -(-size // GRAPH_LIMIT))
        return cls(names, roles, groups_of(sc, ids).astype(int).tolist(), ids[::step])

    @property
    def size(self) -> int:
        return len(self.names)

    def public(self) -> dict[str, Any]:
        """What anyone may know: names, roles, groups, the sample, the role names."""
        return {
            "size": self.size,
            "names": self.names,
            "roles": self.roles,
            "groups": self.groups,
            "role_names": list(ROLE_NAMES),
            "sample": self.sample.tolist(),
            "sampled": len(self.sample) < self.size,
        }


@dataclasses.dataclass
class Frame:
    """The society at the end of a tick, as the graph and the aggregates show it."""

    tick: int
    wealth: np.ndarray  # by id (every character)
    health: np.ndarray  # by id
    edges: list[tuple[int, int, float]]  # (from, to, trust) among the sample

    def people(self, ids: np.ndarray) -> dict[str, Any]:
        return {
            "ids": ids.tolist(),
            "wealth": self.wealth[ids].tolist(),
            "health": np.round(self.health[ids], 3).tolist(),
        }

    def aggregates(self, roster: Roster) -> dict[str, Any]:
        """Mean wealth and health by role, and how many in each: everyone."""
        out: dict[str, Any] = {}
        for key, c in (("by_role", roster.role_codes),):
            n = np.bincount(c)
            seen = np.flatnonzero(n)
            w = np.bincount(c, weights=self.wealth)
            h = np.bincount(c, weights=self.health)
            out[key] = [
                {
                    "key": int(k),
                    "count": int(n[k]),
                    "wealth": round(float(w[k] / n[k]), 2),
                    "health": round(float(h[k] / n[k]), 3),
                }
                for k in seen
            ]
        return out


def frame_of(shards: Sequence[Shard], roster: Roster, tick: int) -> Frame:
    """The frame of the shards as they stand (between ticks)."""
    size = roster.size
    wealth = np.zeros(size, np.int64)
    health = np.zeros(size, np.float64)
    in_sample = np.zeros(size, bool)
    in_sample[roster.sample] = True
    edges: list[tuple[int, int, float]] = []
    for shard in shards:
        c = shard.chars
        n = len(c)
        ids = c.cid[:n].astype(np.int64)
        wealth[ids] = c.goods[:n].astype(np.int64) @ PRICE
        health[ids] = c.health[:n]
        rows = np.flatnonzero(in_sample[ids])
        if not len(rows):
            continue
        known = c.rel_id[rows] >= 0
        pos, neg = c.rel_pos[rows], c.rel_neg[rows]
        trust = trust_of(pos, neg)
        sure = known & (pos + neg >= EVIDENCE)
        sure &= in_sample[np.where(known, c.rel_id[rows], 0)]
        best = np.where(sure, trust, -1.0).argmax(axis=1)
        worst = np.where(sure, trust, 2.0).argmin(axis=1)
        at = np.arange(len(rows))
        for slot, keep in (
            (best, trust[at, best] >= TRUSTS),
            (worst, trust[at, worst] <= DISTRUSTS),
        ):
            r = np.flatnonzero(keep & sure[at, slot])
            s = slot[r]
            edges.extend(
                zip(
                    ids[rows[r]].tolist(),
                    c.rel_id[rows[r], s].tolist(),
                    np.round(trust[r, s].astype(np.float64), 3).tolist(),
                    strict=True,
                )
            )
    edges.sort()
    return Frame(tick, wealth, health, edges)


def changed(before: Frame | None, now: Frame, ids: np.ndarray) -> np.ndarray:
    """The ids among `ids` whose wealth or health differ between the frames."""
    if before is None:
        return ids
    moved = (before.wealth[ids] != now.wealth[ids]) | (
        np.round(before.health[ids], 3) != np.round(now.health[ids], 3)
    )
    return ids[moved]
