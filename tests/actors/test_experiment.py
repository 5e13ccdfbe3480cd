"""`socius experiment`: arms on common seeds, paired effects and bands that scipy agrees with,
a control arm that is plain `socius run`, the report page, sweeps' --compare-to, and bad input
in one line with nothing written."""

from __future__ import annotations

import json
import math
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import numpy as np
import pytest
import ray
import yaml
from ray.cluster_utils import Cluster
from scipy import stats

from actors.cli.main import main
from actors.lab.experiment import arms_of, plan
from actors.lab.paired import CURVES
from actors.lab.stats import Paired
from tests.actors.test_sweep import one_line_error, read_csv, tiny
from tests.commands import socius
from world.scenario import load_scenario

REPEATS = 3
SEED = 21
SMALL = {"ticks": 20, "seed": SEED, "population.size": 60, "population.group_size": 20}
FAMINE = {"kind": "famine", "ticks": [5, 15], "target": {"groups": [0]}, "factor": 0.2}
#: each treatment arm: its file's text, and what it changes as tiny() takes it
ARMS: dict[str, tuple[str, dict[str, Any]]] = {
    "lean": ("economy.abundance: 0.4\n", {"economy.abundance": 0.4}),
    "famine": (yaml.safe_dump({"events": [FAMINE]}), {"events": [FAMINE]}),
}


def in_process(capsys: pytest.CaptureFixture[str], *args: object) -> CompletedProcess[str]:
    """`socius ARGS` in this process (for input refused before anything starts: quicker
    than a new interpreter), as a finished process: exit code, what it printed."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return CompletedProcess(["socius", *map(str, args)], code, out, err)


def small(folder: Path, **changes: Any) -> Path:
    """The village at 60 characters in 3 groups and 20 ticks, with dotted fields changed."""
    return tiny(folder, **{**SMALL, **changes})


@pytest.fixture(scope="module")
def cluster():
    """One Ray instance (two CPUs) for the module's commands to join."""
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    yield c.address
    c.shutdown()


