"""Scenario events: each kind does what it says, in the state, the journal and the figures; the
digest stays the same on any layout and through a resume in the middle of an event."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.world.harness import assert_resume_is_exact
from world import event_rules, memory
from world.errors import ScenarioError
from world.events import EventKind, events_state, parse_event
from world.journal import read_journal
from world.player_record import PlayerLog, RecordedPlayers
from world.population import groups_of
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario
from world.stats import TickStats
from world.vocab import Good, Kind
from world.wire import concat, decode, from_batch

GROUP = 20


def village(
    events: list[dict[str, Any]], ticks: int = 20, size: int = 120, **more: Any
) -> Scenario:
    return parse_scenario(
        {
            "name": "events",
            "seed": 5,
            "ticks": ticks,
            "population": {"size": size, "group_size": GROUP},
            "events": events,
            **more,
        }
    )


def by_group(rt: LocalRuntime, column: str) -> dict[int, float]:
    """The mean of a character column by (current) group, over the whole world."""
    values: dict[int, list[float]] = {}
    for s in rt.villages:
        n = len(s.chars)
        for g, v in zip(s.chars.group[:n], getattr(s.chars, column)[:n], strict=True):
            values.setdefault(int(g), []).append(float(v))
    return {g: float(np.mean(v)) for g, v in values.items()}


def column(rt: LocalRuntime, name: str) -> dict[int, float]:
    """A character column by character id, over the whole world."""
    out = {}
    for s in rt.villages:
        n = len(s.chars)
        out.update(zip(s.chars.cid[:n].tolist(), getattr(s.chars, name)[:n].tolist(), strict=True))
    return out


def ran(sc: Scenario, shards: int = 2, ticks: int | None = None) -> LocalRuntime:
    rt = LocalRuntime(sc, shards)
    rt.run(ticks)
    return rt


def test_a_famine_starves_its_target_and_not_the_rest() -> None:
    """Production at 0 for groups 0 and 1 over ticks 2..14 leaves them hungry at tick 14; the
    other groups are no hungrier than in the same world without the famine."""
    famine = {"kind": "famine", "ticks": [2, 14], "target": {"groups": [0, 1]}, "factor": 0.0}
    hit = by_group(ran(village([famine]), ticks=14), "hunger")
    calm = by_group(ran(village([]), ticks=14), "hunger")
    for g in (0, 1):
        assert hit[g] > calm[g] + 1.0
    rise_elsewhere = max(hit[g] - calm[g] for g in range(2, 6))
    assert rise_elsewhere < 0.25 * min(hit[g] - calm[g] for g in (0, 1))


def test_plenty_makes_more() -> None:
    """Plenty for everyone over ticks 1..5 makes more goods than the same world without it."""
    plenty = {"kind": "plenty", "ticks": [1, 5], "factor": 3.0}
    assert ran(village([plenty]), ticks=5).totals.produced.sum() > (
        1.5 * ran(village([]), ticks=5).totals.produced.sum()
    )


def journal_events(folder: Path) -> list[tuple[int, int, int, int, int]]:
    """(character, event index, event kind, amount, subject) of every EVENT envelope in a run
    folder's journal."""
    out = []
    for path in sorted((folder / "journal").glob("*.sjl")):
        for batch in read_journal(path):
            mail = from_batch(batch)
            for r in np.flatnonzero(mail.kind[: len(mail)] == Kind.EVENT):
                out.append(
                    (
                        int(mail.recipient[r]),
                        int(mail.ref[r]),
                        int(mail.flag[r]),
                        int(mail.amount[r]),
                        int(mail.subject[r]),
                    )
                )
    return out


def recorded(sc: Scenario, folder: Path, shards: int = 3) -> LocalRuntime:
    record = RunRecord(folder, sc, shards)
    rt = LocalRuntime(sc, shards, record)
    rt.run()
    record.close()
    return rt


