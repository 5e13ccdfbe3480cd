"""The post office of one node: mail between shard actors, gathered per node.

Each node that hosts shard actors has one `Post`. In a tick every shard actor of the node
leaves at its post the batches it sends to other shards (one call). When every shard has
stepped, the coordinator asks each post to `flush` the tick: the post sends each other node's
post one bundle with everything for that node's shards, and hands each of its own shards, in
one call, what is for it; a receiving post does the same for its shards. So a tick costs each
node one call per other node it writes to, plus two per local shard, however many shards the
cluster has: the calls grow with the nodes, not with the square of the shards.

`flush` returns when all of the tick's mail is in the inboxes it was sent to, so the next tick
starts with every envelope where it must be, as before. A post holds mail only between a
tick's steps and its flush: when a node is lost, the coordinator replaces every shard actor
and every post, and the restored shards send their last tick's mail again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import ray

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

    async def counts(self) -> dict[str, int]:
        """So far: bundles sent to other posts, parcels carried, deliveries to local shards,
        ticks flushed."""
        return dict(self.figures)

    async def close(self) -> None:
        self._parcels.clear()
