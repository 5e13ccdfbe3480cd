"""The Ray runtime: shards as Ray actors on one machine or a cluster, surviving faults.

The coordinator (this object, in the driver) makes one `step` call per shard per tick and
aggregates their statistics; mail goes from shard actor to shard actor. Every K ticks each
shard writes a snapshot and the coordinator a manifest. When a shard actor or its node dies,
the coordinator replaces every shard actor (on whatever nodes are alive), restores them from
the last complete checkpoint, and replays from there: the final digest is the one the
uninterrupted run would have had, and the run's figures count the recovery.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import socket
import time
from pathlib import Path
from typing import Any

import ray
from ray import exceptions as rex

from actors.gateway_actor import GatewayActor
from actors.shard_actor import ShardActor
from inference.backends.base import BackendUnavailable
from inference.connect import Target
from world.digest import state_digest
from world.errors import SociusError, UserError
from world.record import RunRecord
from world.runtime import Runtime
from world.scenario import Scenario
from world.stats import TickStats

#: Errors that mean an actor, its worker or its node died (or stopped answering).
FAULTS = (
    rex.ActorDiedError,
    rex.ActorUnavailableError,
    rex.GetTimeoutError,
    rex.NodeDiedError,
    rex.ObjectLostError,
    rex.RayActorError,
    rex.WorkerCrashedError,
)
MAX_RECOVERIES_PER_TICK = 3


class RunFault(SociusError):
    """A fault the run cannot recover from; the run folder keeps every whole tick."""

    exit_code = 1


class ClusterError(UserError):
    """Ray cannot be reached or started as asked."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Placement:
    """Where shard actors go. `strategy` is Ray's: PACK fills nodes (fewer network hops),
    SPREAD uses every node. `cpus` is what each actor reserves: 0.5 runs two per CPU."""

    strategy: str = "PACK"
    cpus: float | None = None  # None: 0.5, or less so that every shard fits the cluster
    resources: dict[str, float] = dataclasses.field(default_factory=dict)
    tick_timeout: float = 600.0

    def __post_init__(self) -> None:
        if self.strategy not in ("PACK", "SPREAD"):
            raise UserError(f"placement {self.strategy!r} is not PACK or SPREAD")
        if self.cpus is not None and self.cpus <= 0:
            raise UserError(
                f"each shard actor needs some CPU; --actor-cpus {self.cpus} is not above 0"
            )


def _reachable(address: str) -> None:
    """Fail fast (Ray itself retries for minutes) when a HOST:PORT address does not answer."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(
            f"--address {address!r} is not auto, ray://HOST:PORT or HOST:PORT (e.g. "
            f"ray://head:10001, head:6379)"
        )
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise ClusterError(
            f"cannot reach a Ray cluster at {address}: {err.strerror or err}. Is `ray start "
            f"--head` running there, and is the port right (6379 for the GCS, 10001 for "
            f"ray://)?"
        ) from None


def connect(address: str | None = None, num_cpus: int | None = None) -> dict[str, Any]:
    """Join the Ray instance at `address` ('auto', 'ray://host:port', host:port), or start a
    local one; an already initialized Ray is reused. Returns the cluster's resources."""
    if not ray.is_initialized():
        if address:
            _reachable(address)
        try:
            if address:
                ray.init(address=address, logging_level=logging.ERROR)
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.ERROR)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = address or "a local Ray instance"
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ClusterError(
                f"cannot connect to {where}: {first}. Start one with `ray start --head`, pass "
                f"--address auto to join the one on this machine, or leave --address out to "
                f"start a local one"
            ) from None
    return ray.cluster_resources()


DEFAULT_ACTOR_CPUS = 0.5  # two shard actors per CPU


def auto_shards(scenario: Scenario, cluster_cpus: float, placement: Placement) -> int:
    """The default layout: as many shards as the cluster's CPUs hold actors (a few per CPU)."""
    fit = max(1, int(cluster_cpus / (placement.cpus or DEFAULT_ACTOR_CPUS)))
    return max(1, min(scenario.population.size, fit))


def actor_cpus(placement: Placement, shards: int, cluster_cpus: float) -> float:
    """CPU each shard actor reserves: as asked, or by default 0.5 and less when there are more
    shards than that lets the cluster hold (one actor per character, say)."""
    if placement.cpus is not None:
        return placement.cpus
    return min(DEFAULT_ACTOR_CPUS, max(cluster_cpus, 1.0) / shards)


def shards_for(characters: int, per_actor: int) -> int:
    return math.ceil(characters / per_actor)


def is_fault(err: BaseException) -> bool:
    """An actor, worker or node died (directly, or under a task that was waiting on it)."""
    if isinstance(err, FAULTS):
        return True
    cause = getattr(err, "cause", None)
    return isinstance(err, rex.RayTaskError) and cause is not None and is_fault(cause)


def root_cause(err: BaseException) -> BaseException:
    while isinstance(err, rex.RayTaskError) and getattr(err, "cause", None) is not None:
        err = err.cause
    return err