def test_a_plague_strikes_a_share_of_its_target_only(tmp_path: Path) -> None:
    """At tick 4 about 60% of group 2 lose health; the journal notes exactly who, all of them
    in group 2; their health is lower than in the world without the plague."""
    plague = {"kind": "plague", "tick": 4, "target": {"groups": [2]}, "chance": 0.6}
    sc = village([plague], ticks=4)
    rt = recorded(sc, tmp_path)
    struck = [c for c, i, k, _, _ in journal_events(tmp_path) if k == EventKind.PLAGUE]
    assert struck and all(c // GROUP == 2 for c in struck)
    assert 0.3 * GROUP <= len(struck) <= 0.9 * GROUP
    calm = ran(village([], ticks=4), shards=1)
    health = {
        int(c): float(h)
        for s in rt.villages
        for c, h in zip(s.chars.cid, s.chars.health, strict=True)
    }
    before = {
        int(c): float(h)
        for s in calm.villages
        for c, h in zip(s.chars.cid, s.chars.health, strict=True)
    }
    assert all(health[c] < before[c] for c in struck)
    untouched = [c for c in range(sc.population.size) if c not in struck]
    assert all(health[c] == before[c] for c in untouched if c // GROUP != 2)


def view_of(rt: LocalRuntime, about: int) -> dict[int, float]:
    """Each character's view of `about`'s standing, where it holds one."""
    views = {}
    for s in rt.villages:
        n = len(s.chars)
        slot = memory.find(s.chars, np.arange(n), np.full(n, about))
        for row in np.flatnonzero(slot >= 0):
            if s.chars.rel_rep_n[row, slot[row]] > 0:
                views[int(s.chars.cid[row])] = float(s.chars.rel_rep[row, slot[row]])
    return views


def test_a_rumour_lowers_its_subject_among_those_told() -> None:
    """A bad rumour about character 7, told anonymously to group 3 at tick 6: after it, every
    member of group 3 holds a worse view of 7 than in the world without it."""
    rumour = {"kind": "rumour", "tick": 6, "about": 7, "target": {"groups": [3]}}
    told = view_of(ran(village([rumour]), ticks=6), 7)
    calm = view_of(ran(village([]), ticks=6), 7)
    hearers = range(3 * GROUP, 4 * GROUP)
    assert all(c in told for c in hearers)
    assert all(told[c] < calm.get(c, 0.0) for c in hearers)
    assert np.mean([told[c] for c in hearers]) < -0.1


def test_cut_ties_forgets_or_turns_hostile_both_ways() -> None:
    """After cut_ties between groups 0 and 1, nobody of either remembers anyone of the other
    (forget); with `hostile`, every such tie has affinity -1 and a bad view."""
    sc = village([], ticks=12)
    for mode in ("forget", "hostile"):
        rt = ran(sc, shards=2)
        event = event_rules_event(
            {
                "kind": "cut_ties",
                "tick": 12,
                "target": {"groups": [0]},
                "with": {"groups": [1]},
                "mode": mode,
            }
        )
        ties = 0
        for s in rt.villages:
            before = s.chars.rel_id.copy()
            event_rules.apply(s.scenario, s.chars, [event], 12, TickStats(), event_rules.Notes())
            n = len(s.chars)
            mine = groups_of(sc, s.chars.cid[:n])
            for row in range(n):
                other_side = {0: 1, 1: 0}.get(int(mine[row]))
                if other_side is None:
                    continue
                was = [k for k, o in enumerate(before[row]) if o >= 0 and o // GROUP == other_side]
                ties += len(was)
                for k in was:
                    if mode == "forget":
                        assert s.chars.rel_id[row, k] == -1
                    else:
                        assert s.chars.rel_aff[row, k] == -1.0 and s.chars.rel_rep[row, k] == -1.0
        assert ties > 0


def event_rules_event(data: dict[str, Any]) -> Any:
    return parse_event(data)


def test_exile_moves_characters_to_their_new_group(tmp_path: Path) -> None:
    """Characters 3 and 4 exiled to group 5 at tick 3 belong to it, and the journal says so."""
    sc = village(
        [{"kind": "exile", "tick": 3, "target": {"characters": [3, 4]}, "group": 5}], ticks=6
    )
    rt = recorded(sc, tmp_path)
    groups = {
        int(c): int(g) for s in rt.villages for c, g in zip(s.chars.cid, s.chars.group, strict=True)
    }
    assert groups[3] == groups[4] == 5 and groups[5] == 0
    moved = sorted(
        (c, subject) for c, _, k, _, subject in journal_events(tmp_path) if k == EventKind.EXILE
    )
    assert moved == [(3, 5), (4, 5)]


def test_newcomers_join_the_population_and_the_digest(tmp_path: Path) -> None:
    """25 newcomers at tick 5 are counted among the characters from then on, meet others, and
    are part of the state digest."""
    sc = village([{"kind": "newcomers", "tick": 5, "count": 25}], ticks=12)
    rt = recorded(sc, tmp_path)
    with open(tmp_path / "metrics.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    counts = [int(r["characters"]) for r in rows]
    assert counts[:4] == [120] * 4 and counts[4:] == [145] * 8
    joined = sorted(c for c, _, k, _, _ in journal_events(tmp_path) if k == EventKind.NEWCOMERS)
    assert joined == list(range(120, 145))
    known = set()
    for s in rt.villages:
        known |= {int(o) for o in s.chars.rel_id.ravel() if o >= 120}
    assert known, "nobody met a newcomer"
    digests = set()
    for s in rt.villages:
        if 130 in s.ids:
            row = int(np.flatnonzero(s.chars.cid == 130)[0])
            digests.add(rt.digest())
            s.chars.goods[row, Good.FOOD] += 1
            digests.add(rt.digest())
    assert len(digests) == 2


def test_a_norm_changes_how_bystanders_judge() -> None:
    """From a norm event's tick, the shards judge by the new norm; before it, by the old."""
    sc = village([{"kind": "norm", "tick": 4, "norm": "image_scoring"}], ticks=6)
    rt = ran(sc, ticks=3)
    assert all(s.now.norm == "stern_judging" for s in rt.villages)
    rt.run(1)
    assert all(s.now.norm == "image_scoring" for s in rt.villages)
    assert ran(sc).digest() != ran(village([], ticks=6)).digest()


def test_windfall_and_tax_keep_goods_accounted_for() -> None:
    """Goods held plus goods in flight equal the endowment plus what was made (a windfall
    counts as made) minus what was used up (a tax counts as used up), every tick."""
    sc = village(
        [
            {
                "kind": "windfall",
                "ticks": [2, 3],
                "good": "coin",
                "amount": 5,
                "target": {"roles": ["child"]},
            },
            {"kind": "tax", "tick": 4, "good": "coin", "rate": 0.5, "target": {"share": 0.5}},
        ],
        ticks=6,
    )
    rt = LocalRuntime(sc, 3)
    start = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in rt.villages)
    coins = []
    for _ in range(6):
        rt.run(1)
        held = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in rt.villages)
        flight = concat(decode(b)[1] for box in rt.in_flight() for b in box).carried().sum(axis=0)
        assert (held + flight).tolist() == (
            start + rt.totals.produced - rt.totals.consumed
        ).tolist()
        coins.append(int(held[Good.COIN] + flight[Good.COIN]))
    assert coins[1] > coins[0] and coins[3] < coins[2]


EVERY_KIND = [
    {"kind": "famine", "ticks": [5, 10], "target": {"groups": [0, 1]}, "factor": 0.1},
    {"kind": "plague", "ticks": [6, 9], "target": {"groups": [2], "share": 0.5}},
    {"kind": "rumour", "tick": 8, "about": 7, "source": 30, "target": {"groups": [3]}},
    {
        "kind": "cut_ties",
        "tick": 9,
        "target": {"groups": [4]},
        "with": {"groups": [5]},
        "mode": "hostile",
    },
    {"kind": "exile", "tick": 8, "target": {"characters": [3, 4]}, "group": 5},
    {"kind": "newcomers", "tick": 10, "count": 13},
    {"kind": "norm", "tick": 11, "norm": "image_scoring"},
    {"kind": "windfall", "tick": 9, "good": "food", "amount": 3, "target": {"roles": ["child"]}},
    {"kind": "tax", "ticks": [8, 12], "good": "coin", "rate": 0.3, "target": {"share": 0.5}},
]


@pytest.mark.parametrize("shards", [3, 5])
def test_events_do_not_depend_on_the_layout(shards: int) -> None:
    """Every kind of event at once: the same digest and figures on 1, 3 and 5 shards."""
    sc = village(EVERY_KIND, ticks=16)
    one, many = LocalRuntime(sc, 1), LocalRuntime(sc, shards)
    for _ in range(sc.ticks):
        assert one.step().figures() == many.step().figures()
    assert one.digest() == many.digest()


def test_a_resume_in_the_middle_of_events_is_exact(tmp_path: Path) -> None:
    """Stopped at tick 12 and resumed from the tick-7 checkpoint, inside the famine's range
    and before the newcomers join: the digest and results of the uninterrupted run."""
    assert_resume_is_exact(village(EVERY_KIND, ticks=16), tmp_path, shards=3)


def test_a_live_intervention_replays_to_the_same_digest(tmp_path: Path) -> None:
    """An event set off after tick 5 of a running world, recorded as a served world records
    it, replayed from before the first tick: the digest of the live run on another layout,
    and not the digest of the world left alone."""
    sc = village([], ticks=12)
    live = LocalRuntime(sc, 2)
    live.run(5)
    event = live.intervene({"kind": "famine", "ticks": [6, 9], "target": {"groups": [1]}})
    assert (event.first, live.events[-1]) == (6, event)
    log = PlayerLog(tmp_path)
    log.intervention(6, events_state([event])[0])
    log.close()
    digest = live.run().state_digest
    recorded = RecordedPlayers(tmp_path)
    again = LocalRuntime(sc, 3, decide=recorded)
    for e in recorded.events:
        again.intervene(e)
    assert again.run().state_digest == digest
    assert ran(sc).digest() != digest


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"kind": "famine", "tick": 3}, "tick 3 has already begun or passed; the next tick is 6"),
        ({"kind": "newcomers", "count": 2}, "newcomers join only from the scenario's events"),
        ({"kind": "plague", "tick": 40}, "tick 40 is past the end of the run (ticks: 12)"),
        ({"kind": "rumour"}, "about"),
        ({"kind": "flood"}, "does not match any of the expected tags"),
    ],
)
def test_a_bad_intervention_is_one_line(data: dict[str, Any], says: str) -> None:
    """A live event that starts in the past, brings newcomers, ends after the run, misses a
    field or is of no known kind is refused in one line, and the world goes on unchanged."""
    rt = LocalRuntime(village([], ticks=12), 2)
    rt.run(5)
    with pytest.raises(ScenarioError) as err:
        rt.intervene(data)
    assert says in str(err.value) and "\n" not in str(err.value)
    assert rt.events == [] and all(s.events == [] for s in rt.villages)
