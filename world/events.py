"""Events: what the scenario (or an operator, live) does to the world at a tick.

A scenario's `events:` list says, for each event, its kind, when (`tick: T`, or `ticks: [A, B]`
for every tick from A to B inclusive) and whom (`target`). Every shard applies the events of a
tick to its own characters at the tick's start, before they perceive, in the order they are
listed; whom an event touches depends only on (scenario, seed, character id, tick), drawn from
the characters' own streams (`Stream.EVENT`), so the result is the same however the world is
split, and after a resume.

Kinds and what they do:

- `famine` / `plenty`: the target's production is multiplied by `factor` (below 1 for a famine,
  above for plenty) on every tick of the range.
- `plague`: on every tick of the range each target character falls sick with chance `chance`,
  losing `severity` of its health.
- `rumour`: each target character hears a claim (`claim: bad | good | betrayed`) about
  character `about`, from character `source` or from no one (anonymous). It moves the hearer's
  view of `about` as gossip does, by `information.gossip_weight` times the hearer's trust in the
  source (0.5 for an anonymous one, or one it does not know).
- `cut_ties`: relationships between the target and the characters `with` names are forgotten
  (`mode: forget`) or turn hostile (`mode: hostile`: affinity -1, their standing bad, trust
  broken as if by one betrayal), both ways.
- `exile`: the target characters move to group `group`; they now seek out its members when they
  look for a group-mate.
- `newcomers`: `count` characters join at the tick, with ids after the last one, self-models
  derived like everyone's, in group `group` or, by default, in the groups their ids fall in.
  Their rows exist from the start in their shards, asleep (they neither live nor meet anyone)
  until they join; the digest covers them. A newcomer event has no target.
- `norm`: from the tick on, bystanders judge by `norm`.
- `windfall`: each target character receives `amount` of `good`, from outside the world
  (counted as produced).
- `tax`: each target character gives up `rate` of its `good` (rounded down), which leaves the
  world (counted as consumed): goods held and in transit stay equal to start + produced -
  consumed.

Targets: `everyone: true` (the default), `groups`, `roles`, `characters` (they combine: a
character must match each one given), and `share`: of those, each is chosen with this
chance, drawn from its own stream. Groups are the groups characters were born into.

Each event that touches a character leaves an `EVENT` envelope from and to that character in the
journal (`socius journal cat RUN --kind event`): ref the event's index in the run's list of
events, flag its kind, good/amount the goods it moved, subject the rumour's subject or the new
group.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from world.rng import Stream, uniform
from world.vocab import NORM_NAMES, ROLE_NAMES, Good

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class EventKind(IntEnum):
    """An event's kind, as its EVENT envelopes carry it (flag)."""

    FAMINE = 1
    PLENTY = 2
    PLAGUE = 3
    RUMOUR = 4
    CUT_TIES = 5
    EXILE = 6
    NEWCOMERS = 7
    NORM = 8
    WINDFALL = 9
    TAX = 10


