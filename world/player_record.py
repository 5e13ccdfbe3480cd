"""What players did in a served run, recorded so the run can be replayed to the same digest.

A served run writes `players.jsonl` in its folder, one line per event, flushed as it happens:

    {"tick": 3, "seeks": [[5, 30]]}                       # encounters players sought out
    {"tick": 3, "claimed": [5, 12], "answers": [{...}]}   # who played, and what they answered
    {"tick": 4, "event": {"kind": "famine", ...}}          # an operator's event, set off before 4

A player is a mind whose answers come from outside, as an LLM's do; this is its trace. Replayed
(`RecordedPlayers`, the decide hook of `socius run --players-replay RUN`), every recorded answer
is checked against the decision it answers and laid over the mind's row as the hall laid it, and
every sought encounter is added where the hall added it, every operator's event joins the run's
events in the order it was set off (before the first tick: an event acts only from its own
tick, and that was never before the tick it was set off for), so the same scenario and seed with the
same record give the same digest, journal and figures, with any number of shards.
"""

from __future__ import annotations

import collections
import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from world.acts import ACTION_NAMES, Action, Situation
from world.errors import RunFolderError
from world.players import Choice, ChoiceError, check, lay_answers, waiting_for
from world.runtime import Decide
from world.shard import Decisions, Pending, Shard
from world.situations import Calls

FILE = "players.jsonl"


def choice_row(choice: Choice) -> dict[str, Any]:
    """A checked answer as a record line's entry (only the fields it uses)."""
    row: dict[str, Any] = {"decision": choice.decision, "action": ACTION_NAMES[choice.action]}
    if choice.words:
        row["words"] = choice.words
    if choice.give is not None:
        row["give"] = list(choice.give)
    if choice.want is not None:
        row["want"] = list(choice.want)
    if choice.gossip_subject is not None:
        row["gossip"] = [choice.gossip_subject, choice.gossip_claim]
    return row


def choice_of(row: dict[str, Any]) -> Choice:
    """A record line's entry as the answer it was (ValueError, KeyError ... if it is not one)."""
    _, character, k = str(row["decision"]).split("-")  # tick-character-k, as the hall names it
    int(character), int(k)
    gossip = row.get("gossip")
    return Choice(
        decision=str(row["decision"]),
        action=Action(ACTION_NAMES.index(row["action"])),
        words=str(row.get("words", "")),
        give=tuple(row["give"]) if row.get("give") else None,  # type: ignore[arg-type]
        want=tuple(row["want"]) if row.get("want") else None,  # type: ignore[arg-type]
        gossip_subject=int(gossip[0]) if gossip else None,
        gossip_claim=int(gossip[1]) if gossip else 0,
    )


class PlayerLog:
    """The writer, kept by a served world's hall."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE
        self._f: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def _line(self, data: dict[str, Any]) -> None:
        if self._f is not None:
            self._f.write(json.dumps(data, separators=(",", ":")) + "\n")
            self._f.flush()  # a world stopped at any moment keeps what its players did

    def seeks(self, tick: int, pairs: Iterable[tuple[int, int]]) -> None:
        self._line({"tick": tick, "seeks": [list(p) for p in pairs]})

    def answers(self, tick: int, claimed: Iterable[int], answered: list[Choice]) -> None:
        self._line(
            {
                "tick": tick,
                "claimed": sorted(claimed),
                "answers": [choice_row(c) for c in answered],
            }
        )

    def intervention(self, tick: int, event: dict[str, Any]) -> None:
        """An operator's event, set off before `tick` began."""
        self._line({"tick": tick, "event": event})

    def rewind(self, tick: int) -> None:
        """Keep only what happened up to `tick` (the world went back to its checkpoint of
        `tick`; what the players do from there is written again as it happens)."""
        if self._f is None:
            return
        self._f.close()
        kept = [
            line
            for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.endswith("\n") and int(json.loads(line)["tick"]) <= tick
        ]
        part = self.path.with_name(self.path.name + ".part")
        part.write_text("".join(kept), encoding="utf-8")
        part.replace(self.path)
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


@dataclasses.dataclass
class PlayedTick:
    claimed: set[int] = dataclasses.field(default_factory=set)
    answers: list[Choice] = dataclasses.field(default_factory=list)
    seeks: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # set off before it


