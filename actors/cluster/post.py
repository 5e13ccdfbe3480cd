"""The post office of one node: a tick of the node's shard actors, their mail gathered per
node and their statistics summed per node.

Each node that hosts shard actors has one `Post`. The coordinator asks each post for the tick
(`tick`); the post steps its node's shard actors, handing each, in its `step` call, the mail
held here for it, and each returns with its statistics the batches it sends to other shards.
When they all have stepped, the post sends each other node's post one bundle with everything
for that node's shards and holds what is for its own shards; a receiving post holds its part
the same way. The post returns the node's statistics, merged. So a tick costs the coordinator
one call per node, each shard one call (its step) and each node one call per other node it
writes to: the calls grow with the nodes, not with the square of the shards, and the
coordinator's work with the nodes, not with the shards.

`tick` returns when its node's shards have stepped and all the mail they sent is held at the
post of the shard it is for, so when the coordinator holds every post's answer, every envelope
of the tick is where it must be. A post holds mail from one tick to the next only: when a node
is lost, the coordinator replaces the lost shard actors and every post, every shard rolls back
to the last checkpoint, and each sends that tick's mail again (`redeliver`); any restore first
has the posts drop what they hold (`forget`).

When every shard actor lives on the driver's node (a run on one machine), the driver is the
post (`DriverPost`): the same tick, without a post actor between the coordinator and the shards.
A post actor's tick costs a Ray call and its process's work on every tick (about 5 ms of CPU a
tick at 10,000 characters on two shards, measured by bench/ray_throughput.py); the driver
makes the shards' calls itself instead, for about 1 ms more of its own. The mail then passes
through the driver, which on one machine is no farther than a post.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import ray

from world.players import Choice, Opened
from world.stats import TickStats

#: (destination shard, serialized Batch)
Parcel = tuple[int, bytes]


class Mailroom:
    """The mail a post holds for its node's shards from one tick to the next, and its figures:
    bundles sent to other posts, parcels carried, hand-outs to local shards (a shard's mail of
    a tick, from this node or another), ticks flushed."""

    def __init__(self) -> None:
        #: tick -> shard index -> the batches sent in that tick to that local shard
        self._held: dict[int, dict[int, list[bytes]]] = defaultdict(lambda: defaultdict(list))
        self.figures = {"bundles": 0, "parcels": 0, "deliveries": 0, "flushes": 0}

    def mail_for(self, tick: int) -> dict[int, list[bytes]]:
        """What was sent to this node's shards in the tick before `tick`, taken out."""
        return self._held.pop(tick - 1, {})

    def hold(self, tick: int, parcels: list[Parcel]) -> None:
        held = self._held[tick]
        for dest, payload in parcels:
            held[dest].append(payload)
        self.figures["deliveries"] += len({dest for dest, _ in parcels})

    def forget(self) -> None:
        """Drop the mail held: the ticks it was sent in are being undone (a restore)."""
        self._held.clear()

    def flushed(self, parcels: int, bundles: int) -> None:
        """A tick's mail carried: `parcels` in all, in `bundles` to other posts."""
        self.figures["bundles"] += bundles
        self.figures["parcels"] += parcels
        self.figures["flushes"] += 1


