"""The shard the driver hosts itself, on one machine.

On one machine the driver is the post (`DriverPost`): between its calls it only waits for the
shard actors. So there, it steps one shard itself, shard 0, while the actors step the others:
one Ray call a tick fewer, one process fewer, and the driver's wait spent on a shard. Measured
on a 2-vCPU AMD EPYC at 10,000 characters on two shards, both layouts alive in one process and
stepped in alternated blocks of 20 ticks: the CPU of a tick in all (driver and actors) ×0.89
and ×0.95 of two shard actors' (medians of 12 pairs each; 29.8 against 34.0 and 35.7 against
36.5 ms), the same digest.

`DriverShard` has the shape of an actor handle, so the coordinator treats it as one: each
method's `.remote(...)` gives a `Deferred`, and `gather` (the coordinator's `ray.get`) runs it
once every actor's call of that round has been sent, so the driver's shard steps beside them.
The same `ShardHost` runs it as runs a shard actor: its steps, mail, journal, checkpoints and
restores are the actors', and the digest is the same.

The driver hosts a shard only where that loses nothing (`RayRuntime`): on one node (a post on
another node could not reach it), without Ray Client (there the driver is on another machine),
with two shards or more (one shard alone stays an actor), and without a model to ask (the tick
timeout limits a wait for a model through `ray.get`, which a call in the driver escapes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ray

from actors.cluster.shard_actor import ShardHost


class Deferred:
    """A call on the driver's shard, made when its round is gathered."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call


class _Method:
    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method

    def remote(self, *args: Any, **kwargs: Any) -> Deferred:
        return Deferred(lambda: self.method(*args, **kwargs))


class DriverShard:
    """A shard in the driver's process, called as a shard actor is (`x.method.remote(...)`,
    then `gather`)."""

    def __init__(self, host: ShardHost) -> None:
        self.host = host

    def __getattr__(self, name: str) -> _Method:
        return _Method(getattr(self.host, name))

    @property
    def exit_process(self) -> _Method:
        def refuse() -> None:
            raise RuntimeError(
                "shard 0 lives in the driver's process, which has no process of its own to "
                "end: end one of the shard actors instead"
            )

        return _Method(refuse)


def gather(refs: list[Any], timeout: float | None) -> list[Any]:
    """`ray.get(refs, timeout=timeout)` of a round where some calls are the driver's shard's:
    those run first, here (the actors' calls were sent already and run meanwhile)."""
    done = {i: r.call() for i, r in enumerate(refs) if isinstance(r, Deferred)}
    got = iter(ray.get([r for r in refs if not isinstance(r, Deferred)], timeout=timeout))
    return [done[i] if i in done else next(got) for i in range(len(refs))]
