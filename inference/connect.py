"""Where the model is: the command line's `--llm-endpoint`, `--llm-engine` or `--llm-replay`,
made into a backend, and the in-process wiring of the LLM mind (the Ray wiring is in actors/)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from inference.backends.base import Answer, Backend, BackendUnavailable, Request
from inference.backends.engine import EngineBackend
from inference.backends.openai import OpenAIBackend
from inference.backends.replay import ReplayBackend
from inference.gateway import Gateway, LoopThread
from inference.think import Thinker
from world.scenario import Scenario
from world.shard import Decisions, Pending, Shard

KINDS = ("openai", "engine", "replay")


@dataclasses.dataclass(frozen=True)
class Target:
    """Where answers come from: OpenAI-compatible endpoints, an in-process vLLM engine (a model
    folder), or a recorded run."""

    kind: str
    where: tuple[str, ...]
    model: str | None = None  # the served model's name (openai; default: the one it lists)
    concurrency: int = 64  # requests in flight per gateway replica
    structured: bool = True  # openai: ask for the answer's JSON schema (response_format)
    flag: str = ""  # the command-line flag that gave `where` (default: socius run's), for messages
    #: LoRA adapters the characters answer with: (name, folder) pairs; a server must serve each
    #: name (--lora-modules NAME=FOLDER), an engine loads each folder
    adapters: tuple[tuple[str, str], ...] = ()
    #: openai: the endpoints' API keys (none, one for all, or one per endpoint), read from the
    #: environment where the command runs; carried to the gateways, never written or shown
    api_keys: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    #: the flag naming the keys' environment variables, for messages
    key_flag: str = "--llm-api-key-env"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown LLM target kind {self.kind!r}; allowed: {KINDS}")
        if not self.where:
            raise BackendUnavailable(f"an LLM target of kind {self.kind} needs a place")
        if not self.flag:
            object.__setattr__(
                self, "flag", f"--llm-{'endpoint' if self.kind == 'openai' else self.kind}"
            )


#: the variable an OpenAI client reads its key from, read when no other is named
DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def api_keys(names: list[str] | None, endpoints: int, flag: str) -> tuple[str, ...]:
    """The API keys of `endpoints` endpoints, from the environment variables `names` (one for
    every endpoint, or one per endpoint); without names, OPENAI_API_KEY's if it is set. Only
    the variables' names are ever recorded; a named variable that is unset or empty is an
    error naming it."""
    if not names:
        key = os.environ.get(DEFAULT_KEY_ENV, "")
        return (key,) if key else ()
    if len(names) not in (1, endpoints):
        raise BackendUnavailable(
            f"{flag}: {len(names)} variables for {endpoints} endpoints; name one for all, or "
            f"one per endpoint"
        )
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise BackendUnavailable(
            f"{flag}: the environment has no {missing[0]}; export {missing[0]}=KEY where "
            f"socius runs, or drop {flag} (the key then comes from {DEFAULT_KEY_ENV}, if set)"
        )
    return tuple(os.environ[n] for n in names)


def make_backend(target: Target) -> Backend:
    if target.kind == "openai":
        return OpenAIBackend(
            list(target.where),
            target.model,
            connections=target.concurrency,
            api_keys=target.api_keys,
            structured=target.structured,
            flag=target.flag,
            key_flag=target.key_flag,
            adapters=tuple(name for name, _ in target.adapters),
        )
    if target.kind == "engine":
        folder = Path(target.where[0])
        if not (folder / "config.json").is_file():
            raise BackendUnavailable(
                f"{target.flag} {folder}: no model there (config.json missing); give the folder "
                f"of a Hugging Face model, for example one made by "
                f"`python -m inference.tiny_model DIR`"
            )
        return EngineBackend(str(folder), adapters=dict(target.adapters))
    return ReplayBackend(target.where[0])


class Asker(Protocol):
    """What answers a thinker's requests: a `Gateway`, or the load test's generators."""

    async def start(self) -> int:
        """Connect; returns the served context length, in tokens."""
        ...

    async def ask(self, requests: list[Request]) -> list[Answer]: ...

    def stats(self) -> dict[str, float]: ...

    async def close(self) -> None: ...


class InProcessModel:
    """The LLM mind for the in-process runtime: one gateway (or another `Asker`) on its own
    event loop, asked by every shard's thinker at once. Use as LocalRuntime's `decide` hook."""

    def __init__(
        self,
        scenario: Scenario,
        backend: Backend | Asker,
        n_shards: int,
        folder: Path | None,
        concurrency: int = 64,
    ) -> None:
        self.loop = LoopThread()
        self.replay = backend if isinstance(backend, ReplayBackend) else None
        if isinstance(backend, Backend):
            self.gateway: Asker = Gateway(
                backend,
                concurrency=concurrency,
                timeout=scenario.llm.timeout,
                retries=scenario.llm.retries,
            )
        else:
            self.gateway = backend
        try:
            context_length = self.loop.run(self.gateway.start())
        except BaseException:
            self.loop.stop()
            raise
        self.thinker = Thinker(
            scenario,
            self._ask,
            context_length=context_length,
            n_shards=n_shards,
            folder=folder,
            replay=self.replay,
        )

    @classmethod
    def of(
        cls, scenario: Scenario, target: Target, n_shards: int, folder: Path | None
    ) -> InProcessModel:
        return cls(scenario, make_backend(target), n_shards, folder, target.concurrency)

    async def _ask(self, requests: list[Request]) -> list[Answer]:
        return await self.gateway.ask(requests)

    async def _all(
        self, work: list[tuple[Shard, Pending]], skip: list[np.ndarray] | None
    ) -> list[Decisions]:
        skips = skip if skip is not None else [None] * len(work)
        thoughts = (self.thinker.think(s, p, k) for (s, p), k in zip(work, skips, strict=True))
        return list(await asyncio.gather(*thoughts))

    def __call__(
        self, work: list[tuple[Shard, Pending]], skip: list[np.ndarray] | None = None
    ) -> list[Decisions]:
        """Every shard's decisions; the model is not asked for each shard's `skip` rows."""
        return self.loop.run(self._all(work, skip))

    def again(
        self, work: list[tuple[Shard, Pending]], decided: list[Decisions], rows: list[np.ndarray]
    ) -> None:
        """The model decides each shard's `rows` as well (rows skipped before), over `decided`."""

        async def each() -> None:
            await asyncio.gather(
                *(
                    self.thinker.again(s, p, d, r)
                    for (s, p), d, r in zip(work, decided, rows, strict=True)
                )
            )

        self.loop.run(each())

    def stats(self) -> dict[str, float]:
        return self.gateway.stats()

    def restored(self, shard: Shard) -> None:
        self.thinker.restored(shard)

    def close(self) -> None:
        self.thinker.close()
        try:
            self.loop.run(self.gateway.close())
        finally:
            self.loop.stop()
