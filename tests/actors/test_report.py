"""`socius report`: an HTML page whose images are real PNGs, every expected figure present, for
a run and for a sweep; the end state it draws is the run's; bad folders are one line."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import yaml

from actors.lab.paired import CURVES
from actors.lab.report_world import EndState
from actors.lab.sweep_figures import FIGURES, HEADLINE
from tests.commands import socius
from world.stats import Tally, gini

pytestmark = [pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]
RUN_FIGURES = {
    "cooperation.png",
    "trust.png",
    "betrayals.png",
    "trust_distribution.png",
    "wealth_distribution.png",
    "network.png",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Images(HTMLParser):
    """The src of every <img> in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.src: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.src.append(dict(attrs)["src"] or "")


def images_of(page: Path) -> list[Path]:
    """The PNG files a page shows, each checked to exist and to decode as a PNG."""
    parser = Images()
    parser.feed(page.read_text(encoding="utf-8"))
    files = []
    for src in parser.src:
        assert not Path(src).is_absolute() and "://" not in src, src
        path = page.parent / src
        assert path.is_file(), src
        assert path.read_bytes()[:8] == PNG_MAGIC, src
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[0] >= 200 and pixels.shape[1] >= 300, (src, pixels.shape)
        assert pixels.std() > 0, f"{src} is blank"
        files.append(path)
    return files


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 60-character run of 12 ticks (local) and a 2 x 2 x 2 sweep (its own local Ray)."""
    base = tmp_path_factory.mktemp("report")
    run = base / "run"
    proc = socius(
        "run", ROOT / "examples" / "village.yaml", "--characters", 60, "--ticks", 12,
        "--runtime", "local", "--out", run, "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((ROOT / "examples" / "village.yaml").read_text())
    data.update(name="tiny", ticks=8)
    data["population"].update(size=20, group_size=10)
    scenario = base / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(data))
    sweep = base / "sweep"
    proc = socius(
        "sweep", scenario, "--param", "information.gossip=false,true",
        "--param", "economy.abundance=0.5,1", "--repeats", 2, "--out", sweep, "--quiet",
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return run, sweep


def test_run_report_has_every_figure(folders: tuple[Path, Path]) -> None:
    """A run's page shows each expected figure as a valid PNG beside it, and says the run's
    headline figures in words."""
    run, _ = folders
    proc = socius("report", run)
    assert proc.returncode == 0, proc.stderr
    page = run / "report.html"
    assert proc.stdout.strip() == f"report: {page}"
    assert {p.name for p in images_of(page)} == RUN_FIGURES
    text = page.read_text(encoding="utf-8")
    summary = json.loads((run / "summary.json").read_text())
    assert f"{summary['characters']} characters lived {summary['ticks']} ticks" in text
    assert summary["state_digest"] in text
    assert f"broke {summary['totals']['promises_broken']}" in text


def test_sweep_report_has_each_figure_against_each_param(folders: tuple[Path, Path]) -> None:
    """A sweep's page shows one PNG per figure (a panel per parameter), a table row per grid
    point, and each other point against the first: a row per headline figure, and a plot of
    the difference over time per headline figure that has one."""
    _, sweep = folders
    out = sweep.parent / "elsewhere" / "study.html"
    out.parent.mkdir()
    proc = socius("report", sweep, "--out", out)
    assert proc.returncode == 0, proc.stderr
    images = images_of(out)
    paired = {f"difference-{f}.png" for f in HEADLINE if f in CURVES}
    assert {p.name for p in images} == {f"sweep-{f}.png" for f in FIGURES} | paired
    assert {p.parent for p in images} == {out.parent / "study_files"}
    text = out.read_text(encoding="utf-8")
    assert "information.gossip" in text and "economy.abundance" in text
    # params table, grid points table, the 3 other points against the first
    assert text.count("<tr>") == 1 + 2 + 1 + 4 + 1 + 3 * len(HEADLINE)


def test_end_state_is_the_runs(folders: tuple[Path, Path]) -> None:
    """The end state the report draws is the run's: its mean trust and wealth Gini are the
    last tick's figures in summary.json."""
    run, _ = folders
    end = EndState.read(run)
    assert end is not None
    final = json.loads((run / "summary.json").read_text())["final"]
    assert end.tick == 12 and len(end.cid) == final["characters"]
    assert float(np.mean(end.trust)) == pytest.approx(final["mean_trust"], abs=2e-6)
    assert gini(Tally.of(end.wealth)) == pytest.approx(final["wealth_gini"], abs=1e-6)
    assert set(end.target.tolist()) <= set(end.cid.tolist())


@pytest.mark.parametrize("kind", ["missing", "a-file", "not-a-run"])
def test_bad_folder_is_one_line(kind: str, tmp_path: Path) -> None:
    """A path that is not a run or sweep folder: exit 2, one line, no traceback, no page."""
    target = tmp_path / "x"
    if kind == "a-file":
        target.write_text("hello")
    elif kind == "not-a-run":
        target.mkdir()
        (target / "notes.txt").write_text("hello")
    proc = socius("report", target)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("socius: ") and str(target) in lines[0]
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("*.html"))
