"""Every classic scenario kind has an example in examples/classic/ that `socius validate`
accepts and `socius run` runs, leaving its results in summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands import socius

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "classic"
KINDS = {
    "ipd-tournament.yaml": "ipd",
    "donation.yaml": "donation",
    "public-goods.yaml": "public_goods",
    "trust-game.yaml": "trust",
    "evolution.yaml": "evolution",
}


def test_one_example_per_kind() -> None:
    """The folder holds exactly one example per classic kind."""
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(KINDS)


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