@dataclasses.dataclass
class Gateways:
    """The LLM gateway replicas of a run (none for a replay: each shard reads the record)."""

    target: Target
    handles: list[Any]
    context_length: int

    @classmethod
    def start(cls, scenario: Scenario, target: Target, replicas: int | None = None) -> Gateways:
        """Start the replicas and wait until each has its backend (a model loaded, or an
        endpoint answering); a backend that cannot start is a user error, named. An engine
        replica takes a GPU where the cluster has them, one replica per GPU by default."""
        if target.kind == "replay":
            return cls(target, [], 1 << 30)
        llm = scenario.llm
        gpus = int(ray.cluster_resources().get("GPU", 0)) if target.kind == "engine" else 0
        opts: dict[str, Any] = {"num_cpus": 0, "max_restarts": 0}
        if gpus:
            opts["num_gpus"] = 1
        handles = [
            GatewayActor.options(**opts).remote(  # type: ignore[attr-defined]
                target, llm.timeout, llm.retries
            )
            for _ in range(replicas or max(1, gpus))
        ]
        return cls(target, handles, start_replicas(handles))

    def for_shards(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "gateways": self.handles,
            "context_length": self.context_length,
        }

    def stop(self) -> None:
        close_actors(self.handles, timeout=60)
        self.handles = []


def start_replicas(handles: list[Any], timeout: float = 900) -> int:
    """Wait until each replica (gateway, load generator) has its backend; returns the smallest
    served context length. A backend that cannot start is a user error, named, and every
    replica is closed."""
    try:
        return min(ray.get([g.start.remote() for g in handles], timeout=timeout))
    except rex.RayTaskError as err:
        close_actors(handles, timeout=60)
        cause = root_cause(err)
        if isinstance(cause, BackendUnavailable):
            raise BackendUnavailable(str(cause)) from None
        raise


def close_actors(handles: list[Any], timeout: float) -> None:
    """Ask each actor to close (flush, release), then end it, whether or not it answered."""
    for a in handles:
        with contextlib.suppress(rex.RayError):
            ray.get(a.close.remote(), timeout=timeout)
        ray.kill(a, no_restart=True)


class RayRuntime(Runtime):
    name = "ray"

    def __init__(
        self,
        scenario: Scenario,
        shards: int,
        record: RunRecord | None = None,
        checkpoint_every: int = 0,
        placement: Placement | None = None,
        llm: Gateways | None = None,
        players: Path | None = None,
    ) -> None:
        """`players`: a served run whose players act again (--players-replay)."""
        super().__init__(scenario, shards, record, checkpoint_every)
        self.players = str(players.resolve()) if players is not None else None
        if not ray.is_initialized():
            connect()
        self.placement = placement or Placement()
        self.actors: list[Any] = []
        self._failures: dict[int, int] = {}  # faults per tick, over the whole run
        self.gateways = llm
        self.llm = llm.for_shards() if llm is not None else None
        self._spawn()

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

    def _spawn(self) -> None:
        data = self.scenario.model_dump()
        folder = str(self.record.folder.resolve()) if self.record is not None else None
        cpus = actor_cpus(self.placement, self.n_shards, ray.cluster_resources().get("CPU", 1))
        opts: dict[str, Any] = {
            "num_cpus": cpus,
            "scheduling_strategy": "SPREAD" if self.placement.strategy == "SPREAD" else "DEFAULT",
            "max_restarts": 0,
        }
        if self.placement.resources:
            opts["resources"] = dict(self.placement.resources)
        self.actors = [
            ShardActor.options(**opts).remote(  # type: ignore[attr-defined]
                data, i, self.n_shards, folder, self.llm, self.players
            )
            for i in range(self.n_shards)
        ]
        self._get([a.set_peers.remote(self.actors) for a in self.actors])

    def where(self) -> list[dict[str, Any]]:
        """Each shard actor's process and node."""
        return self._get([a.ready.remote() for a in self.actors])

    def _get(self, refs: list[Any]) -> list[Any]:
        return ray.get(refs, timeout=self.placement.tick_timeout)

    def close(self) -> None:
        close_actors(self.actors, timeout=30)
        self.actors = []
        if self.gateways is not None:
            self.gateways.stop()

    # --- Runtime ----------------------------------------------------------------------------

    def _step_shards(self, tick: int) -> list[TickStats]:
        results = self._get([a.step.remote(tick) for a in self.actors])
        return [TickStats.from_dict(r) for r in results]

    def _save_shards(self, tick: int) -> list[int]:
        return self._get([a.checkpoint.remote(tick) for a in self.actors])

    def _load_shards(self, manifest: dict[str, Any]) -> None:
        tick = int(manifest["tick"])
        sizes = manifest.get("journal_sizes") or [0] * self.n_shards
        try:
            self._get(
                [a.restore.remote(tick, int(s)) for a, s in zip(self.actors, sizes, strict=True)]
            )
        except rex.RayTaskError as err:
            cause = root_cause(err)
            if isinstance(cause, SociusError):
                raise cause from None
            raise
        self._get([a.redeliver.remote() for a in self.actors])

    def digest(self) -> str:
        return state_digest(self._get([a.digest_parts.remote() for a in self.actors]))

    def step(self) -> TickStats:
        """One tick; if a shard actor or its node dies, recover from the last checkpoint and
        go on (the tick returned is then the first one replayed)."""
        failures = self._failures
        while True:
            try:
                return super().step()
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

    def recover(self, err: BaseException) -> None:
        """Replace every shard actor and restore the last checkpoint."""
        if self.last_checkpoint is None or self.record is None:
            raise RunFault(
                f"a shard failed at tick {self.completed + 1} ({type(root_cause(err)).__name__})"
                f" and there is no checkpoint to recover from (checkpoints are off: use "
                f"--checkpoint-every K). The run folder holds ticks 1..{self.completed}"
            ) from None
        for a in self.actors:
            with contextlib.suppress(rex.RayError):
                ray.kill(a, no_restart=True)
        time.sleep(0.1)
        self._spawn()
        self.recoveries += 1
        recoveries = self.recoveries
        self.restore(self.last_checkpoint)
        self.recoveries = recoveries
