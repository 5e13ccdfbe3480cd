"""The view's side of a world: what it keeps of the ticks (the latest frame, the figures of
every tick, the recent events) and how it reads the shards.

`Watch.ticked` is the driver's per-tick hook (`Driver(..., watchers=[...])`): it runs in the
world's own thread right after a tick, reads the shards once, keeps the frame and hands the
pages their message. Reading a character for a panel must not meet a tick half-way, so it goes
through a `Door`: `Locked` (a served world's lock, or a recorded run's) reads at once;
`BetweenTicks` (a run driven at full speed, which holds no lock) hands the read to the world's
thread, which does it after the tick it is in, or at once when the world has stopped.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from actors.served.view.events import events_of
from actors.served.view.lines import Hub, Pass
from actors.served.view.scene import Frame, Roster, changed, frame_of
from world.scenario import Scenario
from world.shard import Shard
from world.stats import TickStats
from world.wire import concat

T = TypeVar("T")
#: Events kept for new pages and for characters' timelines.
FEED = 1000
#: Ticks of figures kept for the charts.
HISTORY = 5000


class Door(Protocol):
    """How to read the shards without meeting a tick half-way."""

    def read(self, fn: Callable[[], T]) -> T: ...


class Locked:
    """Reads holding `lock` (a served world's `Hall.world`)."""

    def __init__(self, lock: threading.Lock | None = None) -> None:
        self.lock = lock or threading.Lock()

    def read(self, fn: Callable[[], T]) -> T:
        with self.lock:
            return fn()


class BetweenTicks:
    """Reads done by the world's thread between its ticks (`serve_pending`), or at once once
    the world has stopped ticking (`stopped`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: collections.deque[tuple[Callable[[], Any], concurrent.futures.Future[Any]]]
        self.pending = collections.deque()
        self.idle = False

    def read(self, fn: Callable[[], T]) -> T:
        with self.lock:
            if self.idle:
                return fn()
            done: concurrent.futures.Future[T] = concurrent.futures.Future()
            self.pending.append((fn, done))
        return done.result()

    def serve_pending(self) -> None:
        """Do the reads asked for (the world's thread, between ticks)."""
        with self.lock:
            while self.pending:
                fn, done = self.pending.popleft()
                try:
                    done.set_result(fn())
                except Exception as err:
                    done.set_exception(err)

    def stopped(self) -> None:
        """The world ticks no more: do what waits, then read at once from now on."""
        self.serve_pending()
        with self.lock:
            self.idle = True


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def involves(event: dict[str, Any], character: int | None) -> bool:
    return character is not None and character in (event["from"], event["to"])


class Watch:
    """The latest frame, the figures' history and the recent events of a world."""

    def __init__(
        self,
        sc: Scenario,
        shards: Callable[[], Sequence[Shard]],
        figures: Callable[[TickStats], dict[str, Any]],
        door: Door,
        hub: Hub | None = None,
        world: dict[str, Any] | None = None,
        folder: Path | None = None,
    ) -> None:
        """`folder`: the run folder (a model's traces, for the panels)."""
        self.scenario = sc
        self.shards = shards
        self.figures = figures
        self.door = door
        self.folder = folder
        self.hub = hub or Hub()
        self.roster = Roster.of(sc)
        self.public = dumps(self.roster.public())  # the same for every page, made once
        self.world = {"name": sc.name, "ticks": sc.ticks, "size": sc.population.size}
        self.world.update(world or {})
        self.lock = threading.Lock()
        self.frame: Frame | None = None
        self.history: collections.deque[dict[str, Any]] = collections.deque(maxlen=HISTORY)
        self.feed: collections.deque[dict[str, Any]] = collections.deque(maxlen=FEED)
        self.counts: dict[str, int] = {}
        self.tick = 0
        self.ended = ""

    # --- the world's thread ---------------------------------------------------------------

    def look(self, tick: int, figures: dict[str, Any] | None) -> dict[str, Any]:
        """Read the shards as they stand after `tick`; keep the frame; returns the tick's
        message for pages that see everything."""
        shards = self.shards()
        frame = frame_of(shards, self.roster, tick)
        before = self.frame
        moved = changed(before, frame, self.roster.sample)
        events, counts = events_of(concat(s.outbox for s in shards), tick, self.roster.names)
        with self.lock:
            self.frame, self.tick, self.counts = frame, tick, counts
            if figures is not None:
                self.history.append({"tick": tick, **figures})
            self.feed.extend(events)
        return {
            "type": "tick",
            "tick": tick,
            "figures": figures,
            "people": frame.people(moved),
            "edges": frame.edges,
            "aggregates": frame.aggregates(self.roster),
            "events": events,
            "counts": counts,
        }

    def ticked(self, tick: int, stats: TickStats) -> None:
        """The driver's hook: after every tick."""
        full = self.look(tick, self.figures(stats))

        def version(grant: Pass) -> str:  # made in the view's thread, once per kind of page
            return dumps(full if grant.sees_all else self.for_player(full, grant.character))

        self.hub.publish(version)
        if isinstance(self.door, BetweenTicks):
            self.door.serve_pending()

    def end(self, reason: str) -> None:
        """The world stopped ticking (its pages stay open)."""
        self.ended = reason
        if isinstance(self.door, BetweenTicks):
            self.door.stopped()
        self.hub.publish(lambda grant: dumps({"type": "ended", "reason": reason}))

    # --- what pages get -------------------------------------------------------------------

    @staticmethod
    def for_player(message: dict[str, Any], character: int | None) -> dict[str, Any]:
        """A tick's message as a player may see it: the figures, and only the events its own
        character took part in (no one's goods, health or trust)."""
        return {
            "type": "tick",
            "tick": message["tick"],
            "figures": message["figures"],
            "events": [e for e in message["events"] if involves(e, character)],
        }

    def snapshot(self, grant: Pass) -> str:
        """Everything a page that just connected (or fell behind) needs, as `grant` sees it."""
        with self.lock:
            frame, feed = self.frame, list(self.feed)
            history = list(self.history)
            out: dict[str, Any] = {
                "type": "snapshot",
                "tick": self.tick,
                "world": self.world,
                "history": history,
                "ended": self.ended,
            }
        if grant.sees_all:
            out["events"] = feed[-300:]
            out["counts"] = self.counts
            if frame is not None:
                out["people"] = frame.people(self.roster.sample)
                out["edges"] = frame.edges
                out["aggregates"] = frame.aggregates(self.roster)
        else:
            out["events"] = [e for e in feed if involves(e, grant.character)][-300:]
        body = dumps(out)
        return body[:-1] + ',"roster":' + self.public + "}"

    def timeline(self, character: int) -> list[dict[str, Any]]:
        """The recent events `character` took part in, oldest first."""
        with self.lock:
            return [e for e in self.feed if involves(e, character)][-40:]
