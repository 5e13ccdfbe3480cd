"""Joining Ray (a cluster, or a local instance) and placing shard actors on it."""

from __future__ import annotations

import dataclasses
import logging
import math
import socket
from typing import Any

import ray

from world.errors import UserError
from world.scenario import Scenario


class ClusterError(UserError):
    """Ray cannot be reached or started as asked."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ActorPlacement:
    """Where shard actors go. `strategy` is Ray's: PACK fills nodes (fewer network hops),
    SPREAD uses every node. `cpus` is what each actor reserves: 1 runs one per CPU, 0.5 two."""

    strategy: str = "PACK"
    cpus: float | None = None  # None: 1, or less so that every shard fits the cluster
    resources: dict[str, float] = dataclasses.field(default_factory=dict)
    #: seconds a tick (or any call to the shard actors) may take; None: no limit. A tick
    #: that takes longer stops the run (coordinator.py): replaying it would be as slow
    tick_timeout: float | None = None

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


#: One shard actor per CPU by default. A tick is a barrier (every shard steps, then the mail
#: moves), so a second actor on a CPU has no idle time to fill: it only adds its fixed cost and
#: its Ray calls. Measured with bench/ray_throughput.py on a 2-CPU machine: 2 shards ran at
#: 0.91-1.20x the in-process wall-clock rate and 0.55-0.72 of its rate per CPU-second at 10,000
#: characters, 4 shards at 0.52-1.05x and 0.30-0.60 (7 runs); at 100,000, 1.33x against 1.28x.
DEFAULT_ACTOR_CPUS = 1.0


def auto_shards(scenario: Scenario, cluster_cpus: float, placement: ActorPlacement) -> int:
    """The default layout: as many shards as the cluster's CPUs hold actors (one per CPU)."""
    fit = max(1, int(cluster_cpus / (placement.cpus or DEFAULT_ACTOR_CPUS)))
    return max(1, min(scenario.population.size, fit))


def actor_cpus(placement: ActorPlacement, shards: int, cluster_cpus: float) -> float:
    """CPU each shard actor reserves: as asked, or by default 1 and less when there are more
    shards than that lets the cluster hold (one actor per character, say)."""
    if placement.cpus is not None:
        return placement.cpus
    return min(DEFAULT_ACTOR_CPUS, max(cluster_cpus, 1.0) / shards)


def shards_for(characters: int, per_actor: int) -> int:
    return math.ceil(characters / per_actor)
