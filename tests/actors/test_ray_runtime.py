"""The Ray runtime keeps the determinism contract and survives dead shard actors."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from actors.cluster.connect import ActorPlacement, connect
from actors.cluster.coordinator import RayRuntime, RunFault
from actors.cluster.gateway_actor import Gateways
from inference.backends.base import Request
from inference.connect import Target
from tests.commands import instant
from tests.world.test_events import EVERY_KIND, journal_events, village
from world.errors import RunFolderError
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario
from world.store import NODE_MARK

pytestmark = [pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance for the module (two CPUs)."""
    if ray.is_initialized():
        ray.shutdown()
    connect(num_cpus=2)
    yield
    ray.shutdown()


def world(size: int = 60, ticks: int = 12, seed: int = 2, group_size: int = 10) -> Scenario:
    return parse_scenario(
        {
            "name": "raytest",
            "population": {"size": size, "group_size": group_size},
            "ticks": ticks,
            "seed": seed,
            "information": {"observation_rate": 0.3},
        }
    )


def reference(sc: Scenario) -> str:
    return LocalRuntime(sc, 1).run().state_digest


@contextlib.contextmanager
def recorded(sc: Scenario, folder: Path, shards: int, every: int) -> Iterator[RayRuntime]:
    """A Ray runtime writing a run folder, closed (actors and record) afterwards."""
    rt = RayRuntime(sc, shards, RunRecord(folder, sc, shards, journals=False), every)
    try:
        yield rt
    finally:
        rt.close()
        assert rt.record is not None
        rt.record.close()


def journal_envelopes(folder: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "actors.cli", "journal", "stats", folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split(":", 1)[1].split("envelopes")[0].replace(",", ""))


@pytest.mark.parametrize("shards", [1, 3, 5])
def test_ray_matches_the_in_process_runtime(shards: int) -> None:
    """Any number of shard actors reaches the in-process runtime's digest. On one machine the
    driver is the post: no post actor is started, and the driver carried every tick's mail
    (none of it in bundles to other nodes). It also steps shard 0 itself, in its own process,
    when there are others (a world of one shard is one actor)."""
    sc = world()
    rt = RayRuntime(sc, shards)
    try:
        pids = [w["pid"] for w in rt.where()]
        assert len(set(pids)) == shards
        assert (pids[0] == os.getpid()) == (shards > 1)
        assert os.getpid() not in pids[1:]
        if shards > 1:  # a fault drill cannot end the driver's process for its shard
            with pytest.raises(RuntimeError, match="lives in the driver's process"):
                rt._get([rt.actors[0].exit_process.remote()])
        assert rt.run().state_digest == reference(sc)
        assert rt.posts == [] and rt.home is not None
        [counts] = rt.post_counts()
        assert counts["flushes"] == sc.ticks and counts["bundles"] == 0
        assert (counts["parcels"] > 0) == (shards > 1)  # mail crossed shards, if any other
    finally:
        rt.close()


def test_events_on_ray_match_the_in_process_runtime(tmp_path: Path) -> None:
    """A world with every kind of event reaches the in-process digest on 3 shard actors, and
    its shard actors journal the events' envelopes as the in-process runtime does."""
    sc = village(EVERY_KIND, ticks=16)
    with recorded(sc, tmp_path / "ray", 3, 0) as rt:
        assert rt.run().state_digest == LocalRuntime(sc, 3).run().state_digest
    assert sorted(journal_events(tmp_path / "ray")) == sorted(
        journal_events_of(sc, tmp_path / "local")
    )


def journal_events_of(sc: Scenario, folder: Path) -> list[tuple[int, int, int, int, int]]:
    record = RunRecord(folder, sc, 3)
    LocalRuntime(sc, 3, record).run()
    record.close()
    return journal_events(folder)


def test_one_actor_per_character() -> None:
    """The literal layout, a shard per character (8 of them, in two groups: the driver's own
    and 7 Ray actors), gives the same digest. (Each actor is a process that loads numpy and
    the compiled kernels, about 6 s of a 2-core CI machine each: 40 took two minutes and 16 a
    minute and a half, and showed nothing 8 do not.)"""
    sc = world(size=8, ticks=6, group_size=4)
    rt = RayRuntime(sc, 8)
    try:
        assert len({w["pid"] for w in rt.where()}) == 8
        result = rt.run()
        assert result.state_digest == reference(sc)
        assert result.totals.c["envelopes"] > 8 * 6  # mail crossed between the actors
    finally:
        rt.close()


@pytest.mark.parametrize("fault", ["ray.kill", "process exit"])
def test_recovers_from_a_dead_shard_actor(tmp_path: Path, fault: str) -> None:
    """A shard actor that dies mid-run is replaced from the last checkpoint; the run ends
    with the uninterrupted digest, counts the recovery, and its record has every tick once."""
    sc = world()
    with recorded(sc, tmp_path / "run", shards=3, every=4) as rt:
        rt.checkpoint()
        for _ in range(6):
            rt.step()
        victim = rt.actors[1]
        if fault == "ray.kill":
            ray.kill(victim)
        else:
            victim.exit_process.remote()
        result = rt.run()
    assert result.state_digest == reference(sc)
    assert result.recoveries == 1
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert [int(r["tick"]) for r in rows] == list(range(1, sc.ticks + 1))
    assert journal_envelopes(tmp_path / "run") == result.totals.c["envelopes"]


