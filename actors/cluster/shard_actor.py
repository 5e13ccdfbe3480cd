"""A Ray actor hosting one `world.Shard` (`ShardActor`, running a `ShardHost`; on one machine
the driver runs shard 0's `ShardHost` itself: actors/cluster/driver_shard.py).

Each tick its node's post (actors/cluster/post.py) calls `step(t, mail)` once, with the
batches other shards sent it in tick t-1. The shard adds the batch it kept for its own
characters, steps, writes its outgoing batches to its journal, keeps the batch for its own
characters again and returns the rest with its tick statistics: the post carries them, gathered
per node, to the posts of the shards they are for, which hold them for those shards' next
`step` (payloads never pass through the coordinator). So a tick costs a shard one call.

A served world's tick (`socius serve --runtime ray`) comes in two halves instead: `begin`
prepares it, lets the minds decide and returns what the shard's played characters perceive and
must decide (`begin` brings the mail, as `step` does); `end` lays the players' answers over
the minds' and settles, journals and returns the tick's mail as `step` does.

The actor is a threaded one: its methods run on threads of Ray's, not on an event loop. A
call costs its process less so (measured: 1.9-2.1 against 2.9-3.5 ms of CPU for a round of calls
to two actors, a tick's worth at 10,000 characters). Whatever reads or changes the shard runs
on one thread (the `shard` concurrency group), in the order called (a restore waits for a step
still running): the same thread every tick, whose memory the allocator keeps (spread over
Ray's threads, a 10,000-character world's two shards took 170 page faults a tick against 37,
and stepped 10% slower). A liveness check, a look at the shard's state and closing it run on
the other threads, free while a step runs. Minds that ask a model (`inference.think.Thinker`)
await its answers on an event loop of the actor's own, in a thread of its own (`Loop`).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import ray

from actors.cluster.gateway_actor import Replicas
from actors.cluster.post import Parcel
from inference.backends.replay import ReplayBackend
from inference.connect import Target
from inference.gateway import Gateway
from inference.think import Thinker
from inference.traces import trace_path
from world.events import parse_event
from world.journal import JournalWriter
from world.journal_mode import FULL, Kept
from world.player_record import RecordedPlayers, add_seeks
from world.players import Choice, Opened, Waiting, lay_answers, open_for
from world.record import (
    checkpoint_path,
    journal_path,
    read_shard_snapshot,
    shard_snapshot_name,
    write_shard_snapshot,
)
from world.runtime import make_shard
from world.scenario import parse_scenario
from world.shard import Decisions, Pending, Shard, StepResult
from world.shard_base import BaseShard
from world.store import Store
from world.wire import Mail

T = TypeVar("T")

#: A shard actor's concurrency groups: one thread for whatever reads or changes its shard
GROUPS = {"shard": 1}
#: Its other threads (its max_concurrency): a liveness check, a look at the shard's state, closing
THREADS = 2


class Loop:
    """An event loop in a thread of its own, started when first asked: where a shard actor's
    minds await a model's answers (its methods run on Ray's threads, outside any loop). Asked
    from the shard's one thread only."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """`work` run on the loop; its result, once it ends."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, daemon=True).start()
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()