@pytest.fixture(scope="module")
def experiment(cluster: str, tmp_path_factory: pytest.TempPathFactory):
    """Control, lean years (abundance 0.4) and a famine in group 0 (an event, ticks 5-15),
    3 repeats each, 60 characters, 20 ticks."""
    base = tmp_path_factory.mktemp("experiment")
    for arm, (text, _) in ARMS.items():
        (base / f"{arm}.yaml").write_text(text)
    out = base / "out"
    proc = socius(
        "experiment", small(base), *treatments(base), "--repeats", REPEATS,
        "--address", cluster, "--out", out, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return base, out, proc


def treatments(folder: Path) -> list[str]:
    return [a for arm in ARMS for a in ("--treatment", str(folder / f"{arm}.yaml"))]


@pytest.mark.ray
def test_every_arm_runs_on_the_same_seeds(experiment) -> None:
    """runs.csv has a row per arm and repeat; repeat r has seed (scenario seed + r) in every
    arm, and each row's folder holds that run."""
    _, out, _ = experiment
    rows = read_csv(out / "runs.csv")
    assert sorted((r["arm"], r["repeat"]) for r in rows) == sorted(
        (arm, str(k)) for arm in ("control", *ARMS) for k in range(REPEATS)
    )
    for row in rows:
        assert int(row["seed"]) == SEED + int(row["repeat"])
        summary = json.loads((out / row["run"] / "summary.json").read_text())
        assert summary["state_digest"] == row["state_digest"]
        assert summary["seed"] == int(row["seed"])
        ran = yaml.safe_load((out / row["run"] / "scenario.yaml").read_text())
        assert ran["economy"]["abundance"] == (0.4 if row["arm"] == "lean" else 1.0)
        events = [
            (e["kind"], e["ticks"], e["target"]["groups"], e["factor"]) for e in ran["events"]
        ]
        assert events == ([("famine", [5, 15], [0], 0.2)] if row["arm"] == "famine" else [])
    spec = json.loads((out / "experiment.json").read_text())
    assert spec["control"] == "control"
    assert spec["arms"]["lean"]["changes"] == {"economy.abundance": 0.4}
    assert spec["arms"]["famine"]["events"] == [FAMINE]


@pytest.mark.ray
def test_the_control_arm_is_plain_socius_run(experiment) -> None:
    """Each control run has the digest of `socius run --runtime local` of the scenario on its
    seed, and a treatment run that of the scenario with the treatment's change (a field, or
    its events)."""
    base, out, _ = experiment
    rows = read_csv(out / "runs.csv")
    for row in rows:
        if row["arm"] != "control" and row["repeat"] != "0":
            continue
        changes = ARMS[row["arm"]][1] if row["arm"] in ARMS else {}
        plain = base / f"plain-{row['arm']}-{row['repeat']}"
        proc = socius(
            "run", small(base, **changes), "--runtime", "local", "--seed", row["seed"],
            "--out", plain, "--quiet",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((plain / "summary.json").read_text())
        assert summary["state_digest"] == row["state_digest"], row["run"]


def scipy_paired(treated: list[float], control: list[float]) -> dict[str, float]:
    """The paired comparison as scipy computes it."""
    diff = np.array(treated) - np.array(control)
    n = len(diff)
    sd = diff.std(ddof=1)
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    p = float(stats.ttest_rel(treated, control).pvalue) if sd > 0 else math.nan
    return {
        "diff": diff.mean(),
        "diff_sd": sd,
        "ci_low": diff.mean() - half,
        "ci_high": diff.mean() + half,
        "d_z": diff.mean() / sd if sd > 0 else math.nan,
        "p_value": p,
    }


@pytest.mark.ray
def test_effects_are_scipys_paired_statistics_of_runs_csv(experiment) -> None:
    """effects.csv holds, per treatment and figure, the arm minus the control pair by pair
    (same repeat, same seed): the mean difference, its sd, the 95% t interval, d_z and the
    paired t test's p, as scipy computes them from runs.csv."""
    _, out, _ = experiment
    rows = read_csv(out / "runs.csv")
    effects = read_csv(out / "effects.csv")
    spec = json.loads((out / "experiment.json").read_text())
    assert sorted((e["arm"], e["figure"]) for e in effects) == sorted(
        (arm, f) for arm in ARMS for f in spec["figures"]
    )
    moved = {arm: 0 for arm in ARMS}
    for e in effects:
        figure = e["figure"]
        by = {(r["arm"], int(r["repeat"])): float(r[figure]) for r in rows}
        treated = [by[e["arm"], k] for k in range(REPEATS)]
        control = [by["control", k] for k in range(REPEATS)]
        want = scipy_paired(treated, control)
        assert int(e["n"]) == REPEATS
        assert float(e["mean"]) == pytest.approx(np.mean(treated), abs=1e-8)
        assert float(e["reference_mean"]) == pytest.approx(np.mean(control), abs=1e-8)
        for column in ("diff", "diff_sd", "ci_low", "ci_high"):
            assert float(e[column]) == pytest.approx(want[column], abs=1e-6), (figure, column)
        if want["diff_sd"] > 0:
            moved[e["arm"]] += 1
            assert float(e["d_z"]) == pytest.approx(want["d_z"], rel=1e-6), figure
            assert float(e["p_value"]) == pytest.approx(want["p_value"], abs=1e-6), figure
    for arm, n in moved.items():
        assert n > len(spec["figures"]) // 2, f"{arm} should change most figures, run by run"


@pytest.mark.ray
def test_curves_are_bands_of_the_runs_metrics(experiment) -> None:
    """curves.csv holds, per figure and tick, the mean paired difference of the runs'
    metrics.csv (counts summed up to the tick) with scipy's 95% t interval; each curve ends
    at the effect of effects.csv."""
    _, out, _ = experiment
    rows = read_csv(out / "runs.csv")
    curves = read_csv(out / "curves.csv")
    effects = {(e["arm"], e["figure"]): e for e in read_csv(out / "effects.csv")}
    run = {(r["arm"], int(r["repeat"])): out / r["run"] for r in rows}
    metrics = {key: read_csv(folder / "metrics.csv") for key, folder in run.items()}
    assert {c["figure"] for c in curves} == set(CURVES)
    for (arm, figure), effect in effects.items():
        if figure not in CURVES:
            continue
        column, summed = CURVES[figure]
        mine = [c for c in curves if c["figure"] == figure and c["arm"] == arm]
        assert [int(c["tick"]) for c in mine] == list(range(1, 21))

        def series(arm: str, k: int, column: str = column, summed: bool = summed) -> np.ndarray:
            values = np.array([float(m[column]) for m in metrics[arm, k]])
            return np.cumsum(values) if summed else values

        diffs = np.array([series(arm, k) - series("control", k) for k in range(REPEATS)])
        for i, c in enumerate(mine):
            d = diffs[:, i]
            assert float(c["diff"]) == pytest.approx(d.mean(), abs=1e-6), (figure, i)
            if d.std() > 0:
                low, high = stats.t.interval(0.95, REPEATS - 1, d.mean(), stats.sem(d))
                assert float(c["ci_low"]) == pytest.approx(low, abs=1e-6), (figure, i)
                assert float(c["ci_high"]) == pytest.approx(high, abs=1e-6), (figure, i)
        assert float(mine[-1]["diff"]) == pytest.approx(float(effect["diff"]), abs=1e-5)


@pytest.mark.ray
def test_the_arms_are_one_world_until_the_treatment_starts(experiment) -> None:
    """Common random numbers: before the famine's first tick (5) the famine arm and the
    control are the same world, pair by pair, so every difference and band there is 0; from
    it on, some figure differs."""
    _, out, _ = experiment
    curves = [c for c in read_csv(out / "curves.csv") if c["arm"] == "famine"]
    before = [c for c in curves if int(c["tick"]) < FAMINE["ticks"][0]]
    assert before and all(float(c[k]) == 0 for c in before for k in ("diff", "ci_low", "ci_high"))
    assert any(float(c["diff"]) != 0 for c in curves if int(c["tick"]) >= FAMINE["ticks"][0])


@pytest.mark.ray
def test_the_experiment_ends_with_tables_and_a_report(experiment) -> None:
    """The terminal shows the arms and their paired effects; `socius report` writes a page
    with the effects table and a difference plot per curve."""
    _, out, proc = experiment
    assert "paired by seed" in proc.stdout and f"experiment folder: {out}" in proc.stdout
    report = socius("report", out)
    assert report.returncode == 0, report.stderr
    page = (out / "report.html").read_text()
    assert "Effects against control" in page
    assert "lean against control" in page and "famine against control" in page
    images = {p.name for p in (out / "report_files").glob("*.png")}
    assert images == {f"difference-{f}.png" for f in CURVES}


@pytest.mark.ray
def test_resume_keeps_the_runs_and_refuses_another_experiment(experiment, cluster: str) -> None:
    """--resume of a finished experiment runs nothing and changes no row; with another
    treatment it is one line, exit 2."""
    base, out, _ = experiment
    before = (out / "runs.csv").read_text()
    command = ["experiment", small(base), *treatments(base), "--repeats", REPEATS,
               "--address", cluster, "--out", out, "--quiet", "--resume"]  # fmt: skip
    again = socius(*command, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (out / "runs.csv").read_text() == before
    other = base / "other" / "lean.yaml"
    other.parent.mkdir()
    other.write_text("economy.abundance: 0.6\n")
    command[3] = other
    one_line_error(socius(*command), "socius: --resume", [str(out), "another experiment"])


BAD: dict[str, tuple[dict[str, str], list[str], str, list[str]]] = {
    "missing-file": ({}, ["--treatment", "nowhere.yaml"], "socius: --treatment", ["nowhere.yaml"]),
    "unknown-field": (
        {"t.yaml": "economy.abundanc: 0.4\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "economy.abundanc", "abundance"],
    ),
    "no-section": (
        {"t.yaml": "econ.abundance: 0.4\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["econ.abundance", "economy"],
    ),
    "bad-value": (
        {"t.yaml": "economy:\n  abundance: -1\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "economy.abundance"],
    ),
    "not-a-mapping": (
        {"t.yaml": "- 1\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "mapping"],
    ),
    "events-not-a-list": (
        {"t.yaml": "events: famine\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["events", "list"],
    ),
    "event-past-the-end": (
        {"t.yaml": "events: [{kind: famine, ticks: [5, 500], target: {groups: [0]}}]\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "events[0]", "past the end"],
    ),
    "no-such-group": (
        {"t.yaml": "events: [{kind: famine, ticks: [5, 10], target: {groups: [7]}}]\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "group 7"],
    ),
    "no-such-kind": (
        {"t.yaml": "events: [{kind: famin, tick: 3}]\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "events.0", "famine"],
    ),
    "own-seed": (
        {"t.yaml": "seed: 3\neconomy.abundance: 0.4\n"},
        ["--treatment", "t.yaml"],
        "socius: treatment",
        ["t.yaml", "seed", "--seed"],
    ),
    "one-repeat": (
        {"t.yaml": "economy.abundance: 0.4\n"},
        ["--treatment", "t.yaml", "--repeats", "1"],
        "socius: --repeats 1",
        ["at least 2"],
    ),
    "same-name": (
        {"t.yaml": "economy.abundance: 0.4\n", "x/t.yaml": "economy.abundance: 0.5\n"},
        ["--treatment", "t.yaml", "--treatment", "x/t.yaml"],
        "socius: --treatment",
        ["'t'", "rename"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or malformed treatment, an unknown field or a bad value in it, an event past
    the end, for a group that does not exist or of no kind, a seed of its own (the arms would
    no longer be paired), fewer than 2 repeats, two arms of one name: exit 2, one line naming
    it, no experiment folder."""
    files, args, start, words = BAD[case]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    args = [str(tmp_path / a) if a.endswith(".yaml") else a for a in args]
    out = tmp_path / "out"
    proc = in_process(capsys, "experiment", small(tmp_path), *args, "--out", out)
    one_line_error(proc, start, words)
    assert not out.exists()


def test_a_treatments_events_follow_the_scenarios_own(tmp_path: Path) -> None:
    """An arm's scenario is the base with the treatment's fields changed and its events after
    the base's; the control arm is the base itself."""
    plague = {"kind": "plague", "tick": 3, "chance": 0.5}
    base = load_scenario(small(tmp_path, events=[plague]))
    (tmp_path / "both.yaml").write_text(
        yaml.safe_dump({"economy": {"abundance": 0.5}, "events": [FAMINE]})
    )
    control, both = arms_of([tmp_path / "both.yaml"])
    assert control.scenario(base) == base
    sc = both.scenario(base)
    assert [e.kind for e in sc.events] == ["plague", "famine"]
    assert sc.economy.abundance == 0.5 and sc.seed == base.seed
    jobs = plan(base, [control, both], 2)
    assert [(j.folder, j.seed) for j in jobs] == [
        ("runs/control-r00", SEED), ("runs/control-r01", SEED + 1),
        ("runs/both-r00", SEED), ("runs/both-r01", SEED + 1),
    ]  # fmt: skip


def test_paired_statistics_by_hand() -> None:
    """Paired.of pairs by repeat (repeats one side lacks are left out) and agrees with scipy;
    equal differences have no d_z."""
    treated = {0: 3.0, 1: 5.0, 2: 4.5, 3: 9.0, 7: 1.0}
    control = {0: 1.0, 1: 4.0, 2: 1.5, 3: 4.0}
    pair = Paired.of(treated, control)
    want = scipy_paired([3.0, 5.0, 4.5, 9.0], [1.0, 4.0, 1.5, 4.0])
    assert pair.diff.n == 4 and pair.diff.mean == pytest.approx(2.75)
    assert pair.diff.ci_low == pytest.approx(want["ci_low"], abs=1e-9)
    assert pair.diff.ci_high == pytest.approx(want["ci_high"], abs=1e-9)
    assert pair.d_z == pytest.approx(want["d_z"]) and pair.p_value == pytest.approx(
        want["p_value"], abs=1e-9
    )
    same = Paired.of({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0})
    assert same.diff.mean == 0 and math.isnan(same.d_z) and math.isnan(same.p_value)


@pytest.mark.ray
def test_a_sweep_compares_every_point_with_the_one_named(cluster: str, tmp_path: Path) -> None:
    """`socius sweep --compare-to economy.abundance=1`: effects.csv holds each other grid point
    minus that one, paired by repeat, as scipy computes it from runs.csv; `socius report`
    shows the section."""
    out = tmp_path / "out"
    proc = socius(
        "sweep", small(tmp_path, ticks=10), "--param", "economy.abundance=0.4,1",
        "--repeats", 2, "--compare-to", "economy.abundance=1", "--address", cluster,
        "--out", out, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "economy.abundance=1, paired by seed" in proc.stdout
    rows = read_csv(out / "runs.csv")
    effects = read_csv(out / "effects.csv")
    assert {e["economy.abundance"] for e in effects} == {"0.4"}
    assert json.loads((out / "sweep.json").read_text())["reference"] == 1
    for e in effects:
        by = {(r["point"], int(r["repeat"])): float(r[e["figure"]]) for r in rows}
        want = scipy_paired([by["0", k] for k in range(2)], [by["1", k] for k in range(2)])
        for column in ("diff", "ci_low", "ci_high"):
            assert float(e[column]) == pytest.approx(want[column], abs=1e-6), e["figure"]
    assert {int(c["tick"]) for c in read_csv(out / "curves.csv")} == set(range(1, 11))
    report = socius("report", out)
    assert report.returncode == 0, report.stderr
    assert "Effects against economy.abundance=1" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("given", "words"),
    [("5", ["0..1"]), ("economy.abundance=2", ["no grid point", "economy.abundance=0.4"]),
     ("abundance=1", ["NAME=VALUE", "economy.abundance"])],
)  # fmt: skip
def test_a_bad_compare_to_is_one_line(
    given: str, words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--compare-to naming no grid point: one line listing what there is, no sweep folder."""
    out = tmp_path / "out"
    proc = in_process(
        capsys,
        "sweep", small(tmp_path), "--param", "economy.abundance=0.4,1", "--compare-to", given,
        "--out", out,
    )  # fmt: skip
    one_line_error(proc, f"socius: --compare-to {given}", words)
    assert not out.exists()
