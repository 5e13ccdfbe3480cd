"""`socius dataset`: labels that are the world's truth (checked against the journal), splits
that never share a seed, files that `datasets` loads, and bad input refused with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from datasets import load_dataset

from actors.lab.eval.items import LEVELS, level_of
from tests.commands import ROOT, instant, socius
from world import emotion as emo
from world.journal import read_journal
from world.vocab import EMOTION_NAMES
from world.wire import from_batch

VILLAGE = ROOT / "examples" / "village.yaml"


def scenario(folder: Path, **population: Any) -> Path:
    data = yaml.safe_load(VILLAGE.read_text())
    data.update(ticks=12, shards=2)
    data["population"].update(size=40, group_size=10, **population)
    path = folder / f"world-{len(list(folder.glob('world-*')))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("runs")
    world = scenario(base)
    out = []
    for seed in (1, 2, 3):
        folder = base / f"s{seed}"
        proc = socius(
            "run", world, "--seed", seed, "--runtime", "local", "--out", folder, "--quiet"
        )
        assert proc.returncode == 0, proc.stderr
        out.append(folder)
    return out


def envelopes(run: Path) -> dict[tuple[int, int, int], np.ndarray]:
    """(sender, seq, recipient) -> the sender's true feelings the envelope carried."""
    found = {}
    for path in sorted((run / "journal").glob("shard-*.sjl")):
        for batch in read_journal(path):
            mail = from_batch(batch)
            for i in range(len(mail)):
                key = (int(mail.sender[i]), int(mail.seq[i]), int(mail.recipient[i]))
                found[key] = emo.unquantize(mail.true_feeling[i])
    return found


def test_reading_labels_are_the_truth_the_journal_holds(runs: list[Path], tmp_path: Path) -> None:
    """Each example's answer is the speaker's hidden feelings as the journal recorded them in
    that envelope; the splits hold the seeds asked for, and `datasets` loads both."""
    out = tmp_path / "reading"
    proc = socius("dataset", *runs, "--kind", "reading", "--test-seeds", 3, "--out", out)
    assert proc.returncode == 0, proc.stderr
    data = load_dataset(
        "parquet",
        data_files={"train": str(out / "train.parquet"), "test": str(out / "test.parquet")},
    )
    assert set(data["train"]["seed"]) == {1, 2} and set(data["test"]["seed"]) == {3}
    summary = json.loads((out / "dataset.json").read_text())
    assert summary["counts"] == {"train": len(data["train"]), "test": len(data["test"])}
    assert summary["seeds"] == {"train": [1, 2], "test": [3]}
    journals = {run.name: envelopes(run) for run in runs}
    checked = 0
    for split in ("train", "test"):
        for row in data[split]:
            truth = journals[row["run"]][
                (row["speaker"], int(row["id"].rsplit("-q", 1)[1]), row["reader"])
            ]
            assert np.allclose(row["truth"], truth, atol=1e-4)
            answer = json.loads(row["messages"][-1]["content"])["reading"]
            assert [answer[name] for name in EMOTION_NAMES] == [LEVELS[v] for v in level_of(truth)]
            assert row["messages"][-1]["role"] == "assistant"
            assert [m["role"] for m in row["messages"][:-1]] == ["system", "user"]
            checked += 1
    assert checked > 300
    card = (out / "README.md").read_text()
    assert "load_dataset" in card and "train seeds [1, 2]" in card.lower()


def test_the_same_runs_give_the_same_dataset(runs: list[Path], tmp_path: Path) -> None:
    """Rows come in a deterministic order: the same runs make the same files."""
    made = []
    for name in ("a", "b"):
        out = tmp_path / name
        proc = socius("dataset", *reversed(runs), "--kind", "dialogue", "--out", out, "--quiet")
        assert proc.returncode == 0, proc.stderr
        made.append(load_dataset("parquet", data_files=str(out / "train.parquet"))["train"])
    assert made[0].to_list() == made[1].to_list()
    first = made[0][0]
    assert len(first["messages"]) == len(first["speaker_feelings"]) == len(first["ticks"])


def test_decisions_carry_their_consequences(tmp_path: Path) -> None:
    """A run whose characters asked a model gives one row per decision with its outcome."""
    world = scenario(tmp_path, minds={"heuristic": 0.5, "llm": 0.5})
    run = tmp_path / "llm"
    with instant() as url:
        proc = socius("run", world, "--llm-endpoint", url, "--runtime", "local", "--out", run,
                      "--quiet")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    out = tmp_path / "decisions"
    proc = socius("dataset", run, "--kind", "decisions", "--out", out)
    assert proc.returncode == 0, proc.stderr
    rows = load_dataset("parquet", data_files=str(out / "train.parquet"))["train"]
    summary = json.loads((run / "summary.json").read_text())
    assert len(rows) == summary["llm"]["llm_decisions"] > 0
    for row in rows.select(range(min(30, len(rows)))):
        outcome = json.loads(row["outcome"])
        assert "trust_before" in outcome and row["messages"][-1]["role"] == "assistant"


@pytest.mark.parametrize(
    ("case", "extra", "words"),
    [
        ("not a run", ["NOTRUN", "--kind", "reading"], ["not a run folder"]),
        (
            "overlap",
            ["RUNS", "--kind", "reading", "--train-seeds", "1-2", "--test-seeds", "2-3"],
            ["share 2"],
        ),
        (
            "stray seed",
            ["RUNS", "--kind", "reading", "--test-seeds", "3", "--train-seeds", "1"],
            ["seed 2", "neither"],
        ),
        ("no traces", ["RUNS", "--kind", "decisions"], ["traces"]),
        ("good reading", ["RUNS", "--kind", "reading", "--good"], ["--kind decisions"]),
    ],
)
def test_bad_input_is_one_line(
    runs: list[Path], tmp_path: Path, case: str, extra: list[str], words: list[str]
) -> None:
    """Bad input: one line naming it, exit 2, no dataset folder."""
    out = tmp_path / "out"
    args: list[Any] = []
    for x in extra:
        if x == "RUNS":
            args += runs
        elif x == "NOTRUN":
            args.append(tmp_path)
        else:
            args.append(x)
    proc = socius("dataset", *args, "--out", out)
    assert proc.returncode == 2, (case, proc.stderr)
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    for word in words:
        assert word in proc.stderr, (case, proc.stderr)
    assert not out.exists()
