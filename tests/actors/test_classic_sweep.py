"""Classic games in sweeps, reports and validate: a sweep's rows hold the game's results as
figures (equal to each run's summary.json), a report shows the plots of the game's kind, and
validate names the game."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from actors.lab.report import file_name
from actors.lab.sweep_figures import FIGURES, figures_for
from tests.actors.test_report import images_of
from tests.commands import socius
from world.scenario import load_scenario

pytestmark = [pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "classic"
REPEATS = 2
SEED = 5
SHOW = "cooperation_rate,good_fraction_late,by_strategy.Defector.payoff_per_round"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def short(example: str, folder: Path, **classic: Any) -> Path:
    """A classic example with its game changed (fewer rounds or turns), as a file."""
    data = yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text())
    data["seed"] = SEED
    data["classic"].update(classic)
    path = folder / f"{example}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A donation game of 12 players and 30 rounds, swept over Defector=0,3 and public or
    private reputation, 2 repeats each, on a local Ray instance."""
    base = tmp_path_factory.mktemp("classic-sweep")
    players = {"Discriminator": 8, "Cooperator": 2, "Defector": 2}
    scenario = short("donation", base, rounds=30, players=players)
    out = base / "out"
    proc = socius(
        "sweep", scenario, "--param", "classic.players.Defector=0,3",
        "--param", "classic.reputation=public,private", "--repeats", REPEATS,
        "--show", SHOW, "--out", out,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out, proc


def results_leaves(results: dict[str, Any]) -> dict[str, float]:
    """Every number of a donation game's results, by its path (walked here by hand)."""
    out = {
        k: v for k, v in results.items() if k.endswith(("rate", "late")) and isinstance(v, float)
    }
    for name, row in results["by_strategy"].items():
        for k, v in row.items():
            if k != "players":
                out[f"by_strategy.{name}.{k}"] = v
    return out


def test_rows_hold_the_games_results(sweep: tuple[Path, Any]) -> None:
    """runs.csv has a column per figure of the game's results and none of the village's, and
    each row's values are its run's summary.json results; a strategy no one played at a grid
    point leaves its figures empty."""
    out, _ = sweep
    rows = read_csv(out / "runs.csv")
    assert len(rows) == 4 * REPEATS
    columns = list(rows[0])
    assert (
        "good_fraction_late" in columns and "by_strategy.Discriminator.payoff_per_round" in columns
    )
    assert not (set(FIGURES) - {"cooperation_rate"}) & set(columns)
    for row in rows:
        results = json.loads((out / row["run"] / "summary.json").read_text())["results"]
        leaves = results_leaves(results)
        assert results["reputation"] == row["classic.reputation"]
        for name, value in leaves.items():
            assert float(row[name]) == pytest.approx(value, abs=1e-12), name
        figures = [c for c in columns if c.startswith("by_strategy.") or c in leaves]
        if row["classic.players.Defector"] == "0":
            assert "Defector" not in results["by_strategy"]
            assert all(row[c] == "" for c in figures if ".Defector." in c)
        assert {c for c in figures if row[c] != ""} == set(leaves)
    spec = json.loads((out / "sweep.json").read_text())
    assert list(spec["figures"]) == columns[columns.index("state_digest") + 1 :]
    assert spec["headline"][:3] == [
        "cooperation_rate",
        "cooperation_rate_late",
        "good_fraction_late",
    ]


def test_stats_are_over_the_runs_that_have_the_figure(sweep: tuple[Path, Any]) -> None:
    """stats.csv: per grid point and figure, n and the mean of the rows that have a value."""
    out, _ = sweep
    rows = read_csv(out / "runs.csv")
    stats = read_csv(out / "stats.csv")
    assert {s["figure"] for s in stats} == set(
        json.loads((out / "sweep.json").read_text())["figures"]
    )
    for s in stats:
        values = [
            float(r[s["figure"]]) for r in rows if r["point"] == s["point"] and r[s["figure"]]
        ]
        assert int(s["n"]) == len(values)
        if values:
            assert float(s["mean"]) == pytest.approx(sum(values) / len(values), abs=1e-8)
        else:
            assert ".Defector." in s["figure"] and s["mean"] == ""
    assert any(int(s["n"]) == 0 for s in stats) and any(int(s["n"]) == REPEATS for s in stats)


def test_the_closing_table_shows_the_chosen_figures(sweep: tuple[Path, Any]) -> None:
    """--show picks the game's figures for the closing table."""
    _, proc = sweep
    header = next(line for line in proc.stdout.splitlines() if "cooperation_rate" in line)
    assert "good_fraction_late" in header and "mean_trust" not in proc.stdout


def test_resume_keeps_rows_without_a_strategy(sweep: tuple[Path, Any]) -> None:
    """--resume of the finished sweep counts every row as finished, those with the empty
    figures of a strategy no one played too: nothing runs again, runs.csv is unchanged."""
    out, _ = sweep
    before = (out / "runs.csv").read_text()
    absent = next(r for r in read_csv(out / "runs.csv") if r["classic.players.Defector"] == "0")
    marker = out / absent["run"] / "kept.txt"  # a run done again starts from an empty folder
    marker.write_text("kept")
    spec = json.loads((out / "sweep.json").read_text())
    proc = socius(
        "sweep", spec["source"], "--param", "classic.players.Defector=0,3",
        "--param", "classic.reputation=public,private", "--repeats", REPEATS,
        "--out", out, "--resume", "--quiet",
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "runs.csv").read_text() == before
    assert marker.is_file()
    assert f"({4 * REPEATS} runs)" in proc.stdout


def test_show_of_a_village_figure_is_refused(tmp_path: Path) -> None:
    """--show mean_trust on a classic game: one line naming it and listing the game's figures."""
    out = tmp_path / "out"
    proc = socius(
        "sweep", EXAMPLES / "trust-game.yaml", "--param", "classic.rounds=2", "--show",
        "mean_trust", "--out", out,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("socius: --show"), proc.stderr
    assert "'mean_trust'" in lines[0] and "sent_share" in lines[0]
    assert not out.exists()


def test_report_of_a_classic_sweep(sweep: tuple[Path, Any]) -> None:
    """The sweep's page shows one valid PNG per figure of the game, and its headline table."""
    out, _ = sweep
    proc = socius("report", out)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads((out / "sweep.json").read_text())["figures"]
    images = {p.name for p in images_of(out / "report.html")}
    assert images == {f"sweep-{file_name(f)}.png" for f in figures}
    assert "sweep-by_strategy.Defector.payoff_per_round.png" in images
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "good_fraction_late" in text and "mean_trust" not in text


KINDS = {
    "ipd-tournament": (
        {"turns": 20, "repetitions": 2},
        {"ipd_totals.png", "ipd_payoff_matrix.png", "ipd_cooperation.png", "cooperation.png"},
    ),
    "donation": (
        {"rounds": 30},
        {"donation_by_strategy.png", "donation_payoffs.png", "cooperation.png"},
    ),
    "public-goods": (
        {},
        {"contributions.png", "public_goods_by_strategy.png", "public_goods_payoffs.png"},
    ),
    "trust-game": ({}, {"trust_shares.png", "trust_payoffs.png"}),
    "evolution": ({"generations": 40}, {"evolution_shares.png", "evolution_cooperation.png"}),
}


@pytest.mark.parametrize("example", sorted(KINDS))
def test_report_of_a_classic_run(example: str, tmp_path: Path) -> None:
    """A classic run's page shows the plots of its kind (valid PNGs, no village plots) and
    says the game and its results in words."""
    changes, expected = KINDS[example]
    run = tmp_path / "run"
    scenario = short(example, tmp_path, **changes)
    proc = socius("run", scenario, "--runtime", "local", "--out", run, "--quiet")
    assert proc.returncode == 0, proc.stderr
    proc = socius("report", run)
    assert proc.returncode == 0, proc.stderr
    page = run / "report.html"
    assert {p.name for p in images_of(page)} == expected
    text = page.read_text(encoding="utf-8")
    results = json.loads((run / "summary.json").read_text())["results"]
    assert "The game: " in text and "promises" not in text
    if results["kind"] == "ipd":
        first = results["ranking"][0]
        assert f"{first} came first with a total of {results['totals'][first]:,.6g}" in text
    elif results["kind"] == "donation":
        assert f"{results['cooperation_rate']:.0%} of donors gave" in text
    elif results["kind"] == "public_goods":
        assert f"{results['contributions'][-1]:.0%} in the last" in text
    elif results["kind"] == "evolution":
        assert f"{results['cooperation_rate']:.0%} of all moves cooperated" in text
        if results["winner"] is None:
            assert f"no strategy took over in {results['played']['rounds']} generations" in text
        else:
            assert f"{results['winner']} took over at generation" in text
    else:
        assert f"Investors sent {results['sent_share']:.0%}" in text


VALIDATE = {
    "ipd-tournament": ["iterated prisoner's dilemma", "11 players", "Tit For Tat", "200 turns"],
    "donation": ["donation game", "50 players", "Discriminator 40", "200 rounds"],
    "public-goods": ["public goods game", "10 groups of 4", "10 rounds", "with punishment"],
    "trust-game": ["trust game", "10 investors", "10 trustees", "10 rounds"],
}


@pytest.mark.parametrize("example", sorted(VALIDATE))
def test_validate_names_the_game(example: str) -> None:
    """validate of a classic scenario names the game, its players and its length, and not a
    village's minds."""
    path = EXAMPLES / f"{example}.yaml"
    proc = socius("validate", path)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith(f"{path}: valid.") and "minds" not in line
    for words in VALIDATE[example]:
        assert words in line, (words, line)


def test_figures_per_kind() -> None:
    """figures_for gives each kind's results and none of the game's rules."""
    names = {
        example: figures_for([load_scenario(EXAMPLES / f"{example}.yaml")]).names
        for example in VALIDATE
    }
    assert names["trust-game"] == (
        "sent_share",
        "returned_share",
        *(
            f"investors.{s}.payoff_per_round"
            for s in ("Full Trust", "Trust Then Verify", "No Trust")
        ),
        *(f"trustees.{s}.payoff_per_round" for s in ("Fair", "Selfish", "Reciprocal")),
    )
    assert names["public-goods"][:4] == (
        "contributions_first", "contributions_last", "contributions_mean", "punishment_points",
    )  # fmt: skip
    assert len(names["ipd-tournament"]) == 1 + 11 * 3
    assert "by_strategy.Tit For Tat.total" in names["ipd-tournament"]
    assert "by_strategy.Defector.good_fraction_late" in names["donation"]
    for found in names.values():
        assert not {"benefit", "rounds", "turns", "noise", "endowment", "multiplier"} & set(found)
        assert not any(n.endswith(".players") for n in found)
    village = figures_for([load_scenario(ROOT / "examples" / "village.yaml")])
    assert village.names == tuple(FIGURES)