KIND_NAMES = tuple(k.name.lower() for k in EventKind)
GOOD_NAMES = tuple(g.name.lower() for g in Good)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Part):
    """Whom an event touches: everyone by default, or those matching every filter given."""

    everyone: bool = Field(False, description="every character (the default when nothing else)")
    groups: list[Annotated[int, Field(ge=0)]] | None = Field(None, description="groups (ids)")
    roles: list[str] | None = Field(None, description="roles, by name")
    characters: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, description="characters, by id"
    )
    share: Probability = Field(1.0, description="chance each matching character is chosen")

    @model_validator(mode="after")
    def _roles_known(self) -> Target:
        for r in self.roles or []:
            if r not in ROLE_NAMES:
                raise ValueError(f"unknown role {r!r}; roles: {', '.join(ROLE_NAMES)}")
        if self.everyone and (self.groups or self.roles or self.characters):
            raise ValueError("everyone: true cannot be combined with groups, roles or characters")
        return self

    def problem(self, size: int, group_size: int) -> str | None:
        """What names a character or group that does not exist (None: all exist)."""
        for c in self.characters or []:
            if c >= size:
                return f"character {c} does not exist (ids are 0..{size - 1})"
        n_groups = -(-size // group_size)
        for g in self.groups or []:
            if g >= n_groups:
                return f"group {g} does not exist (groups are 0..{n_groups - 1})"
        return None

    def selects(
        self,
        seed: int,
        ids: np.ndarray,
        groups: np.ndarray,
        roles: np.ndarray,
        draw: tuple[int, int],
    ) -> np.ndarray:
        """Which of these characters (by id, birth group and role index) the target chooses;
        `draw` keys the share's draw: (the event's index, the tick)."""
        chosen = np.ones(len(ids), bool)
        if self.groups is not None:
            chosen &= np.isin(groups, np.asarray(self.groups, np.int64))
        if self.roles is not None:
            chosen &= np.isin(roles, [ROLE_NAMES.index(r) for r in self.roles])
        if self.characters is not None:
            chosen &= np.isin(ids, np.asarray(self.characters, np.int64))
        if self.share < 1.0:
            chosen &= uniform(seed, Stream.EVENT, ids, draw[0], draw[1]) < self.share
        return chosen


EVERYONE = Target(everyone=True)


class _Event(_Part):
    tick: Annotated[int, Field(ge=1)] | None = Field(None, description="the tick it happens at")
    ticks: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] | None = Field(
        None, description="[first, last]: every tick of the range, both included"
    )
    target: Target = Field(EVERYONE, description="whom it touches")
    label: str | None = Field(None, max_length=80, description="a name for reports")

    @model_validator(mode="after")
    def _when(self) -> _Event:
        if (self.tick is None) == (self.ticks is None):
            raise ValueError("give either tick: T or ticks: [first, last]")
        if self.ticks is not None and self.ticks[0] > self.ticks[1]:
            raise ValueError(f"ticks: {list(self.ticks)} ends before it starts")
        return self

    @property
    def first(self) -> int:
        return self.tick if self.tick is not None else self.ticks[0]  # type: ignore[index]

    @property
    def last(self) -> int:
        return self.tick if self.tick is not None else self.ticks[1]  # type: ignore[index]

    def at(self, tick: int) -> bool:
        return self.first <= tick <= self.last


class Famine(_Event):
    kind: Literal["famine"]
    factor: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.3, description="production is multiplied by this"
    )


class Plenty(_Event):
    kind: Literal["plenty"]
    factor: Annotated[float, Field(gt=1.0, le=100.0)] = Field(
        2.0, description="production is multiplied by this"
    )


class Plague(_Event):
    kind: Literal["plague"]
    chance: Probability = Field(0.5, description="chance each target falls sick, each tick")
    severity: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.4, description="health lost when it strikes"
    )


class Rumour(_Event):
    kind: Literal["rumour"]
    about: Annotated[int, Field(ge=0)] = Field(description="the character the claim is about")
    claim: Literal["bad", "good", "betrayed"] = Field("bad", description="what is claimed")
    source: Annotated[int, Field(ge=0)] | None = Field(
        None, description="who tells it (none: anonymous)"
    )


class CutTies(_Event):
    kind: Literal["cut_ties"]
    with_: Target = Field(alias="with", description="the other side")
    mode: Literal["forget", "hostile"] = Field("forget", description="forgotten, or hostile")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Exile(_Event):
    kind: Literal["exile"]
    group: Annotated[int, Field(ge=0)] = Field(description="the group they move to")


class Newcomers(_Event):
    kind: Literal["newcomers"]
    count: Annotated[int, Field(ge=1, le=1_000_000)] = Field(description="characters who join")
    group: Annotated[int, Field(ge=0)] | None = Field(
        None, description="the group they join (default: the groups their ids fall in)"
    )

    @model_validator(mode="after")
    def _once(self) -> Newcomers:
        if self.ticks is not None:
            raise ValueError("newcomers join at one tick: give tick: T, not ticks")
        if self.target != EVERYONE:
            raise ValueError("newcomers have no target; say count (and group)")
        return self


