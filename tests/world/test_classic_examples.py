"""Every classic scenario kind has an example in examples/classic/ that `socius validate`
accepts and `socius run` runs, leaving its results in summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands import socius
from world.classic.config import KINDS as CLASSIC_KINDS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "classic"
KINDS = {
    "ipd-tournament.yaml": "ipd",
    "donation.yaml": "donation",
    "public-goods.yaml": "public_goods",
    "trust-game.yaml": "trust",
    "evolution.yaml": "evolution",
    "evolution-donation.yaml": "evolution",
}


def test_every_kind_has_an_example() -> None:
    """The folder holds the examples listed here (each checked below), and they cover every
    classic kind."""
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(KINDS)
    assert set(KINDS.values()) == set(CLASSIC_KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_example_validates_and_runs(name: str, tmp_path: Path) -> None:
    """`socius validate` accepts the example; `socius run` (6 ticks, in process) shows the
    game's results and writes them in summary.json, with a journal of its moves."""
    example = EXAMPLES / name
    check = socius("validate", example)
    assert check.returncode == 0, check.stderr
    assert f"{example}: valid." in check.stdout
    out = tmp_path / "run"
    proc = socius("run", example, "--runtime", "local", "--ticks", 6, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{KINDS[name]} results" in proc.stdout, proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ticks"] == 6
    assert summary["results"]["kind"] == KINDS[name]
    assert summary["totals"]["envelopes"] > 0
    stats = socius("journal", "stats", out)
    assert "the journal matches" in stats.stdout, stats.stdout