def read_players(folder: Path) -> dict[int, PlayedTick]:
    """A served run's record of its players, by tick."""
    path = folder / FILE
    if not path.is_file():
        raise RunFolderError(
            f"--players-replay {folder}: no {FILE} there; give the folder of a run served with "
            f"`socius serve` (runs served before this record existed cannot be replayed)"
        )
    ticks: dict[int, PlayedTick] = collections.defaultdict(PlayedTick)
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                t = ticks[int(data["tick"])]
                t.seeks.extend((int(c), int(o)) for c, o in data.get("seeks", []))
                t.claimed.update(int(c) for c in data.get("claimed", []))
                t.answers.extend(choice_of(a) for a in data.get("answers", []))
                if "event" in data:
                    t.events.append(dict(data["event"]))
            except (ValueError, KeyError, TypeError, IndexError, ChoiceError) as err:
                if not line.endswith("\n"):
                    break  # the last line of a world killed while writing it: not played
                raise RunFolderError(
                    f"--players-replay {folder}: {FILE} line {n} is not a player record "
                    f"({type(err).__name__}: {err}); the file was changed or damaged"
                ) from None
    return dict(ticks)


class Overlay:
    """A decide hook that lays players' answers over an inner mind's (the LLM mind, or each
    shard's own minds); the runtime's optional hook methods pass on to the inner mind."""

    def __init__(self, inner: Decide | None) -> None:
        self.inner = inner

    def decide_inner(self, work: list[tuple[Shard, Pending]]) -> list[Decisions]:
        return self.inner(work) if self.inner is not None else [s.decide(p) for s, p in work]

    def stats(self) -> dict[str, float]:
        inner = getattr(self.inner, "stats", None)
        return inner() if inner is not None else {}

    def restored(self, shard: Shard) -> None:
        inner = getattr(self.inner, "restored", None)
        if inner is not None:
            inner(shard)

    def close(self) -> None:
        inner = getattr(self.inner, "close", None)
        if inner is not None:
            inner()


def add_seeks(shard: Shard, calls: Calls, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Shard.visits: the encounters this shard's characters sought out (in character order);
    returns the pairs added."""
    mine = sorted(p for p in pairs if shard.placement.shard_of(p[0]) == shard.index)
    if mine:
        local = shard.placement.row(np.array([c for c, _ in mine], np.int64))
        calls.add(Situation.ENCOUNTER, local, np.array([o for _, o in mine], np.int64))
    return mine


def _character(choice: Choice) -> int:
    return int(choice.decision.split("-")[1])


class RecordedPlayers(Overlay):
    """The players of a recorded served run, acting again as they did (`socius run
    --players-replay RUN`). In process it is the runtime's decide hook; a Ray shard actor
    `lay`s its own shard's answers. Either way set `visits` as each shard's `visits` hook."""

    def __init__(
        self,
        folder: Path,
        inner: Decide | None = None,
        ticks: dict[int, PlayedTick] | None = None,
    ) -> None:
        """`ticks`: the record of `folder`, if already read."""
        super().__init__(inner)
        self.folder = folder
        self.ticks = ticks if ticks is not None else read_players(folder)
        #: the operator's interventions, in the order they were set off
        self.events = [e for t in sorted(self.ticks) for e in self.ticks[t].events]

    def visits(self, shard: Shard, tick: int, calls: Calls) -> None:
        played = self.ticks.get(tick)
        if played is not None:
            add_seeks(shard, calls, played.seeks)

    def __call__(self, work: list[tuple[Shard, Pending]]) -> list[Decisions]:
        decided = self.decide_inner(work)
        for (shard, pending), decisions in zip(work, decided, strict=True):
            self.lay(shard, pending, decisions)
        return decided

    def lay(self, shard: Shard, pending: Pending, decisions: Decisions) -> None:
        """The recorded answers of this shard's played characters, over `decisions`."""
        played = self.ticks.get(pending.tick)
        if played is None:
            return
        waiting = waiting_for(shard, pending, played.claimed)
        by_id = {w.id: w for w in waiting}
        answers: dict[str, Choice] = {}
        for choice in played.answers:
            w = by_id.get(choice.decision)
            if w is None:
                if shard.placement.shard_of(_character(choice)) == shard.index:
                    self._unfit(pending.tick, choice, "no such decision in this world")
                continue  # another shard's character
            try:
                check(choice, w)
            except ChoiceError as err:
                self._unfit(pending.tick, choice, str(err))
            answers[choice.decision] = choice
        lay_answers(pending, decisions, waiting, answers)

    def _unfit(self, tick: int, choice: Choice, why: str) -> None:
        raise RunFolderError(
            f"--players-replay {self.folder}: tick {tick}, decision {choice.decision} "
            f"({ACTION_NAMES[choice.action]}): {why}. The record fits only the scenario, seed "
            f"and LLM answers it was played with: run {self.folder}/scenario.yaml, with "
            f"--llm-replay {self.folder} if its characters thought with a model"
        )