class Norm(_Event):
    kind: Literal["norm"]
    norm: str = Field(description="the judging norm from this tick on")

    @model_validator(mode="after")
    def _known(self) -> Norm:
        if self.norm not in NORM_NAMES:
            raise ValueError(f"unknown norm {self.norm!r}; norms: {', '.join(NORM_NAMES)}")
        if self.ticks is not None:
            raise ValueError("a norm changes at one tick and stays: give tick: T, not ticks")
        if self.target != EVERYONE:
            raise ValueError("a norm holds for everyone: leave target out")
        return self


class _Goods(_Event):
    """An event that moves one good."""

    good: str = Field("food", description="the good given or taken")

    @model_validator(mode="after")
    def _good_known(self) -> _Goods:
        if self.good not in GOOD_NAMES:
            raise ValueError(f"unknown good {self.good!r}; goods: {', '.join(GOOD_NAMES)}")
        return self


class Windfall(_Goods):
    kind: Literal["windfall"]
    amount: Annotated[int, Field(ge=1, le=10_000)] = Field(description="units to each target")


class Tax(_Goods):
    kind: Literal["tax"]
    rate: Annotated[float, Field(gt=0.0, le=1.0)] = Field(description="share of holdings taken")


Event = Annotated[
    Famine | Plenty | Plague | Rumour | CutTies | Exile | Newcomers | Norm | Windfall | Tax,
    Field(discriminator="kind"),
]


def event_kind(event: Any) -> EventKind:
    return EventKind[str(event.kind).upper()]


def newcomers(events: list[Any]) -> int:
    """How many characters join during the run, all events together."""
    return sum(e.count for e in events if isinstance(e, Newcomers))


def population_at(size: int, events: list[Any], tick: int) -> int:
    """How many characters live at `tick`: the starting size and every newcomer so far."""
    return size + sum(e.count for e in events if isinstance(e, Newcomers) and e.first <= tick)


def first_newcomer(size: int, events: list[Any], index: int) -> int:
    """The id of the first character newcomer event `index` brings."""
    before = events[:index]
    return size + sum(e.count for e in before if isinstance(e, Newcomers))


def problem(events: list[Any], size: int, group_size: int, ticks: int) -> str | None:
    """What is wrong with a scenario's events as a whole (one line), or None."""
    total = size + newcomers(events)
    joined: tuple[int, int] | None = None  # the last newcomers listed: (index, tick)
    for i, e in enumerate(events):
        where = f"events[{i}] ({e.kind})"
        if e.last > ticks:
            return f"{where}: tick {e.last} is past the end of the run (ticks: {ticks})"
        if isinstance(e, Newcomers):
            # their ids follow in the order listed, and each shard's rows in the order joined
            if joined is not None and e.first < joined[1]:
                return (
                    f"{where}: joins at tick {e.first}, before events[{joined[0]}] (newcomers) "
                    f"listed above it at tick {joined[1]}; list newcomers in the order they join"
                )
            joined = (i, e.first)
        p = e.target.problem(total, group_size)
        if p is None and isinstance(e, CutTies):
            p = e.with_.problem(total, group_size)
        if p is None and isinstance(e, Rumour):
            for who, what in ((e.about, "about"), (e.source, "source")):
                if who is not None and who >= total:
                    p = f"{what}: character {who} does not exist (ids are 0..{total - 1})"
        if p is None and isinstance(e, Exile | Newcomers) and e.group is not None:
            n_groups = -(-total // group_size)
            if e.group >= n_groups:
                p = f"group {e.group} does not exist (groups are 0..{n_groups - 1})"
        if p is not None:
            return f"{where}: {p}"
    return None


_LIST = TypeAdapter(list[Event])


def events_state(events: list[Any]) -> list[dict[str, Any]]:
    """Events as plain data (a shard's state, the record of a live intervention)."""
    return [e.model_dump(by_alias=True, exclude_none=True) for e in events]


def events_from_state(data: list[dict[str, Any]]) -> list[Any]:
    return list(_LIST.validate_python(data))


def parse_event(data: Any) -> Any:
    """One event from plain data (raises pydantic's ValidationError)."""
    return TypeAdapter(Event).validate_python(data)
