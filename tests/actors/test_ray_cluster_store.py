"""A run on a multi-node cluster with its record on an object store: shard actors spread over
two worker nodes stage their files where the driver does not (their own staging folder) and
upload them; a node is lost, the shards are restored on the survivor from the store, and the
run ends with the uninterrupted digest, every tick in the store's metrics and its journal
whole there. The store is moto's S3 server; the cluster is ray.cluster_utils.Cluster, whose
nodes are started with the store's environment (as a real cluster's nodes have credentials)."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from actors.cluster.connect import ActorPlacement
from actors.cluster.coordinator import RayRuntime
from tests.actors.test_ray_cluster import three_nodes
from tests.actors.test_ray_runtime import journal_envelopes
from tests.s3 import s3_server
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import parse_scenario
from world.store import Store, fetched

pytestmark = [pytest.mark.ray]


@pytest.fixture(scope="module")
def cluster_with_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    """moto's S3 server with a bucket `runs`, then a head node and two worker nodes started
    with its environment and a staging folder of their own."""
    staging = str(tmp_path_factory.mktemp("nodes-staging"))
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with s3_server(log, "moto-secret", SOCIUS_STAGING=staging), three_nodes() as nodes:
        yield nodes


def test_a_stored_run_spreads_loses_a_node_and_recovers_from_the_store(
    cluster_with_store: tuple[Any, ...], tmp_path: Path
) -> None:
    c, workers = cluster_with_store
    sc = parse_scenario(
        {"name": "stored", "population": {"size": 80, "group_size": 10}, "ticks": 12, "seed": 4}
    )
    expected = LocalRuntime(sc, 1).run().state_digest
    os.environ["SOCIUS_STAGING"] = str(tmp_path / "driver-staging")  # not the nodes' folder
    store = Store("s3://runs/cluster-1")
    store.check(new=True)
    record = RunRecord(store.fresh(), sc, 4, journals=False, store=store)
    placement = ActorPlacement(strategy="SPREAD", cpus=0.25, resources={"socius_worker": 1})
    rt = RayRuntime(sc, 4, record, 3, placement)
    try:
        rt.checkpoint()
        for _ in range(5):
            rt.step()
        assert len({w["node"] for w in rt.where()}) == 2, "SPREAD should use both nodes"
        assert not any(store.local.glob("journal/*")), "the shards stage on their nodes"
        lost = next(w for w in workers if w.node_id == rt.where()[0]["node"])
        c.remove_node(lost)
        result = rt.run()
        record.summary(result.summary(sc, 4, "ray"))
    finally:
        rt.close()
        record.close()
    assert result.state_digest == expected and result.recoveries == 1
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    summary = json.loads(fs.cat("runs/cluster-1/summary.json"))
    assert summary["state_digest"] == expected
    rows = list(csv.DictReader(io.StringIO(fs.cat("runs/cluster-1/metrics.csv").decode())))
    assert [int(r["tick"]) for r in rows] == list(range(1, 13))
    os.environ["SOCIUS_STAGING"] = str(tmp_path / "reader-staging")
    assert journal_envelopes(fetched("s3://runs/cluster-1")) == result.totals.c["envelopes"]
