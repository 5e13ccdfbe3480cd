"""The Ray runtime: shards as Ray actors on one machine or a cluster, surviving faults.

The coordinator (this object, in the driver) makes one `tick` call per node per tick, to the
node's post (actors/cluster/post.py), which steps the node's shard actors, carries their mail
gathered per node and returns their statistics summed; it merges those. When every shard actor
is on the driver's node, the driver is the post (`DriverPost`) and calls the shards itself,
and steps shard 0 itself beside them (actors/cluster/driver_shard.py).
Every K ticks each shard writes a snapshot and the coordinator a manifest. When a shard actor
or its node dies, the coordinator replaces the lost shard actors (on whatever nodes are alive)
and every post, restores the last complete checkpoint (survivors from memory, new actors from
the run folder), and replays from there: the final digest is the one the uninterrupted run
would have had, and the run's figures count the recovery.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import ray
from ray import exceptions as rex
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from actors.cluster.connect import ActorPlacement, actor_cpus, connect
from actors.cluster.driver_shard import DriverShard, gather
from actors.cluster.gateway_actor import Gateways
from actors.cluster.lifecycle import close_actors, is_fault, root_cause
from actors.cluster.post import DriverPost, Post
from actors.cluster.shard_actor import ShardActor, ShardHost
from world.digest import state_digest
from world.errors import RunFolderError, SociusError
from world.players import Opened, Seats
from world.record import RunRecord
from world.runtime import Runtime, make_shard
from world.scenario import Scenario
from world.shard import Shard
from world.stats import TickStats
from world.store import NODE_MARK

MAX_RECOVERIES_PER_TICK = 3
LIVENESS_TIMEOUT = 30.0  # seconds a shard actor has to answer, after a fault, to count as alive


def _answers(ref: Any) -> bool:
    """Whether a call that finished returned (rather than failed: its actor died)."""
    try:
        ray.get(ref)
    except rex.RayError:
        return False
    return True


def _one_machine() -> bool:
    """Whether the driver and every node of the cluster are one machine (not Ray Client)."""
    if ray.util.client.ray.is_connected():
        return False
    return sum(1 for n in ray.nodes() if n["Alive"]) == 1


class RunFault(SociusError):
    """A fault the run cannot recover from; the run folder keeps every whole tick."""

    exit_code = 1


class RayRuntime(Runtime):
    name = "ray"

    def __init__(
        self,
        scenario: Scenario,
        shards: int,
        record: RunRecord | None = None,
        checkpoint_every: int = 0,
        placement: ActorPlacement | None = None,
        llm: Gateways | None = None,
        players: Path | None = None,
        seats: Seats | None = None,
    ) -> None:
        """`players`: a served run whose players act again (--players-replay); `seats`: the
        players of a served world (socius serve's hall), who play each tick between the shards'
        `begin` and `end`."""
        super().__init__(scenario, shards, record, checkpoint_every)
        self.seats = seats
        self._set_off: list[int] = []  # the tick before which each live event was set off
        self.players = str(players.resolve()) if players is not None else None
        if not ray.is_initialized():
            connect()
        self.placement = placement or ActorPlacement()
        self.actors: list[Any] = []
        self.posts: list[Any] = []  # one per node hosting shard actors
        self.home: DriverPost | None = None  # the post, when all of them are on this node
        self.replaced = 0  # shard actors started again after faults
        self.restored_from: Counter[str] = Counter()  # the last restore: "memory" / "files"
        self._failures: dict[int, int] = {}  # faults per tick, over the whole run
        self.gateways = llm
        self.llm = llm.for_shards() if llm is not None else None
        self._copies: tuple[int, list[Shard]] | None = None  # see `copies`
        self._moves = 0  # times the shards' states changed: each tick, and each served `begin`
        #: whether the driver steps shard 0 itself (actors/cluster/driver_shard.py)
        self.hosts = self.llm is None and self.n_shards > 1 and _one_machine()
        self._spawn()

    def copies(self) -> list[Shard]:
        """Copies of the village's shards as they stand, made in this process from their
        actors' states (fetched once per tick, and once more while a served tick waits for its
        players): a look from outside that changes nothing (the browser's view of a run on Ray,
        a player's look at its character)."""
        if self._copies is None or self._copies[0] != self._moves:
            states = self._get([a.state.remote() for a in self.actors])
            shards = []
            for i, state in enumerate(states):
                shard = make_shard(self.scenario, i, self.n_shards)
                if not isinstance(shard, Shard):
                    raise TypeError(f"scenario {self.scenario.name} plays a classic game")
                shard.set_state(state)
                shards.append(shard)
            self._copies = (self._moves, shards)
        return self._copies[1]

    def inference_stats(self) -> dict[str, float]:
        """The gateway replicas' figures, summed (batches, queue peak, prefix cache ...)."""
        out: dict[str, float] = {}
        handles = self.gateways.handles if self.gateways is not None else []
        for part in self._get([g.stats.remote() for g in handles]):
            for k, v in part.items():
                out[k] = (
                    max(out.get(k, 0), v) if k.endswith(("_max", "_peak")) else out.get(k, 0) + v
                )
        return out

    # --- actors -----------------------------------------------------------------------------

    def _spawn(self, indexes: list[int] | None = None) -> None:
        """Start the shard actors `indexes` (every one by default; a recovery replaces only
        the lost ones), then a post for each node they are on."""
        data = self.scenario.model_dump()
        folder = self.record.where if self.record is not None else None
        kept = self.record.kept.to_json() if self.record is not None else None
        cpus = actor_cpus(self.placement, self.n_shards, ray.cluster_resources().get("CPU", 1))
        opts: dict[str, Any] = {
            "num_cpus": cpus,
            "scheduling_strategy": "SPREAD" if self.placement.strategy == "SPREAD" else "DEFAULT",
            "max_restarts": 0,
        }
        if self.placement.resources:
            opts["resources"] = dict(self.placement.resources)
        if self.hosts:  # every actor on this machine, where the driver's shard is
            here = ray.get_runtime_context().get_node_id()
            opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(here, soft=False)
        if indexes is None:
            indexes = list(range(self.n_shards))
            self.actors = [None] * self.n_shards
        for i in indexes:
            args = (data, i, self.n_shards, folder, self.llm, self.players, kept)
            if i == 0 and self.hosts:
                self.actors[i] = DriverShard(ShardHost(*args))
            else:
                self.actors[i] = ShardActor.options(**opts).remote(*args)  # type: ignore[attr-defined]
        # starting actors is not a tick: --tick-timeout does not limit it (a new process imports
        # numpy and loads the compiled kernels, which takes its time on a busy machine)
        self._open_posts([w["node"] for w in gather([a.ready.remote() for a in self.actors], None)])
        self.check_folder()

    def _open_posts(self, nodes: list[str]) -> None:
        """One post on each node that hosts shard actors, each told who is where; or the
        driver's own, when they are all on the driver's node (not through Ray Client)."""
        order = list(dict.fromkeys(nodes))  # the nodes, in the order of their first shard
        here = not ray.util.client.ray.is_connected()
        if here and order == [ray.get_runtime_context().get_node_id()]:
            self.home, self.posts = DriverPost(self.actors, self._get), []
            return
        self.home = None
        self.posts = [
            Post.options(  # type: ignore[attr-defined]
                num_cpus=0,
                max_restarts=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
            ).remote(node)
            for node in order
        ]
        post_of = [order.index(node) for node in nodes]
        ray.get(
            [
                post.route.remote(
                    p,
                    {i: a for i, a in enumerate(self.actors) if post_of[i] == p},
                    post_of,
                    self.posts,
                )
                for p, post in enumerate(self.posts)
            ]
        )

    def pids(self) -> list[int]:
        """The processes of every shard and post actor (for CPU accounting; the driver's own,
        for the shard it hosts)."""
        return [w["pid"] for w in self._get([a.ready.remote() for a in self.actors + self.posts])]

    def post_counts(self) -> list[dict[str, int]]:
        """Each post's figures so far (bundles to other nodes, parcels, deliveries, flushes)."""
        return self._at_posts("counts")

    def _at_posts(self, method: str, *args: Any) -> list[Any]:
        """`method(*args)` of every post (of the driver's, if it is the post), in post order."""
        if self.home is not None:
            return [getattr(self.home, method)(*args)]
        return self._get([getattr(p, method).remote(*args) for p in self.posts])

    def check_folder(self) -> None:
        """Every shard actor sees the run folder the driver writes (a local path must be on
        a filesystem every node shares): the driver leaves a token in it, each actor reads
        it. An object store needs no such check (each node stages its own files)."""
        if self.record is None or self.record.store is not None:
            return
        mark = self.record.folder / NODE_MARK
        if not mark.exists():
            mark.write_text(uuid.uuid4().hex)
        token = mark.read_text()
        seen = self._get([a.sees.remote(NODE_MARK, token) for a in self.actors])
        blind = [k for k, ok in enumerate(seen) if not ok]
        if blind:
            node = self._get([self.actors[blind[0]].ready.remote()])[0]["node"]
            raise RunFolderError(
                f"the run folder {self.record.where} is not the same folder on node "
                f"{node[:12]} (shard {blind[0]}): every node must see it at that path (a "
                f"shared filesystem), or give --out s3://BUCKET/PREFIX"
            )

    def where(self) -> list[dict[str, Any]]:
        """Each shard's process and node (the driver's, for the shard it hosts)."""
        return self._get([a.ready.remote() for a in self.actors])

    def _get(self, refs: list[Any]) -> list[Any]:
        return gather(refs, timeout=self.placement.tick_timeout)

    def close(self) -> None:
        for a in self.actors:
            if isinstance(a, DriverShard):
                a.host.close()
        close_actors([a for a in self.actors if not isinstance(a, DriverShard)], timeout=30)
        close_actors(self.posts, timeout=30)
        self.actors, self.posts, self.home = [], [], None
        if self.gateways is not None:
            self.gateways.stop()

    # --- Runtime ----------------------------------------------------------------------------

    def _step_shards(self, tick: int) -> list[TickStats]:
        try:
            if self.seats is not None:
                return self._play_shards(tick, self.seats)
            # each node's post steps its shards, delivers their mail and sums their statistics
            return self._at_posts("tick", tick)
        finally:
            self._moves += 1  # a copy made during the tick is out of date

    def _play_shards(self, tick: int, seats: Seats) -> list[TickStats]:
        """A served tick: each shard prepares it and its minds decide (`begin`, through the
        posts); the players answer the decisions of the characters they play (the hall, in this
        process); each shard lays their answers over its minds', settles and sends its mail
        (`end`). If the tick fails, its decisions are withdrawn from the players."""
        players, seeks = seats.seating()
        opened: list[Opened] = []
        actions: dict[str, int] | None = None
        try:
            for part in self._at_posts("begin", tick, players, seeks):
                opened.extend(part)
            opened.sort(key=lambda o: o.shard)
            self._moves += 1  # prepared: what the players look at while they decide
            answers = seats.play(tick, opened)
            ends = self._at_posts("end", tick, answers)
            actions = {k: v for e in ends for k, v in e["actions"].items()}
        finally:
            seats.played(tick, opened, actions)
        return [e["stats"] for e in ends]

    def _add_event(self, event: Any) -> None:
        self._get([a.add_event.remote(event) for a in self.actors])
        self._set_off.append(self.completed + 1)

    def _save_shards(self, tick: int) -> list[int]:
        return self._get([a.checkpoint.remote(tick) for a in self.actors])

    def _load_shards(self, manifest: dict[str, Any]) -> None:
        tick = int(manifest["tick"])
        sizes = manifest.get("journal_sizes") or [0] * self.n_shards
        try:
            sources = self._get(
                [a.restore.remote(tick, int(s)) for a, s in zip(self.actors, sizes, strict=True)]
            )
            self.restored_from = Counter(sources)
        except rex.RayTaskError as err:
            cause = root_cause(err)
            if isinstance(cause, SociusError):
                raise cause from None
            raise
        self._at_posts("forget")  # mail of the ticks undone
        self._at_posts("redeliver")
        self._moves += 1
        # live events set off after the checkpoint are gone with the ticks after it
        live = len(self.events) - len(self._set_off)
        kept = [t <= tick for t in self._set_off]
        self.events = self.events[:live] + [
            e for e, k in zip(self.events[live:], kept, strict=True) if k
        ]
        self._set_off = [t for t in self._set_off if t <= tick]

    def digest(self) -> str:
        return state_digest(self._get([a.digest_parts.remote() for a in self.actors]))

    def step(self) -> TickStats:
        """One tick; if a shard actor or its node dies, recover from the last checkpoint and
        go on (the tick returned is then the first one replayed)."""
        failures = self._failures
        while True:
            try:
                return super().step()
            except rex.GetTimeoutError:
                tick, limit = self.completed + 1, self.placement.tick_timeout
                raise RunFault(
                    f"tick {tick} took longer than --tick-timeout {limit:g} s (a shard, or the "
                    f"model it waits on, is stuck or slow); the run folder holds ticks "
                    f"1..{self.completed}: `socius resume RUN --tick-timeout SECONDS` continues "
                    f"with a longer limit (0: none)"
                ) from None
            except rex.RayError as err:
                if not is_fault(err):
                    cause = root_cause(err)
                    if isinstance(cause, SociusError):
                        raise cause from None
                    raise
                tick = self.completed + 1
                failures[tick] = failures.get(tick, 0) + 1
                if failures[tick] > MAX_RECOVERIES_PER_TICK:
                    raise RunFault(
                        f"tick {tick} failed {MAX_RECOVERIES_PER_TICK} times in a row "
                        f"({type(root_cause(err)).__name__}); giving up. The run folder holds "
                        f"ticks 1..{self.completed}; `socius resume` continues from its last "
                        f"checkpoint"
                    ) from None
                self.recover(err)

    def lost(self) -> list[int]:
        """The shard actors that no longer answer (dead, or on a node that is gone); never the
        driver's own shard."""
        refs = {
            i: a.ready.remote() for i, a in enumerate(self.actors) if not isinstance(a, DriverShard)
        }
        answered, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=LIVENESS_TIMEOUT)
        return [i for i, ref in refs.items() if ref not in answered or not _answers(ref)]

    def recover(self, err: BaseException) -> None:
        """Replace the shard actors that were lost (every one, if a model gateway had to be
        replaced: the survivors know the old one) and every post, and restore the last
        checkpoint: the surviving actors roll back to the snapshot they kept in memory, the
        new ones read it from the run folder."""
        if self.last_checkpoint is None or self.record is None:
            raise RunFault(
                f"a shard failed at tick {self.completed + 1} ({type(root_cause(err)).__name__})"
                f" and there is no checkpoint to recover from (checkpoints are off: use "
                f"--checkpoint-every K). The run folder holds ticks 1..{self.completed}"
            ) from None
        lost: list[int] | None = self.lost()
        if self.gateways is not None and self.gateways.respawn():
            self.llm = self.gateways.for_shards()
            lost = None
        replaced = list(range(self.n_shards)) if lost is None else lost
        for a in [*(self.actors[i] for i in replaced), *self.posts]:
            if isinstance(a, DriverShard):  # replaced with every shard: started again below
                a.host.close()
                continue
            with contextlib.suppress(rex.RayError):
                ray.kill(a, no_restart=True)
        time.sleep(0.1)
        self.replaced += len(replaced)
        self._spawn(lost)
        self.recoveries += 1
        recoveries = self.recoveries
        self.restore(self.last_checkpoint)
        self.recoveries = recoveries
        if self.seats is not None:
            self.seats.rewound(self.completed)