def test_a_fault_without_checkpoints_ends_the_run_clearly(tmp_path: Path) -> None:
    """With checkpoints off, a dead shard ends the run with a message that says why, and the
    record keeps every finished tick."""
    sc = world()
    with recorded(sc, tmp_path / "run", shards=2, every=0) as rt:
        for _ in range(3):
            rt.step()
        ray.kill(rt.actors[1])
        with pytest.raises(RunFault, match="no checkpoint to recover from"):
            rt.run()
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert len(rows) == 3


def test_a_fault_with_the_checkpoints_gone_ends_the_run_clearly(tmp_path: Path) -> None:
    """If the checkpoint files are gone when a shard dies, the run stops with a message naming
    the missing file instead of carrying on wrongly."""
    sc = world()
    with recorded(sc, tmp_path / "run", shards=2, every=2) as rt:
        rt.checkpoint()
        for _ in range(3):
            rt.step()
        for f in (tmp_path / "run" / "checkpoints").glob("tick-*/shard-*.msgpack"):
            f.unlink()
        ray.kill(rt.actors[1])
        with pytest.raises(RunFolderError, match="cannot read checkpoint file"):
            rt.run()
    assert (tmp_path / "run" / "metrics.csv").is_file()


def test_a_tick_that_keeps_failing_ends_the_run(tmp_path: Path) -> None:
    """A fault that comes back every time the same tick is replayed is not retried forever:
    after three recoveries the run stops with a message naming the tick (the checkpoint is
    two ticks back, so each replay passes through a tick that succeeds first)."""
    sc = world()
    with recorded(sc, tmp_path / "run", shards=2, every=3) as rt:
        step_shards = rt._step_shards

        def doomed(tick: int):
            if tick == 5:
                ray.kill(rt.actors[1])
            return step_shards(tick)

        rt._step_shards = doomed  # type: ignore[method-assign]
        with pytest.raises(RunFault, match="tick 5 failed 3 times"):
            rt.run()
    assert rt.recoveries == 3


