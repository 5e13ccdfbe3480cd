"""The LLM gateway as a Ray actor, and how shard actors ask it.

One or more replicas each hold a backend (an in-process vLLM engine, or a pool of connections to
OpenAI-compatible endpoints) behind an `inference.Gateway`. A shard sends each request to the
replica of its character (`affinity % replicas`), so a character's prompt prefix stays cached in
one place. A replica that dies or fails does not stop the run: the requests it held come back
unanswered and those decisions fall back to the heuristic mind, counted; Ray restarts it (up to
`RESTARTS` times), and it connects again (or loads its model again) on the first request it
gets. A replica dead for good is replaced when the run recovers from a checkpoint
(`Gateways.respawn`). Its figures start again with each restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import Any

import ray
from ray import exceptions as rex

from actors.cluster.lifecycle import close_actors, start_replicas
from inference.backends.base import Answer, Request
from inference.connect import Target, make_backend
from inference.gateway import Gateway, by_affinity
from world.scenario import Scenario

#: how many times Ray restarts a gateway replica that died
RESTARTS = 5


@ray.remote
class GatewayActor:
    def __init__(self, target: Target, timeout: float, retries: int) -> None:
        # vLLM's engine logs a page of warnings at start; its errors still show (set
        # VLLM_LOGGING_LEVEL in the environment to see more)
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
        self.target = target
        self.gateway = Gateway(
            make_backend(target),
            concurrency=target.concurrency,
            timeout=timeout,
            retries=retries,
        )
        self.context_length: int | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> int:
        """Connect or load the model (once: a restarted replica does it on its first
        request); returns the served context length, in tokens."""
        async with self._starting:
            if self.context_length is None:
                self.context_length = await self.gateway.start()
        return self.context_length

    async def ask(self, requests: list[Request]) -> list[Answer]:
        await self.start()
        return await self.gateway.ask(requests)

    async def stats(self) -> dict[str, float]:
        return self.gateway.stats()

    async def close(self) -> None:
        await self.gateway.close()


class Replicas:
    """A shard's view of the gateway replicas: routes each request by its character."""

    def __init__(self, handles: list[Any]) -> None:
        self.handles = handles

    async def ask(self, requests: list[Request]) -> list[Answer]:
        return await by_affinity(requests, len(self.handles), self._part)

    async def _part(self, k: int, requests: list[Request]) -> list[Answer]:
        try:
            return list(await self.handles[k].ask.remote(requests))
        except rex.RayError as err:
            why = f"gateway replica {k} failed: {type(err).__name__}"
            return [Answer(text=None, error=why) for _ in requests]


@dataclasses.dataclass
class Gateways:
    """The LLM gateway replicas of a run (none for a replay: each shard reads the record)."""

    target: Target
    handles: list[Any]
    context_length: int
    scenario: Scenario | None = None  # what replicas are made for (None: a replay, none)

    @classmethod
    def start(cls, scenario: Scenario, target: Target, replicas: int | None = None) -> Gateways:
        """Start the replicas and wait until each has its backend (a model loaded, or an
        endpoint answering); a backend that cannot start is a user error, named. An engine
        replica takes a GPU where the cluster has them, one replica per GPU by default."""
        if target.kind == "replay":
            return cls(target, [], 1 << 30)
        gpus = int(ray.cluster_resources().get("GPU", 0)) if target.kind == "engine" else 0
        handles = [_replica(scenario, target, gpus) for _ in range(replicas or max(1, gpus))]
        return cls(target, handles, start_replicas(handles), scenario)

    def respawn(self) -> int:
        """Replace the replicas that are dead for good (restarts spent, or killed); returns
        how many were replaced."""
        if self.scenario is None:
            return 0
        gpus = int(ray.cluster_resources().get("GPU", 0)) if self.target.kind == "engine" else 0
        dead = []
        for k, handle in enumerate(self.handles):
            try:
                ray.get(handle.stats.remote(), timeout=60)
            except (rex.RayActorError, rex.ActorUnavailableError, rex.GetTimeoutError):
                dead.append(k)
        fresh = [_replica(self.scenario, self.target, gpus) for _ in dead]
        if fresh:
            start_replicas(fresh)
        for k, handle in zip(dead, fresh, strict=True):
            self.handles[k] = handle
        return len(dead)

    def for_shards(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "gateways": self.handles,
            "context_length": self.context_length,
        }

    def stop(self) -> None:
        close_actors(self.handles, timeout=60)
        self.handles = []


def _replica(scenario: Scenario, target: Target, gpus: int) -> Any:
    """A new gateway replica (not yet started), restarted by Ray when it dies."""
    opts: dict[str, Any] = {"num_cpus": 0, "max_restarts": RESTARTS}
    if gpus:
        opts["num_gpus"] = 1
    llm = scenario.llm
    return GatewayActor.options(**opts).remote(  # type: ignore[attr-defined]
        target, llm.timeout, llm.retries
    )
