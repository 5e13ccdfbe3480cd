"""Chaos on Ray: parts killed at random ticks (drawn from a fixed seed) while a run goes on.

A heuristic world of 200 ticks loses a shard actor twice (once to `ray.kill`, once to its
process exiting) and ends with the uninterrupted digest, every tick once in its metrics and
its journal whole. An LLM world against a real vLLM server loses its gateway replica, then
the server itself (restarted a few ticks later on the same port), then a shard actor: it ends
every tick, every decision given to the model either answered or counted as a fallback, the
model answering again once the server is back, and its record whole. A served world on Ray
loses a shard actor while players play it, and its players' record still replays to its
digest."""

from __future__ import annotations

import csv
import json
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from actors.cluster.connect import connect
from actors.cluster.coordinator import RayRuntime
from actors.cluster.gateway_actor import Gateways
from actors.served.player_client import Player, channel
from actors.served.serving import ServedWorld, Serving
from inference.connect import Target
from inference.vllm_server import VLLMServer, free_port
from tests.actors.test_players_replay import _play
from tests.actors.test_ray_runtime import journal_envelopes, recorded, reference, world
from tests.commands import socius
from world.record import RunRecord
from world.scenario import parse_scenario

pytestmark = [pytest.mark.ray, pytest.mark.slow]

CHAOS = random.Random(20261201)  # which ticks, which actors: the same every run


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    if ray.is_initialized():
        ray.shutdown()
    connect(num_cpus=2)
    yield
    ray.shutdown()


def kill(actor: Any, how: str) -> None:
    if how == "ray.kill":
        ray.kill(actor)
    else:
        actor.exit_process.remote()


def drive(rt: RayRuntime, faults: dict[int, Any]) -> dict[int, Any]:
    """Step `rt` to the end; before tick t (first time only) do faults[t](rt). Returns each
    tick's figures (a replayed tick's, as last played)."""
    figures: dict[int, Any] = {}
    while rt.completed < rt.scenario.ticks:
        fault = faults.pop(rt.completed + 1, None)
        if fault is not None:
            fault(rt)
        stats = rt.step()
        figures[rt.completed] = stats
    return figures


def assert_record_whole(folder: Path, ticks: int, envelopes: int) -> None:
    rows = list(csv.DictReader((folder / "metrics.csv").open()))
    assert [int(r["tick"]) for r in rows] == list(range(1, ticks + 1))
    assert journal_envelopes(folder) == envelopes


def test_a_heuristic_world_outlives_shard_actors_killed_at_random(tmp_path: Path) -> None:
    sc = world(size=60, ticks=200, seed=5)
    first, second = sorted(CHAOS.sample(range(15, 190), 2))
    # shards 1 and 2 are actors; shard 0 lives in the driver (actors/cluster/driver_shard.py)
    faults = {
        first: lambda rt: kill(rt.actors[CHAOS.randrange(1, 3)], "ray.kill"),
        second: lambda rt: kill(rt.actors[CHAOS.randrange(1, 3)], "process exit"),
    }
    with recorded(sc, tmp_path / "run", shards=3, every=10) as rt:
        rt.checkpoint()
        drive(rt, faults)
        digest, recoveries, envelopes = rt.digest(), rt.recoveries, rt.totals.c["envelopes"]
        replaced, restored = rt.replaced, rt.restored_from
    assert not faults, "every fault was injected"
    assert recoveries == 2
    # each time only the killed actor was started again; the other two rolled back in memory
    assert replaced == 2 and restored == {"memory": 2, "files": 1}
    assert digest == reference(sc)
    assert_record_whole(tmp_path / "run", sc.ticks, envelopes)


