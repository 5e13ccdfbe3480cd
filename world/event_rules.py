"""What each kind of event does to a shard's characters at a tick's start (world/events.py says
what the kinds mean). One function per kind; `apply` runs the tick's events in the order they
are listed and returns the EVENT envelopes they leave for the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from protos import society_pb2 as pb
from world import memory, perceive
from world.characters import Characters
from world.events import (
    CutTies,
    EventKind,
    Exile,
    Famine,
    Newcomers,
    Norm,
    Plague,
    Plenty,
    Rumour,
    Target,
    Tax,
    Windfall,
    event_kind,
    first_newcomer,
    population_at,
)
from world.population import groups_of, roles_of
from world.rng import Stream, uniform
from world.stats import TickStats
from world.vocab import Good, Kind
from world.wire import Mail

#: Trust in the teller of an anonymous rumour (or one the hearer does not know).
ANONYMOUS_TRUST = 0.5
_CLAIMS = {"bad": pb.BAD, "good": pb.GOOD, "betrayed": pb.BETRAYED}


class Notes:
    """The EVENT envelopes of a tick, gathered as events touch characters (`mail` is None
    until the first: most ticks have none, and an empty table is 18 columns to make)."""

    def __init__(self) -> None:
        self.mail: Mail | None = None

    def add(
        self,
        cid: np.ndarray,
        index: int,
        kind: EventKind,
        *,
        good: np.ndarray | int = 0,
        amount: np.ndarray | int = 0,
        subject: np.ndarray | int = 0,
    ) -> None:
        if len(cid) == 0:
            return
        n = len(cid)
        if self.mail is None:
            self.mail = Mail()
        self.mail.append(
            sender=cid,
            recipient=cid,
            kind=np.full(n, Kind.EVENT, np.uint8),
            ref=np.full(n, index, np.uint32),
            flag=np.full(n, int(kind), np.uint8),
            good=np.broadcast_to(good, n),
            amount=np.broadcast_to(amount, n),
            subject=np.broadcast_to(subject, n),
        )


def chosen(scenario: Any, chars: Characters, target: Target, index: int, first: int) -> np.ndarray:
    """Rows of the characters `target` picks for event `index` (its share drawn once, at the
    event's first tick, so a range touches the same characters throughout)."""
    n = len(chars)
    ids = chars.cid[:n].astype(np.int64)
    picked = target.selects(
        scenario.seed, ids, groups_of(scenario, ids), chars.role[:n], (index, first)
    )
    return np.flatnonzero(picked)


def production(scenario: Any, chars: Characters, events: Sequence[Any], tick: int) -> np.ndarray:
    """Each row's production factor this tick: famines and plenty on it, multiplied."""
    factor = np.ones(len(chars))
    for index, e in enumerate(events):
        if isinstance(e, Famine | Plenty) and e.at(tick):
            factor[chosen(scenario, chars, e.target, index, e.first)] *= e.factor
    return factor


def scenario_at(scenario: Any, events: Sequence[Any], tick: int) -> Any:
    """The scenario as it stands at `tick`: its population grown by the newcomers so far, its
    norm the last one an event set."""
    size = population_at(scenario.population.size, list(events), tick)
    norm = scenario.norm
    for e in events:
        if isinstance(e, Norm) and e.first <= tick:
            norm = e.norm
    if size == scenario.population.size and norm == scenario.norm:
        return scenario
    population = scenario.population.model_copy(update={"size": size})
    return scenario.model_copy(update={"norm": norm, "population": population})


def joining(scenario: Any, events: Sequence[Any], tick: int) -> list[tuple[int, Newcomers]]:
    """The newcomer events of `tick`, each with the id of its first character."""
    size = scenario.population.size
    return [
        (first_newcomer(size, list(events), i), e)
        for i, e in enumerate(events)
        if isinstance(e, Newcomers) and e.first == tick
    ]


def apply(
    scenario: Any,
    chars: Characters,
    events: Sequence[Any],
    tick: int,
    stats: TickStats,
    notes: Notes,
) -> None:
    """Apply every event of `tick` to these characters, in the order listed, noting the EVENT
    envelopes they leave."""
    for index, e in enumerate(events):
        if not e.at(tick):
            continue
        if isinstance(e, Newcomers):
            continue  # the shard grows before the events apply (Shard.grow); noted there
        rows = chosen(scenario, chars, e.target, index, e.first)
        rule = _RULES.get(type(e))
        if rule is not None:
            rule(scenario, chars, e, index, tick, rows, notes, stats)
        elif tick == e.first:  # famine, plenty and a norm act elsewhere; note them once
            notes.add(chars.cid[rows], index, event_kind(e))


def _plague(scenario, chars, e: Plague, index, tick, rows, notes, stats) -> None:
    ids = chars.cid[rows].astype(np.int64)
    struck = rows[uniform(scenario.seed, Stream.EVENT, ids, index, tick, 1) < e.chance]
    chars.health[struck] = np.maximum(chars.health[struck] - np.float32(e.severity), 0.0)
    notes.add(chars.cid[struck], index, EventKind.PLAGUE)


def _rumour(scenario, chars, e: Rumour, index, tick, rows, notes, stats) -> None:
    rows = rows[chars.cid[rows] != e.about]  # what is said of me is not weighed
    if e.source is not None:
        rows = rows[chars.cid[rows] != e.source]
    if len(rows) == 0:
        return
    trust = np.full(len(rows), ANONYMOUS_TRUST, np.float32)
    source = -1 if e.source is None else e.source
    if e.source is not None:
        slot = memory.find(chars, rows, np.full(len(rows), e.source))
        known = slot >= 0
        trust[known] = perceive.trust_at(chars, rows[known], slot[known])
    about = memory.ensure(chars, rows, np.full(len(rows), e.about), tick)
    verdict = np.full(len(rows), 1.0 if e.claim == "good" else -1.0)
    weight = scenario.information.gossip_weight * trust
    perceive.judge(chars, rows, about, verdict, weight, np.full(len(rows), source))
    notes.add(chars.cid[rows], index, EventKind.RUMOUR, subject=e.about)
    stats.add("gossip", len(rows))


def _forget(chars: Characters, rows: np.ndarray, slots: np.ndarray) -> None:
    for name, (_, _, fill) in Characters.COLUMNS.items():
        if name.startswith("rel_"):
            getattr(chars, name)[rows, slots] = fill


def _cut_ties(scenario, chars, e: CutTies, index, tick, rows, notes, stats) -> None:
    other = chosen(scenario, chars, e.with_, index, e.first)
    # both ways: each side's memory of the other side (the other side's members anywhere)
    touched = []
    for mine, theirs in ((rows, e.with_), (other, e.target)):
        if len(mine) == 0:
            continue
        known = chars.rel_id[mine].astype(np.int64)
        occupied = known >= 0
        safe = np.where(occupied, known, 0)
        member = theirs.selects(
            scenario.seed,
            safe.ravel(),
            groups_of(scenario, safe.ravel()),
            np.zeros(safe.size, np.int8)
            if theirs.roles is None
            else roles_of(scenario, safe.ravel()),
            (index, e.first),
        ).reshape(known.shape)
        member &= occupied
        r, s = np.nonzero(member)
        r = mine[r]
        if e.mode == "forget":
            _forget(chars, r, s)
        else:
            chars.rel_aff[r, s] = -1.0
            chars.rel_att[r, s] = 0.0
            chars.rel_rep[r, s] = -1.0
            chars.rel_rep_n[r, s] = np.maximum(chars.rel_rep_n[r, s], 1)
            chars.rel_neg[r, s] += np.float32(2.0)
            chars.rel_betrayals[r, s] += 1
        touched.append(np.unique(r))
    hit = np.unique(np.concatenate(touched)) if touched else np.zeros(0, np.int64)
    notes.add(chars.cid[hit], index, EventKind.CUT_TIES)


def _exile(scenario, chars, e: Exile, index, tick, rows, notes, stats) -> None:
    chars.group[rows] = e.group
    notes.add(chars.cid[rows], index, EventKind.EXILE, subject=e.group)


def _windfall(scenario, chars, e: Windfall, index, tick, rows, notes, stats) -> None:
    good = int(Good[e.good.upper()])
    chars.goods[rows, good] += e.amount
    stats.produced[good] += e.amount * len(rows)
    notes.add(chars.cid[rows], index, EventKind.WINDFALL, good=good, amount=e.amount)


def _tax(scenario, chars, e: Tax, index, tick, rows, notes, stats) -> None:
    good = int(Good[e.good.upper()])
    taken = np.floor(chars.goods[rows, good] * e.rate).astype(np.int32)
    chars.goods[rows, good] -= taken
    stats.consumed[good] += int(taken.sum())
    notes.add(chars.cid[rows], index, EventKind.TAX, good=good, amount=taken)


_RULES: dict[type, Callable[..., None]] = {
    Plague: _plague,
    Rumour: _rumour,
    CutTies: _cut_ties,
    Exile: _exile,
    Windfall: _windfall,
    Tax: _tax,
}
