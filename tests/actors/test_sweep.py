"""`socius sweep`: the grid as Ray tasks, rows that re-run exactly, correct intervals, clean
errors, and Ctrl-C that keeps finished rows."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import ray
import yaml
from ray.cluster_utils import Cluster

from actors.lab.stats import Estimate, t_quantile
from actors.lab.sweep import Param, plan
from actors.lab.sweep_figures import FIGURES, figures_of
from actors.lab.sweep_folder import Sweep, held_interrupt
from actors.lab.sweep_task import pack_folder, unpack_folder
from tests.commands import popen_socius, socius
from world.scenario import load_scenario

pytestmark = [pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]
REPEATS = 2
SEED = 11


def tiny(folder: Path, **changes: Any) -> Path:
    """The village at 20 characters and 10 ticks, with dotted fields changed, as a file."""
    data = yaml.safe_load((ROOT / "examples" / "village.yaml").read_text())
    data.update(name="tiny", ticks=10, seed=SEED)
    data["population"].update(size=20, group_size=10)
    for key, value in changes.items():
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    path = folder / f"tiny-{len(list(folder.glob('tiny-*')))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def cluster():
    """One Ray instance for the module: a head and a second node (one CPU each), so sweep
    runs land both on the driver's node (written in place) and off it (sent back packed)."""
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    c.add_node(num_cpus=1)
    c.wait_for_nodes()
    yield c.address
    c.shutdown()