@ray.remote
class Post:
    def __init__(self, node: str) -> None:
        self.node = node
        self.index = 0  # this post among the run's posts
        self.local: dict[int, Any] = {}  # shard index -> actor, for the shards of this node
        self.post_of: list[int] = []  # shard index -> the index of its node's post
        self.posts: list[Any] = []
        self.room = Mailroom()

    async def route(
        self, index: int, local: dict[int, Any], post_of: list[int], posts: list[Any]
    ) -> None:
        """Who is where: this post's index, its node's shard actors, every shard's post."""
        self.index, self.local, self.post_of, self.posts = index, local, post_of, posts

    async def tick(self, tick: int) -> TickStats:
        """Step this node's shards through `tick` and carry their mail; their statistics,
        merged (in shard order)."""
        mail = self.room.mail_for(tick)
        results = await asyncio.gather(
            *(a.step.remote(tick, mail.get(i, [])) for i, a in self._in_order())
        )
        await self.flush(tick, _parcels(results))
        return _summed([r["stats"] for r in results])

    async def begin(
        self, tick: int, players: list[int], seeks: list[tuple[int, int]]
    ) -> list[Opened]:
        """A served tick's first half on this node's shards (ShardActor.begin): what their
        played characters perceive and must decide, in shard order."""
        mail = self.room.mail_for(tick)
        return list(
            await asyncio.gather(
                *(
                    a.begin.remote(tick, players, seeks, mail.get(i, []))
                    for i, a in self._in_order()
                )
            )
        )

    async def end(self, tick: int, answers: dict[str, Choice]) -> dict[str, Any]:
        """Its second half (ShardActor.end), then the mail carried: the statistics merged,
        and what each waiting decision became."""
        results = await asyncio.gather(*(a.end.remote(tick, answers) for _, a in self._in_order()))
        await self.flush(tick, _parcels(results))
        return _ended(results)

    def _in_order(self) -> list[tuple[int, Any]]:
        """This node's shards (index, actor), in shard order."""
        return sorted(self.local.items(), key=lambda item: item[0])

    async def forget(self) -> None:
        """Drop the mail held here: the ticks it was sent in are being undone (a restore)."""
        self.room.forget()

    async def redeliver(self) -> None:
        """The restored shards of this node send their last tick's mail again."""
        sent = await asyncio.gather(*(a.redeliver.remote() for a in self.local.values()))
        for t, parcels in _by_tick(sent):
            await self.flush(t, parcels)

    async def flush(self, tick: int, parcels: list[Parcel]) -> None:
        """Carry the mail of `tick`: one bundle per other node's post, the rest held here;
        returns when all of it is held at the post of the shard it is for."""
        by_post: dict[int, list[Parcel]] = defaultdict(list)
        for parcel in parcels:
            by_post[self.post_of[parcel[0]]].append(parcel)
        self.room.hold(tick, by_post.pop(self.index, []))
        calls = [self.posts[p].receive.remote(tick, bundle) for p, bundle in by_post.items()]
        self.room.flushed(len(parcels), len(calls))
        await asyncio.gather(*calls)

    async def receive(self, tick: int, parcels: list[Parcel]) -> None:
        """Another node's mail for this node's shards, held for their next step."""
        self.room.hold(tick, parcels)

    async def ready(self) -> dict[str, Any]:
        """Where this post lives: its process and node."""
        return {"pid": os.getpid(), "node": self.node}

    async def counts(self) -> dict[str, int]:
        """The mail room's figures so far (`Mailroom`)."""
        return dict(self.room.figures)

    async def close(self) -> None:
        await self.forget()


class DriverPost:
    """The post of a run whose shard actors all live on the driver's node, in the driver: the
    post actor's `tick`, `begin`, `end`, `forget`, `redeliver` and `counts`, as plain calls
    that wait for the shards through `get` (the coordinator's `ray.get`, with its tick
    timeout). Every shard is local, so a flush holds all the mail here."""

    def __init__(self, actors: list[Any], get: Callable[[list[Any]], list[Any]]) -> None:
        self.actors = actors  # shard index -> actor
        self.get = get
        self.room = Mailroom()

    def tick(self, tick: int) -> TickStats:
        mail = self.room.mail_for(tick)
        results = self.get([a.step.remote(tick, mail.get(i, [])) for i, a in self._in_order()])
        self.flush(tick, _parcels(results))
        return _summed([r["stats"] for r in results])

    def begin(self, tick: int, players: list[int], seeks: list[tuple[int, int]]) -> list[Opened]:
        mail = self.room.mail_for(tick)
        return self.get(
            [a.begin.remote(tick, players, seeks, mail.get(i, [])) for i, a in self._in_order()]
        )

    def end(self, tick: int, answers: dict[str, Choice]) -> dict[str, Any]:
        results = self.get([a.end.remote(tick, answers) for _, a in self._in_order()])
        self.flush(tick, _parcels(results))
        return _ended(results)

    def forget(self) -> None:
        self.room.forget()

    def redeliver(self) -> None:
        sent = self.get([a.redeliver.remote() for _, a in self._in_order()])
        for t, parcels in _by_tick(sent):
            self.flush(t, parcels)

    def flush(self, tick: int, parcels: list[Parcel]) -> None:
        self.room.hold(tick, parcels)
        self.room.flushed(len(parcels), 0)

    def counts(self) -> dict[str, int]:
        return dict(self.room.figures)

    def _in_order(self) -> list[tuple[int, Any]]:
        return list(enumerate(self.actors))


def _parcels(results: list[dict[str, Any]]) -> list[Parcel]:
    """Every shard's mail for other shards, from their answers (step, end)."""
    return [parcel for r in results for parcel in r["parcels"]]


def _ended(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The shards' answers to `end`: their statistics merged, and what each waiting decision
    became."""
    actions: dict[str, int] = {}
    for r in results:
        actions.update(r["actions"])
    return {"stats": _summed([r["stats"] for r in results]), "actions": actions}


def _by_tick(sent: list[tuple[int, list[Parcel]]]) -> list[tuple[int, list[Parcel]]]:
    """Restored shards' (tick, parcels) resent, gathered by tick, in tick order."""
    return [
        (t, [p for tick, parcels in sent if tick == t for p in parcels])
        for t in sorted({tick for tick, _ in sent})
    ]


def _summed(stats: list[dict[str, Any]]) -> TickStats:
    """The shards' statistics (as their actors send them), summed."""
    return TickStats.summed([TickStats.from_dict(r) for r in stats])
