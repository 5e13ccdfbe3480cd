"""Run records on an object store: `--out s3://BUCKET/PREFIX` against a real S3-compatible
server (moto's server mode, started here). A run writes its journal, checkpoints, metrics and
summary there; `journal`, `report` and `resume` read from there; a Ray run killed outright is
resumed from the store by a process with a staging folder of its own (as on another machine)
and ends with the uninterrupted digest; the store holds no credential; and an unreachable
store, missing credentials, a bucket that does not exist and a prefix that holds files are
each one line, exit 2, before anything starts."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from inference.vllm_server import free_port
from tests.commands import popen_socius, socius
from tests.s3 import s3_server
from world.runtime import LocalRuntime
from world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
VILLAGE = ROOT / "examples" / "village.yaml"
SECRET = "moto-secret-3f9a1c"  # the store's secret key: it must never reach the store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real S3-compatible server with a bucket `runs`; yields the environment that reaches
    it (each test also gets a staging folder of its own)."""
    with s3_server(tmp_path_factory.mktemp("moto") / "moto.log", SECRET) as env:
        yield env


def stored(prefix: str) -> list[str]:
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    return sorted(p.removeprefix(f"runs/{prefix}/") for p in fs.find(f"runs/{prefix}"))


def small_world(tmp_path: Path, ticks: int = 12, size: int = 40) -> Path:
    sc = load_scenario(VILLAGE).with_overrides(ticks=ticks, **{"population.size": size})
    path = tmp_path / "world.yaml"
    path.write_text(sc.to_yaml())
    return path


def test_a_run_lives_on_the_store_and_is_read_from_there(
    store: dict[str, str], tmp_path: Path
) -> None:
    env = {**store, "SOCIUS_STAGING": str(tmp_path / "stage")}
    world = small_world(tmp_path)
    url = "s3://runs/local-1"
    proc = socius(
        "run", world, "--runtime", "local", "--out", url, "--checkpoint-every", 5, "--quiet",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{url}: 12 ticks of 40 characters on local")
    files = stored("local-1")
    for name in ("scenario.yaml", "summary.json", "metrics.csv", "journal.json"):
        assert name in files, files
    assert any(f.startswith("journal/shard-") for f in files)
    assert "checkpoints/tick-00000012/manifest.json" in files
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    summary = json.loads(fs.cat("runs/local-1/summary.json"))
    sc = load_scenario(world)
    assert summary["state_digest"] == LocalRuntime(sc, 1).run().state_digest
    for name in files:  # no credential reaches the store
        assert SECRET.encode() not in fs.cat(f"runs/local-1/{name}"), name
    # readers read from the store, each into a staging folder of its own
    other = {**store, "SOCIUS_STAGING": str(tmp_path / "reader")}
    stats = socius("journal", "stats", url, env=other)
    assert stats.returncode == 0, stats.stderr
    assert f"{summary['totals']['envelopes']:,} envelopes" in stats.stdout
    report = socius("report", url, "--out", tmp_path / "report.html", env=other)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report.html").stat().st_size > 0


@pytest.mark.ray
def test_a_ray_run_killed_outright_resumes_from_the_store(
    store: dict[str, str], tmp_path: Path
) -> None:
    """A Ray run (2 shard actors) killed after its first checkpoints is resumed by a process
    whose staging folder is empty (as another machine's would be): it downloads the run,
    and ends with the uninterrupted digest and every tick in the store's metrics. (The run is
    long beside the wait for its first checkpoint, so the kill lands in its middle; one killed
    after its last checkpoint resumes to its summary too: test_cli.py.)"""
    world = small_world(tmp_path, ticks=120, size=60)
    url = "s3://runs/ray-1"
    env = {**store, "SOCIUS_STAGING": str(tmp_path / "first")}
    proc = popen_socius(
        "run", world, "--out", url, "--shards", 2, "--checkpoint-every", 5, "--quiet", env=env
    )
    try:
        for _ in range(1800):  # until the store holds a checkpoint past the start
            manifests = [f for f in stored("ray-1") if f.endswith("manifest.json")]
            if any(not f.startswith("checkpoints/tick-00000000") for f in manifests):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "summary.json" not in stored("ray-1")
    resumed = socius(
        "resume", url, "--quiet", timeout=300,
        env={**store, "SOCIUS_STAGING": str(tmp_path / "second")},
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    summary = json.loads(fs.cat("runs/ray-1/summary.json"))
    sc = load_scenario(world)
    assert summary["ticks"] == 120 and not summary["stopped_early"]
    assert summary["state_digest"] == LocalRuntime(sc, 1).run().state_digest
    rows = fs.cat("runs/ray-1/metrics.csv").decode().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == list(range(1, 121))


def test_bad_stores_are_one_line(store: dict[str, str], tmp_path: Path) -> None:
    world = small_world(tmp_path)
    base = {**store, "SOCIUS_STAGING": str(tmp_path / "stage")}
    cases = [
        ("s3://no-such-bucket/x", base, "the bucket 'no-such-bucket' does not exist"),
        (
            "s3://runs/x",
            {**base, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"},
            "cannot reach the store",
        ),
        (
            "s3://runs/x",
            {**base, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
            "no credentials for the store",
        ),
        ("nowhere://runs/x", base, "nowhere://runs/x: no filesystem for nowhere://"),
    ]
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.pipe("runs/taken/scenario.yaml", b"name: x\n")
    cases.append(("s3://runs/taken", base, "s3://runs/taken already holds files"))
    for url, env, said in cases:
        proc = socius(
            "run", world, "--runtime", "local", "--out", url, "--quiet", env=env, timeout=120
        )
        assert proc.returncode == 2, (url, proc.stderr)
        assert said in proc.stderr, (url, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr
    assert stored("x") == []
    gone = socius("resume", "s3://runs/nothing-here", env=base)
    assert gone.returncode == 2 and "s3://runs/nothing-here holds no run" in gone.stderr
    # commands that write on this machine refuse a store, rather than make a folder "s3:"
    swept = socius("sweep", world, "--param", "seed=1,2", "--out", "s3://runs/sweep", env=base)
    assert swept.returncode == 2
    assert "s3://runs/sweep: --out writes on this machine" in swept.stderr
    assert not Path("s3:").exists()
