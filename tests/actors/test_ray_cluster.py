"""On a multi-node cluster, shards spread over nodes and survive losing one of them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import ray
from ray.cluster_utils import Cluster

from actors.cluster.connect import ActorPlacement
from actors.cluster.coordinator import RayRuntime
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import parse_scenario

pytestmark = [pytest.mark.ray]

NODE = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}


@contextmanager
def three_nodes() -> Iterator[tuple[Cluster, list[Any]]]:
    """A head node and two worker nodes (separate raylets on this machine, started with this
    process's environment), this process connected to them."""
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster(initialize_head=True, head_node_args={**NODE, "num_cpus": 0})
    workers = [c.add_node(**NODE, resources={"socius_worker": 4}) for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address, logging_level="ERROR")
    try:
        yield c, workers
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Cluster, list[Any]]]:
    with three_nodes() as nodes:
        yield nodes


def test_shards_spread_and_survive_a_lost_node(cluster, tmp_path: Path) -> None:
    """With SPREAD placement the shards use both worker nodes, and their mail goes through one
    post per node: each tick at most one bundle from each node to the other, however many
    shards write across. When one node is removed the coordinator restores every shard on the
    surviving node and ends with the digest of the uninterrupted run, counting one recovery."""
    c, workers = cluster
    sc = parse_scenario(
        {"name": "cluster", "population": {"size": 80, "group_size": 10}, "ticks": 10, "seed": 9}
    )
    expected = LocalRuntime(sc, 1).run().state_digest
    placement = ActorPlacement(strategy="SPREAD", cpus=0.25, resources={"socius_worker": 1})
    rt = RayRuntime(sc, 4, RunRecord(tmp_path / "run", sc, 4, journals=False), 3, placement)
    try:
        rt.checkpoint()
        for _ in range(4):
            rt.step()
        nodes = {w["node"] for w in rt.where()}
        assert len(nodes) == 2, "SPREAD should use both worker nodes"
        posts = rt.post_counts()
        assert len(posts) == 2 and all(p["flushes"] == 4 for p in posts)
        assert all(0 < p["bundles"] <= 4 for p in posts)  # one per tick to the other node
        # 4 shards each writing to the 2 on the other node make 8 calls across nodes a tick;
        # through the posts they are at most 2, and each shard's mail of a tick is handed out
        # at most once from each node
        assert sum(p["parcels"] for p in posts) > sum(p["bundles"] for p in posts)
        assert all(p["deliveries"] <= 4 * 2 * 2 for p in posts)
        lost = next(w for w in workers if w.node_id == rt.where()[0]["node"])
        before = rt.where()
        kept = {w["pid"] for w in before if w["node"] != lost.node_id}
        c.remove_node(lost)
        result = rt.run()
        after = rt.where()
        survivors = {w["node"] for w in after}
    finally:
        rt.close()
        rt.record.close()
    assert result.state_digest == expected
    assert result.recoveries == 1
    # only the lost node's shards were started again; the others rolled back in memory
    gone = sum(w["node"] == lost.node_id for w in before)
    assert rt.replaced == gone and kept <= {w["pid"] for w in after}
    assert rt.restored_from == {"memory": 4 - gone, "files": gone}
    assert lost.node_id not in survivors
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert [int(r["tick"]) for r in rows] == list(range(1, 11))