@pytest.fixture(scope="module")
def sweep(cluster: str, tmp_path_factory: pytest.TempPathFactory):
    """2 params x 2 values x 2 repeats of a 20-character, 10-tick world."""
    base = tmp_path_factory.mktemp("sweep")
    out = base / "out"
    proc = socius(
        "sweep",
        tiny(base),
        "--param",
        "information.gossip=false,true",
        "--param",
        "noise.execution=0,0.05",
        "--repeats",
        REPEATS,
        "--address",
        cluster,
        "--out",
        out,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return base, out, proc


def test_rows_are_the_grid_times_the_repeats(sweep) -> None:
    """runs.csv has one row per grid point and repeat, each with its parameter values, the seed
    of the documented rule (scenario seed + repeat) and a complete run folder."""
    _, out, _ = sweep
    rows = read_csv(out / "runs.csv")
    assert len(rows) == 4 * REPEATS
    seen = {(r["information.gossip"], r["noise.execution"], r["repeat"]) for r in rows}
    assert seen == {
        (g, e, str(k)) for g in ("false", "true") for e in ("0", "0.05") for k in range(REPEATS)
    }
    for row in rows:
        assert int(row["seed"]) == SEED + int(row["repeat"])
        run = out / row["run"]
        summary = json.loads((run / "summary.json").read_text())
        assert summary["seed"] == int(row["seed"])
        assert summary["state_digest"] == row["state_digest"]
        assert (run / "metrics.csv").is_file() and list((run / "checkpoints").glob("tick-*"))
        ran = yaml.safe_load((run / "scenario.yaml").read_text())
        assert ran["information"]["gossip"] == (row["information.gossip"] == "true")
        assert ran["noise"]["execution"] == float(row["noise.execution"])
    spec = json.loads((out / "sweep.json").read_text())
    assert spec["params"] == {"information.gossip": [False, True], "noise.execution": [0, 0.05]}
    assert spec["repeats"] == REPEATS and spec["runs"] == len(rows)


def test_a_row_is_what_socius_run_gives(sweep) -> None:
    """A sweep row has the figures and state digest of a plain `socius run --runtime local` of
    the same scenario, parameter values and seed."""
    base, out, _ = sweep
    row = next(
        r
        for r in read_csv(out / "runs.csv")
        if r["information.gossip"] == "true"
        and r["noise.execution"] == "0.05"
        and r["repeat"] == "1"
    )
    scenario = tiny(base, **{"information.gossip": True, "noise.execution": 0.05})
    plain = base / "plain"
    proc = socius(
        "run", scenario, "--runtime", "local", "--seed", row["seed"], "--out", plain, "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((plain / "summary.json").read_text())
    assert summary["state_digest"] == row["state_digest"]
    for name, value in figures_of(summary).items():
        assert float(row[name]) == pytest.approx(value, abs=1e-12), name


def test_stats_are_mean_sd_and_t_interval(sweep) -> None:
    """stats.csv holds, per grid point and figure, the mean, sample sd and 95% t interval of
    that point's rows, as computed by hand."""
    _, out, _ = sweep
    rows = read_csv(out / "runs.csv")
    stats = read_csv(out / "stats.csv")
    assert len(stats) == 4 * len(FIGURES)
    t1 = 12.7062047  # Student's t, 97.5% quantile, 1 degree of freedom (tables)
    for s in stats:
        values = [float(r[s["figure"]]) for r in rows if r["point"] == s["point"]]
        assert int(s["n"]) == len(values) == REPEATS
        mean, sd = statistics.fmean(values), statistics.stdev(values)
        assert float(s["mean"]) == pytest.approx(mean, abs=1e-8)
        assert float(s["sd"]) == pytest.approx(sd, abs=1e-8)
        half = t1 * sd / math.sqrt(2)
        assert float(s["ci_low"]) == pytest.approx(mean - half, abs=1e-6)
        assert float(s["ci_high"]) == pytest.approx(mean + half, abs=1e-6)
    assert any(float(s["sd"]) > 0 for s in stats), "repeats with other seeds should differ"


def test_the_sweep_ends_with_a_table(sweep) -> None:
    """The terminal shows the table of grid points and where the sweep folder is."""
    _, out, proc = sweep
    assert "mean ± 95% CI" in proc.stdout
    assert f"sweep folder: {out}" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("n", "df", "table"),
    [(1, 1, 12.7062), (2, 2, 4.3027), (3, 3, 3.1824), (9, 9, 2.2622), (30, 30, 2.0423)],
)
def test_t_quantile_matches_the_tables(n: int, df: int, table: float) -> None:
    """The 97.5% quantile of Student's t agrees with published tables to 4 decimals."""
    assert t_quantile(df) == pytest.approx(table, abs=5e-5)


def test_estimate_by_hand() -> None:
    """Estimate.of([1, 2, 3, 4]): mean 2.5, sd sqrt(5/3), half width t(3) sd / 2."""
    est = Estimate.of([1.0, 2.0, 3.0, 4.0])
    sd = math.sqrt(5 / 3)
    assert (est.n, est.mean, est.sd) == (4, 2.5, pytest.approx(sd))
    assert est.ci_high - est.mean == pytest.approx(3.182446 * sd / 2, abs=1e-5)
    one = Estimate.of([3.0])
    assert one.mean == 3.0 and math.isnan(one.sd) and math.isnan(one.ci_low)


def test_pack_round_trips_a_run_folder(sweep, tmp_path: Path) -> None:
    """A run folder sent back from another node arrives byte for byte."""
    _, out, _ = sweep
    run = out / "runs" / "p000-r00"
    unpack_folder(pack_folder(run), tmp_path / "copy")
    files = sorted(p.relative_to(run) for p in run.rglob("*") if p.is_file())
    assert files and files == sorted(
        p.relative_to(tmp_path / "copy") for p in (tmp_path / "copy").rglob("*") if p.is_file()
    )
    for f in files:
        assert (run / f).read_bytes() == (tmp_path / "copy" / f).read_bytes()


BAD = {
    "no-section": (["informaton.gossip=true"], ["informaton.gossip", "information"]),
    "no-field": (["information.gosip=true"], ["information.gosip", "gossip_weight"]),
    "bad-bool": (["information.gossip=maybe"], ["information.gossip=maybe", "boolean"]),
    "too-big": (["noise.execution=0,0.9"], ["noise.execution=0.9", "0.5"]),
    "a-section": (["population=1"], ["population", "population.size"]),
    "no-values": (["noise.execution"], ["noise.execution", "NAME=V1,V2"]),
    "empty-value": (["noise.execution=0,,1"], ["noise.execution", "not a value"]),
    "twice": (["noise.execution=0", "noise.execution=1"], ["noise.execution", "twice"]),
}


def one_line_error(proc: subprocess.CompletedProcess[str], start: str, words: list[str]) -> None:
    """Exit 2 and one stderr line, starting with `start`, holding every word; no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_params_are_one_line(case: str, tmp_path: Path) -> None:
    """A bad parameter name or value: exit 2, one line naming it and what is allowed, no
    traceback, and no sweep folder (nothing ran)."""
    params, words = BAD[case]
    out = tmp_path / "out"
    proc = socius(
        "sweep", tiny(tmp_path), *(a for p in params for a in ("--param", p)), "--out", out
    )
    one_line_error(proc, "socius: --param ", words)
    assert not out.exists()


def test_bad_show_is_one_line(tmp_path: Path) -> None:
    """--show with a figure that does not exist names it and lists the figures."""
    out = tmp_path / "out"
    proc = socius(
        "sweep", tiny(tmp_path), "--param", "noise.execution=0", "--show", "trust", "--out", out
    )
    one_line_error(proc, "socius: --show", ["'trust'", "mean_trust"])
    assert not out.exists()


def test_ctrl_c_keeps_finished_rows_and_resume_runs_the_rest(cluster: str, tmp_path: Path) -> None:
    """Ctrl-C during a sweep keeps every finished run as a whole row, with stats.csv of those
    rows, and cancels the rest; --resume keeps them and runs the rest, to the full grid. The
    interrupt comes as the first run is recorded (SIGINT sent where the sweep reports
    progress), so the test does not depend on how fast the machine is."""
    out = tmp_path / "out"
    scenario = tiny(tmp_path, ticks=20, **{"population.size": 60, "population.group_size": 20})
    base = load_scenario(scenario)
    params = [Param.parse("noise.execution=0,0.02,0.05")]
    sweep = Sweep(out.resolve(), base, params, 3, plan(base, params, 3))
    sweep.start(str(scenario))
    told: list[str] = []

    def ctrl_c_after_the_first(label: str) -> None:
        told.append(label)
        if len(told) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # a terminal's Ctrl-C

    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's Ctrl-C
    try:
        outcome = sweep.run(cluster, ctrl_c_after_the_first)
    finally:
        signal.signal(signal.SIGINT, outer)
        ray.shutdown()  # the sweep joined the cluster from this process
    assert outcome.interrupted and not outcome.failures and len(told) == 1
    kept = read_csv(out / "runs.csv")
    assert len(kept) == 1
    for row in kept:
        summary = json.loads((out / row["run"] / "summary.json").read_text())
        assert summary["state_digest"] == row["state_digest"]
    stats = read_csv(out / "stats.csv")
    assert {s["point"] for s in stats} == {r["point"] for r in kept}

    command = [
        "sweep", scenario, "--param", "noise.execution=0,0.02,0.05", "--repeats", 3,
        "--address", cluster, "--out", out, "--quiet",
    ]  # fmt: skip
    again = socius(*command, "--resume", timeout=300)
    assert again.returncode == 0, again.stderr
    rows = read_csv(out / "runs.csv")
    assert [(r["point"], r["repeat"]) for r in rows] == [
        (str(p), str(k)) for p in range(3) for k in range(3)
    ]
    assert all(r in rows for r in kept)
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        Path(r["run"]).name for r in rows
    )
    assert {int(s["n"]) for s in read_csv(out / "stats.csv")} == {3}


@ray.remote(num_cpus=1)
class Seat:
    """Holds one CPU of the cluster while it lives."""

    def ready(self) -> bool:
        return True


def test_sigint_stops_a_sweep_with_exit_130_and_how_to_resume(cluster: str, tmp_path: Path) -> None:
    """SIGINT to `socius sweep` (Ctrl-C) ends it with exit 130, no traceback, the sweep folder
    whole and the line that says --resume runs the rest. Every CPU of the cluster is held
    while it runs, so no run can finish before the signal, however fast the machine."""
    out = tmp_path / "out"
    scenario = tiny(tmp_path)
    ray.init(address=cluster)
    try:
        seats = [Seat.remote() for _ in range(int(ray.cluster_resources()["CPU"]))]
        ray.get([s.ready.remote() for s in seats])
        proc = popen_socius(
            "sweep", scenario, "--param", "noise.execution=0,0.05", "--repeats", 2,
            "--address", cluster, "--out", out, "--quiet",
        )  # fmt: skip
        try:
            for _ in range(1200):
                if (out / "runs.csv").is_file():  # written once the sweep has joined Ray
                    break
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    finally:
        ray.shutdown()  # the seats go with this process's connection
    assert proc.returncode == 130, err
    assert "sweep stopped" in err and "--resume" in err and "Traceback" not in err
    assert read_csv(out / "runs.csv") == []
    assert (out / "sweep.json").is_file() and (out / "stats.csv").is_file()


def test_resume_refuses_another_sweep(sweep) -> None:
    """--resume into a folder that holds a sweep of other parameters is one line, exit 2."""
    base, out, _ = sweep
    proc = socius("sweep", tiny(base), "--param", "noise.execution=0,0.1", "--out", out, "--resume")
    one_line_error(proc, "socius: --resume", [str(out), "another sweep"])


def test_a_ctrl_c_while_runs_are_submitted_waits_for_the_submission() -> None:
    """SIGINT inside `held_interrupt` raises nothing there; the block's end says it came, and
    the previous handler is back (so the next Ctrl-C interrupts as usual)."""
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's Ctrl-C
    before = signal.getsignal(signal.SIGINT)
    try:
        held(before)
    finally:
        signal.signal(signal.SIGINT, outer)


def held(before: Any) -> None:
    with held_interrupt() as interrupted:
        assert not interrupted()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs at the next bytecode; the sleep only gives it one
        assert interrupted()
    assert interrupted()
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