def socius(*args: object, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "actors.cli", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def wait_rows(proc: subprocess.Popen[str], metrics: Path, rows: int) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) > rows:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        time.sleep(0.05)
    pytest.fail("the run did not get going")


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGINT"])
def test_resume_after_the_process_is_stopped(tmp_path: Path, stop: str) -> None:
    """A Ray run killed outright, or stopped with Ctrl-C, resumes from its last checkpoint and
    ends with the digest of the uninterrupted run and a journal that matches its figures."""
    out = tmp_path / "run"
    sc = world(size=300, ticks=100)  # long beside the wait for 12 rows: the stop lands mid-run
    scenario = tmp_path / "world.yaml"
    scenario.write_text(sc.to_yaml())
    proc = socius("run", scenario, "--out", out, "--checkpoint-every", 5, "--shards", 3, "--quiet")
    wait_rows(proc, out / "metrics.csv", 12)
    proc.send_signal(signal.SIGKILL if stop == "SIGKILL" else signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == (-9 if stop == "SIGKILL" else 130)
    summary = out / "summary.json"
    assert (not summary.exists()) if stop == "SIGKILL" else summary.exists()
    resumed = subprocess.run(
        [sys.executable, "-m", "actors.cli", "resume", out, "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(summary.read_text())
    assert result["ticks"] == sc.ticks and not result["stopped_early"]
    assert result["state_digest"] == reference(sc)
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["tick"]) for r in rows] == list(range(1, sc.ticks + 1))
    assert journal_envelopes(out) == result["totals"]["envelopes"]


def test_a_tick_longer_than_the_tick_timeout_stops_the_run_in_one_line(tmp_path: Path) -> None:
    """A world of llm minds whose model never answers (the instant server stalls every
    request) on Ray with a 2-second tick timeout: the run stops at tick 1 with one message
    naming the limit and how to go on, without replaying the tick (a replay would be as
    slow); without a limit nothing times out (the default)."""
    sc = parse_scenario(
        {
            "name": "stalled",
            "population": {"size": 6, "group_size": 3, "minds": {"llm": 1.0}},
            "llm": {"decisions": "all", "timeout": 600, "retries": 0},
            "ticks": 3,
        }
    )
    assert ActorPlacement().tick_timeout is None
    with instant("--stall-every", 1) as url:
        target = Target("openai", (url,))
        gateways = Gateways.start(sc, target, 1)
        rt = RayRuntime(sc, 1, placement=ActorPlacement(tick_timeout=2.0), llm=gateways)
        try:
            with pytest.raises(RunFault) as err:
                rt.step()
        finally:
            rt.close()
    said = str(err.value)
    assert said.startswith("tick 1 took longer than --tick-timeout 2 s"), said
    assert "socius resume RUN --tick-timeout SECONDS" in said and "\n" not in said
    assert rt.recoveries == 0


def test_a_shard_actor_answers_while_its_step_waits_on_the_model() -> None:
    """A shard actor whose step waits on a model that never answers still answers a liveness
    check and a look at its shard (they run on its other threads, not the shard's); the CPU its
    steps took (`worked`) is counted once a step ends, on the thread that ran it."""
    sc = parse_scenario(
        {
            "name": "stalled",
            "population": {"size": 6, "group_size": 3, "minds": {"llm": 1.0}},
            "llm": {"decisions": "all", "timeout": 600, "retries": 0},
            "ticks": 3,
        }
    )
    with instant("--stall-every", 1) as url:
        gateways = Gateways.start(sc, Target("openai", (url,)), 1)
        rt = RayRuntime(sc, 1, llm=gateways)
        try:
            actor = rt.actors[0]
            stepping = actor.step.remote(1, [])
            for _ in range(600):  # until the step has asked the model
                if served(url):
                    break
                time.sleep(0.05)
            assert served(url) > 0
            ready = ray.get(actor.ready.remote(), timeout=30)
            state = ray.get(actor.state.remote(), timeout=30)
            done, _ = ray.wait([stepping], timeout=0)
            assert not done, "the step should still be waiting on the model"
            assert ready["tick"] == 0 and ready["worked"] == 0.0
            assert state["tick"] == 0
        finally:
            rt.close()
    quick = parse_scenario({"name": "quick", "population": {"size": 6}, "ticks": 2})
    rt = RayRuntime(quick, 1)
    try:
        assert rt.where()[0]["worked"] == 0.0
        rt.step()
        assert rt.where()[0]["worked"] > 0.0
    finally:
        rt.close()


def test_a_gateway_replica_that_dies_comes_back() -> None:
    """A world of llm minds on Ray with one gateway replica, which is killed after tick 1:
    Ray restarts it, it connects again on its first request, and the model answers the
    following ticks (the endpoint sees their requests; the restart is counted). A replica
    killed for good is replaced by `respawn` (as a recovery does), and the new one answers.
    (A replica's figures start again when it restarts: the requests it counts are fewer than
    the endpoint served, the sign that it is a new process.)"""
    sc = parse_scenario(
        {
            "name": "restarted",
            "population": {"size": 6, "group_size": 3, "minds": {"llm": 1.0}},
            "llm": {"decisions": "all"},
            "ticks": 4,
        }
    )
    with instant() as url:
        gateways = Gateways.start(sc, Target("openai", (url,)), 1)
        rt = RayRuntime(sc, 1, llm=gateways)
        try:
            rt.step()
            before = served(url)
            assert before > 0
            ray.kill(gateways.handles[0], no_restart=False)
            for _ in range(3):
                rt.step()
            assert served(url) > before
            assert 0 < rt.inference_stats()["requests"] < served(url)
            first = gateways.handles[0]
            ray.kill(first, no_restart=True)
            for _ in range(600):  # until Ray has taken it down
                try:
                    ray.get(first.stats.remote(), timeout=10)
                except ray.exceptions.RayActorError:
                    break
                time.sleep(0.1)
            assert gateways.respawn() == 1 and gateways.handles[0] is not first
            assert gateways.respawn() == 0
            asked = served(url)
            answers = ray.get(gateways.handles[0].ask.remote([one_request()]))
            assert answers[0].text is not None and served(url) == asked + 1
        finally:
            rt.close()


def served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/counts", timeout=5) as r:
        return int(json.loads(r.read())["requests"])


def one_request() -> Request:
    return Request(
        key="probe",
        messages=[{"role": "user", "content": "hi"}],
        schema={"type": "object"},
        max_tokens=8,
        seed=1,
    )


def test_shard_actors_must_see_the_run_folder(tmp_path: Path) -> None:
    """The driver leaves a token in the run folder and every shard actor reads it: here they
    all do. When the driver's folder is not the one the actors see (as on a node without
    the shared mount, which makes its own empty folder at the same path; here the driver's
    record is pointed at another folder), the check stops the run with one line saying what
    to do."""
    sc = world(size=20, ticks=2)
    with recorded(sc, tmp_path / "run", shards=2, every=0) as rt:
        assert (tmp_path / "run" / NODE_MARK).exists()
        rt.check_folder()  # every actor sees it
        assert rt.record is not None
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        seen_by_actors = rt.record.folder
        rt.record.folder = elsewhere  # the driver's folder is not the actors'
        try:
            with pytest.raises(RunFolderError) as err:
                rt.check_folder()
        finally:
            rt.record.folder = seen_by_actors
    said = str(err.value)
    assert said.startswith(f"the run folder {elsewhere.resolve()} is not the same folder on node")
    assert "(shard 0)" in said and "or give --out s3://BUCKET/PREFIX" in said
