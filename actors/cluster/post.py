"""The post office of one node: a tick of the node's shard actors, their mail gathered per
node and their statistics summed per node.

Each node that hosts shard actors has one `Post`. The coordinator asks each post for the tick
(`tick`); the post steps its node's shard actors, each of which leaves at the post the batches
it sends to other shards. When they all have stepped, the post sends each other node's post
one bundle with everything for that node's shards and hands each of its own shards, in one
call, what is for it; a receiving post does the same for its shards (they may still be
stepping: mail of tick t goes to the inbox of tick t, and a step takes that of t-1). The post
returns the node's statistics, merged. So a tick costs the coordinator one call per node, and
each node one call per other node it writes to plus a few per local shard: the calls grow with
the nodes, not with the square of the shards, and the coordinator's work with the nodes, not
with the shards.

`tick` returns when its node's shards have stepped and all the mail they sent is in the inboxes
it was sent to, so when the coordinator holds every post's answer, every envelope of the tick
is where it must be. A post holds mail only within a tick: when a node is lost, the coordinator
replaces the lost shard actors and every post, and the restored shards send their last tick's
mail again.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from typing import Any

import ray

from world.players import Choice, Opened
from world.stats import TickStats

#: (destination shard, serialized Batch)
Parcel = tuple[int, bytes]


@ray.remote
class Post:
    def __init__(self, node: str) -> None:
        self.node = node
        self.index = 0  # this post among the run's posts
        self.local: dict[int, Any] = {}  # shard index -> actor, for the shards of this node
        self.post_of: list[int] = []  # shard index -> the index of its node's post
        self.posts: list[Any] = []
        self._parcels: dict[int, list[Parcel]] = defaultdict(list)  # tick -> left here
        self.figures = {"bundles": 0, "parcels": 0, "deliveries": 0, "flushes": 0}

    async def route(
        self, index: int, local: dict[int, Any], post_of: list[int], posts: list[Any]
    ) -> None:
        """Who is where: this post's index, its node's shard actors, every shard's post."""
        self.index, self.local, self.post_of, self.posts = index, local, post_of, posts

    async def tick(self, tick: int) -> dict[str, Any]:
        """Step this node's shards through `tick` and deliver their mail; their statistics,
        merged (in shard order)."""
        results = await asyncio.gather(*(a.step.remote(tick) for a in self._in_order()))
        await self.flush(tick)
        return _merged(results)

    async def begin(
        self, tick: int, players: list[int], seeks: list[tuple[int, int]]
    ) -> list[Opened]:
        """A served tick's first half on this node's shards (ShardActor.begin): what their
        played characters perceive and must decide, in shard order."""
        return list(
            await asyncio.gather(*(a.begin.remote(tick, players, seeks) for a in self._in_order()))
        )

    async def end(self, tick: int, answers: dict[str, Choice]) -> dict[str, Any]:
        """Its second half (ShardActor.end), then the mail delivered: the statistics merged,
        and what each waiting decision became."""
        results = await asyncio.gather(*(a.end.remote(tick, answers) for a in self._in_order()))
        await self.flush(tick)
        actions: dict[str, int] = {}
        for r in results:
            actions.update(r["actions"])
        return {"stats": _merged([r["stats"] for r in results]), "actions": actions}

    def _in_order(self) -> list[Any]:
        return [self.local[i] for i in sorted(self.local)]

    async def redeliver(self) -> None:
        """The restored shards of this node send their last tick's mail again."""
        ticks = await asyncio.gather(*(a.redeliver.remote() for a in self.local.values()))
        for t in sorted(set(ticks)):
            await self.flush(t)

    async def send(self, tick: int, parcels: list[Parcel]) -> None:
        """A local shard's mail of `tick` for other shards, left until the tick's flush."""
        self._parcels[tick].extend(parcels)

    async def flush(self, tick: int) -> None:
        """Deliver the mail of `tick` left here: one bundle per other node's post, one call
        per local shard; returns when all of it is in the inboxes it was sent to."""
        parcels = self._parcels.pop(tick, [])
        by_post: dict[int, list[Parcel]] = defaultdict(list)
        for parcel in parcels:
            by_post[self.post_of[parcel[0]]].append(parcel)
        here = by_post.pop(self.index, [])
        calls = [self.posts[p].receive.remote(tick, bundle) for p, bundle in by_post.items()]
        self.figures["bundles"] += len(calls)
        self.figures["parcels"] += len(parcels)
        self.figures["flushes"] += 1
        await asyncio.gather(self._hand_out(tick, here), *calls)

    async def receive(self, tick: int, parcels: list[Parcel]) -> None:
        """Another node's mail for this node's shards."""
        await self._hand_out(tick, parcels)

    async def _hand_out(self, tick: int, parcels: list[Parcel]) -> None:
        by_shard: dict[int, list[bytes]] = defaultdict(list)
        for dest, payload in parcels:
            by_shard[dest].append(payload)
        self.figures["deliveries"] += len(by_shard)
        await asyncio.gather(
            *(self.local[d].deliver.remote(tick, payloads) for d, payloads in by_shard.items())
        )

    async def ready(self) -> dict[str, Any]:
        """Where this post lives: its process and node."""
        return {"pid": os.getpid(), "node": self.node}

    async def counts(self) -> dict[str, int]:
        """So far: bundles sent to other posts, parcels carried, deliveries to local shards,
        ticks flushed."""
        return dict(self.figures)

    async def close(self) -> None:
        self._parcels.clear()


def _merged(stats: list[dict[str, Any]]) -> dict[str, Any]:
    merged = TickStats()
    for r in stats:
        merged.merge(TickStats.from_dict(r))
    return merged.to_dict()