@pytest.mark.llm
def test_an_llm_world_outlives_its_gateway_server_and_a_shard(
    tiny_model: Path, tmp_path: Path
) -> None:
    sc = parse_scenario(
        {
            "name": "chaos",
            "seed": 8,
            "ticks": 24,
            "population": {"size": 20, "group_size": 10, "minds": {"heuristic": 1, "llm": 1}},
            "llm": {"decisions": "all", "words": 20, "max_tokens": 64, "timeout": 60},
        }
    )
    gateway_tick = CHAOS.randrange(3, 7)
    down_tick = CHAOS.randrange(8, 11)
    up_tick = down_tick + 3
    shard_tick = CHAOS.randrange(17, 22)
    port = free_port()
    server = VLLMServer(tiny_model, port=port, log=tmp_path / "server.log").start()
    folder = tmp_path / "run"
    record = RunRecord(folder, sc, 2, journals=False)
    gateways = Gateways.start(sc, Target("openai", (server.url,)), 1)
    rt = RayRuntime(sc, 2, record, checkpoint_every=4, llm=gateways)
    back: list[float] = []

    def restart(_: RayRuntime) -> None:
        server.start()  # the same port: the endpoint the gateway knows
        back.append(time.monotonic())

    faults = {
        gateway_tick: lambda _: ray.kill(gateways.handles[0], no_restart=False),
        down_tick: lambda _: server.stop(),
        up_tick: restart,
        shard_tick: lambda r: kill(r.actors[CHAOS.randrange(2)], "process exit"),
    }
    try:
        rt.checkpoint()
        figures = drive(rt, faults)
        totals, recoveries = rt.totals.c, rt.recoveries
    finally:
        rt.close()
        record.close()
        server.stop()
    assert not faults and back, "every fault was injected"
    assert rt.completed == sc.ticks and recoveries == 1
    # every decision given to the model was answered by it or made by the heuristic mind
    assert totals["llm_decisions"] == totals["llm_answers"] + totals["llm_fallbacks"] > 0
    assert totals["llm_fallbacks"] > 0 and totals["llm_errors"] > 0  # the outage was felt
    outage = range(down_tick, up_tick)
    assert all(figures[t].c["llm_answers"] == 0 for t in outage)
    # the model answers again once the server is back (its rest, 5 s, may cost a tick)
    assert sum(figures[t].c["llm_answers"] for t in range(up_tick + 1, sc.ticks + 1)) > 0
    assert_record_whole(folder, sc.ticks, totals["envelopes"])


def test_a_served_world_on_ray_outlives_a_shard_and_its_players_play_on(tmp_path: Path) -> None:
    """`socius serve --runtime ray` loses a shard actor after tick 6: the world goes back to its
    checkpoint of tick 4, the hall withdraws what was waiting and cuts the players' record back
    to tick 4, the players play ticks 5.. again, and the record left replays, in process, to
    the served world's digest."""
    sc = parse_scenario(
        {
            "name": "served-chaos",
            "seed": 4,
            "ticks": 12,
            "population": {"size": 40},
            "encounters": {"rate": 1.0},
            "players": {"playable": [3, 30]},
        }
    ).with_overrides(shards=2)
    how = Serving(tick_interval=0, player_wait=600, checkpoint_every=4, runtime="ray")
    served = ServedWorld(sc, tmp_path / "run", how)
    assert isinstance(served.runtime, RayRuntime)
    rt = served.runtime
    faults = {6: lambda: rt.actors[1].exit_process.remote()}
    served.driver.watchers.append(lambda tick, _: faults.pop(tick, lambda: None)())
    chan = channel(f"127.0.0.1:{served.port}")
    errors: list[str] = []
    three = Player(chan, next(t for t, c in served.tokens.items() if c == 3))
    three.join()

    def answer(player: Player, d: Any) -> None:
        player.act(d.id, next(o.action for o in d.options if not o.terms), f"three at {d.id}")

    thread = threading.Thread(target=_play, args=(three, answer, errors), daemon=True)
    thread.start()
    thirty = Player(chan, next(t for t, c in served.tokens.items() if c == 30))
    thirty.join()
    thirty.seek(10)
    thirty.done(12)  # its character's mind plays the rest
    try:
        served.run()
    finally:
        summary = served.close()
        thread.join(timeout=60)
    assert not faults and not errors, errors
    assert summary["ticks"] == 12 and summary["recoveries"] == 1
    assert rt.replaced == 1 and rt.restored_from == {"memory": 1, "files": 1}
    run = tmp_path / "run"
    record = [json.loads(line) for line in (run / "players.jsonl").read_text().splitlines()]
    # every tick's answers once: what was played after the checkpoint was played again
    assert sorted(line["tick"] for line in record if "claimed" in line) == list(range(1, 13))
    assert any(line["tick"] > 4 and line["answers"] for line in record if "claimed" in line)
    assert {"tick": 1, "seeks": [[30, 10]]} in record
    assert summary["players"]["answers"] > 0
    proc = socius(
        "run", run / "scenario.yaml", "--players-replay", run, "--runtime", "local",
        "--out", tmp_path / "again", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["state_digest"] == summary["state_digest"]