class ShardHost:
    """What hosts one shard: a Ray actor's body (`ShardActor`), or, on one machine, the
    driver's own shard (actors/cluster/driver_shard.py)."""

    def __init__(
        self,
        scenario: dict[str, Any],
        index: int,
        n_shards: int,
        folder: str | None,
        llm: dict[str, Any] | None = None,
        players: str | None = None,
        journal: dict[str, Any] | None = None,
    ) -> None:
        """`journal`: what the run's journal keeps (world/journal_mode.py `Kept.to_json`)."""
        sc = parse_scenario(scenario, source="coordinator")
        self.shard = make_shard(sc, index, n_shards)
        #: the shard as a village's, when something else decides for its characters (a model,
        #: recorded players); a classic game's shard decides inside its step
        self.village: Shard | None = None
        self.players = RecordedPlayers(Path(players)) if players else None  # --players-replay
        if self.players is not None:
            self.village = village_of(self.shard)
            self.village.visits = self.players.visits
            for event in self.players.events:
                self.village.add_event(parse_event(event))
        self.index = index
        #: the run folder: a path every node sees, or an object store this node stages for
        self.store = Store(folder) if folder else None
        self.folder = self.store.local if self.store is not None else None
        self.kept = Kept.from_json(journal) if journal is not None else Kept(FULL)
        self.journal = self._open_journal()
        #: tick -> the mail this shard kept for its own characters then (as it is, or as the
        #: batch a restored shard routes again)
        self.inbox: dict[int, list[bytes | Mail]] = {}
        #: the last checkpoint's snapshot, kept: a recovery rolls a surviving shard back to it
        #: without reading it again (only the actors that were lost start from the files)
        self.kept_state: tuple[int, dict[str, Any]] | None = None
        self.loop = Loop()  # where the minds await a model
        #: CPU seconds its steps took on the thread that ran them, their mail serialized
        #: included: the rest of the process's CPU is Ray's (bench/ray_throughput.py)
        self.worked = 0.0
        #: a served tick between `begin` and `end`: its pending work, the minds' decisions, the
        #: players' waiting decisions and the seconds spent so far
        self._open: tuple[Pending, Decisions, list[Waiting], float] | None = None
        self.thinker: Thinker | None = None
        self._replay_gateway: Gateway | None = None
        if llm is not None:
            self.village = village_of(self.shard)
            target: Target = llm["target"]
            replay = None
            if target.kind == "replay":
                mine = set(self.shard.chars.cid[: len(self.shard.chars)].tolist())
                replay = ReplayBackend(target.where[0], actors=mine)
                self._replay_gateway = Gateway(replay, concurrency=1 << 16)
                ask = self._replay_gateway.ask
            else:
                ask = Replicas(llm["gateways"]).ask
            self.thinker = Thinker(
                sc,
                ask,
                context_length=int(llm["context_length"]),
                n_shards=n_shards,
                folder=self.folder,
                replay=replay,
            )

    def _open_journal(self) -> JournalWriter | None:
        if self.folder is None:
            return None
        journal_path(self.folder, self.index).parent.mkdir(parents=True, exist_ok=True)
        return self.kept.writer(journal_path(self.folder, self.index))

    def _mine(self, tick: int | None = None) -> list[Path]:
        """This shard's files in the run folder: its journal, its traces and (of `tick`) its
        checkpoint snapshot."""
        assert self.folder is not None
        files = [journal_path(self.folder, self.index), trace_path(self.folder, self.index)]
        if tick is not None:
            files.append(checkpoint_path(self.folder, tick) / shard_snapshot_name(self.index))
        return files

    def _rel(self, path: Path) -> str:
        assert self.folder is not None
        return path.relative_to(self.folder).as_posix()

    def ready(self) -> dict[str, Any]:
        """Where this shard lives: its process and node (for placement checks and tests), and
        the CPU its steps took so far (`worked`)."""
        ctx = ray.get_runtime_context()
        return {
            "pid": os.getpid(),
            "node": ctx.get_node_id(),
            "tick": self.shard.tick,
            "characters": len(self.shard.chars),
            "worked": self.worked,
        }

    def state(self) -> dict[str, Any]:
        """Everything this shard knows now (a look from outside: the browser's view)."""
        return self.shard.get_state()

    def sees(self, mark: str, token: str) -> bool:
        """Whether this node sees the driver's run folder: its `mark` file holds `token`."""
        if self.folder is None:
            return True
        try:
            return (self.folder / mark).read_text() == token
        except OSError:
            return False

    def _take(self, tick: int, mail: list[bytes]) -> list[bytes | Mail]:
        """The inbox of `tick`: the mail kept for this shard's own characters in tick - 1,
        and the mail other shards sent them then (brought by the post)."""
        return [*self.inbox.pop(tick - 1, []), *mail]

    def _parcels(
        self, tick: int, shares: Mapping[int, bytes | Mail], serialized: Callable[[int], bytes]
    ) -> list[Parcel]:
        """The share for this shard's own characters kept, as it is, for its next tick (never
        serialized for them: most of the mail, characters being placed beside those they
        meet); the others, `serialized`, for the post to carry."""
        mine = shares.get(self.index)
        if mine is not None:
            self.inbox.setdefault(tick, []).append(mine)
        return [(d, serialized(d)) for d in shares if d != self.index]

    @ray.method(concurrency_group="shard")
    def step(self, tick: int, mail: list[bytes]) -> dict[str, Any]:
        """Step `tick` with the mail other shards sent this shard in tick - 1; returns the
        tick's statistics (`stats`) and the batches for other shards (`parcels`)."""
        if tick != self.shard.tick + 1:
            raise RuntimeError(
                f"shard {self.index} is at tick {self.shard.tick} and was asked to step tick {tick}"
            )
        cpu = time.thread_time()
        try:
            return self._step(tick, self._take(tick, mail))
        finally:
            self.worked += time.thread_time() - cpu

    def _step(self, tick: int, inbox: list[bytes | Mail]) -> dict[str, Any]:
        t0 = time.perf_counter()
        village = self.village
        if village is None:
            result = self.shard.step(inbox)
        else:
            self._start_replay()
            pending = village.prepare(inbox)
            decided = self._decide(village, pending)
            if self.players is not None:
                self.players.lay(village, pending, decided)
            result = village.finish(pending, decided)
        parcels = self._finished(tick, result, time.perf_counter() - t0)
        return {"stats": result.stats.to_dict(), "parcels": parcels}

    def _decide(
        self, village: Shard, pending: Pending, skip: np.ndarray | None = None
    ) -> Decisions:
        """The minds' decisions, and the model's where it is asked (not for the rows of
        `skip`: players answer those first)."""
        if self.thinker is not None:
            return self.loop.run(self.thinker.think(village, pending, skip))
        return village.decide(pending)

    def _start_replay(self) -> None:
        """The gateway over the recorded answers of a replayed model, started on the minds'
        loop."""
        if self._replay_gateway is not None and self._replay_gateway._slots is None:
            self.loop.run(self._replay_gateway.start())

    def _finished(self, tick: int, result: StepResult, seconds: float) -> list[Parcel]:
        """A stepped tick journaled; its mail for other shards, to be carried."""
        result.stats.observe_step(seconds)
        if self.journal is not None:
            for payload in result.journaled():
                self.journal.write(payload)
            self.journal.flush()
        return self._parcels(tick, result.mail, result.batch)

    # --- a tick with players (socius serve): `begin`, the hall waits for them, `end` ---------

    @ray.method(concurrency_group="shard")
    def begin(
        self, tick: int, players: list[int], seeks: list[tuple[int, int]], mail: list[bytes]
    ) -> Opened:
        """The first half of a served tick: the encounters the players seek added, the tick
        prepared and its minds' decisions made (a model is not asked for the played rows
        yet); returns what the played characters perceive and must decide."""
        if tick != self.shard.tick + 1:
            raise RuntimeError(
                f"shard {self.index} is at tick {self.shard.tick} and was asked to begin {tick}"
            )
        village = village_of(self.shard)
        self._start_replay()
        inbox = self._take(tick, mail)
        t0 = time.perf_counter()
        sought: list[tuple[int, int]] = []
        village.visits = lambda shard, _, calls: sought.extend(add_seeks(shard, calls, seeks))
        try:
            pending = village.prepare(inbox)
        finally:
            village.visits = None
        opened = open_for(village, pending, players)
        opened.seeks = sought
        played = np.array([w.row for w in opened.waiting], np.int64)
        decided = self._decide(village, pending, played)
        self._open = (pending, decided, opened.waiting, time.perf_counter() - t0)
        return opened

    @ray.method(concurrency_group="shard")
    def end(self, tick: int, answers: dict[str, Choice]) -> dict[str, Any]:
        """The second half: the players' answers laid over the minds' (a model decides for the
        quiet players first), the tick settled and journaled. Returns its statistics, what
        each waiting decision became and the batches for other shards (as `step` does)."""
        if self._open is None or self._open[0].tick != tick:
            raise RuntimeError(f"shard {self.index} has no tick {tick} begun to end")
        village = village_of(self.shard)
        pending, decided, waiting, spent = self._open
        self._open = None
        t0 = time.perf_counter()
        if self.thinker is not None:
            left = np.array([w.row for w in waiting if w.id not in answers], np.int64)
            if len(left):
                self.loop.run(self.thinker.again(village, pending, decided, left))
        lay_answers(pending, decided, waiting, answers)
        result = village.finish(pending, decided)
        parcels = self._finished(tick, result, spent + time.perf_counter() - t0)
        actions = {w.id: int(decided.actions[w.row]) for w in waiting}
        return {"stats": result.stats.to_dict(), "actions": actions, "parcels": parcels}

    @ray.method(concurrency_group="shard")
    def add_event(self, event: Any) -> None:
        """An operator's event, set off live between ticks."""
        village_of(self.shard).add_event(event)

    @ray.method(concurrency_group="shard")
    def checkpoint(self, tick: int) -> int:
        """Write this shard's snapshot into the checkpoint of `tick`; returns the journal's
        size, to be recorded in the manifest."""
        assert self.folder is not None and tick == self.shard.tick
        state = self.shard.get_state()
        write_shard_snapshot(self.folder, tick, state)
        self.kept_state = (tick, state)
        size = 0
        if self.journal is not None:
            self.journal.flush()
            size = self.journal.tell()
        if self.thinker is not None:
            self.thinker.flush()
        if self.store is not None:  # uploads to an object store; nothing for a folder
            self.store.push(self._mine(tick))
        return size

    @ray.method(concurrency_group="shard")
    def restore(self, tick: int, journal_size: int) -> str:
        """Load this shard's snapshot of `tick` and cut its journal back to match: the one it
        kept in memory if it wrote it (a surviving actor), else from the run folder (an actor
        started to replace a lost one, or a resume). Returns which ("memory" or "files")."""
        assert self.folder is not None
        return self._restore(tick, journal_size)

    def _restore(self, tick: int, journal_size: int) -> str:
        assert self.folder is not None
        kept = self.kept_state
        if kept is not None and kept[0] == tick:
            source = "memory"
            self.shard.set_state(kept[1])
        else:
            source = "files"
            if self.store is not None and self.store.remote:  # this node may not have them
                if self.journal is not None:
                    self.journal.close()
                self.store.pull(*(self._rel(p) for p in self._mine(tick)))
                self.journal = self._open_journal()
            self.shard.set_state(read_shard_snapshot(self.folder, tick, self.index))
        if self.thinker is not None:
            self.thinker.restored(village_of(self.shard))
        if self.journal is not None:
            self.journal.truncate_to(journal_size)
        self.inbox = {}
        self._open = None
        return source

    @ray.method(concurrency_group="shard")
    def redeliver(self) -> tuple[int, list[Parcel]]:
        """The mail of the restored tick, as it was sent the first time: the batch for this
        shard's own characters kept again, the rest returned with the tick for the post to
        carry."""
        tick = self.shard.tick
        batches = self.shard.pending_mail()
        return tick, self._parcels(tick, batches, batches.__getitem__)

    @ray.method(concurrency_group="shard")
    def digest_parts(self) -> dict[str, Any]:
        return self.shard.digest_parts()

    def close(self) -> None:
        """Flush and release what it holds: on one of its other threads, so that a run that
        stops while a step waits (a tick timeout) closes at once, as the actor is ended next."""
        if self.thinker is not None:
            self.thinker.close()
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self.store is not None:
            self.store.push(self._mine())

    def exit_process(self) -> None:
        """Fault injection for tests and drills: the actor's process exits at once."""
        os._exit(1)


# (Ray's typed overloads of `remote` leave out an actor's concurrency options)
ShardActor = ray.remote(concurrency_groups=GROUPS, max_concurrency=THREADS)(  # type: ignore[call-overload]
    ShardHost
)


def village_of(shard: BaseShard) -> Shard:
    """The shard as a village's: only a village's characters have minds to ask."""
    if not isinstance(shard, Shard):
        raise TypeError(f"{shard.scenario.name} plays a classic game: nothing decides for it")
    return shard
