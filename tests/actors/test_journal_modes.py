"""`--journal full|sample:K|off`: what each keeps, that the digest does not depend on it, that
commands needing what a run did not keep refuse it in one line, and that sweeps keep none."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.commands import socius
from world.journal import read_journal
from world.journal_mode import RECORD_FORMAT, JournalMode, read_kept, sampled
from world.wire import from_batch, to_envelope

ROOT = Path(__file__).resolve().parents[2]
VILLAGE = ROOT / "examples" / "village.yaml"
DONATION = ROOT / "examples" / "classic" / "donation.yaml"
SMALL = ("--characters", "40", "--ticks", "6", "--runtime", "local", "--quiet")


def one_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2, one stderr line starting with "socius: " holding every word, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("socius: "), proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def envelopes(folder: Path) -> list[bytes]:
    """Every envelope a run folder's journal holds, each serialized, sorted."""
    out = []
    for path in sorted((folder / "journal").glob("shard-*.sjl")):
        for b in read_journal(path):
            mail = from_batch(b)
            out.extend(to_envelope(mail, i, b.tick).SerializeToString() for i in range(len(mail)))
    return sorted(out)


def envelopes_of(folder: Path, characters: set[int]) -> list[bytes]:
    """The envelopes of a full journal sent or received by `characters`."""
    out = []
    for path in sorted((folder / "journal").glob("shard-*.sjl")):
        for b in read_journal(path):
            mail = from_batch(b)
            for i in range(len(mail)):
                if {int(mail.sender[i]), int(mail.recipient[i])} & characters:
                    out.append(to_envelope(mail, i, b.tick).SerializeToString())
    return sorted(out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same small village kept in full, sampled (on 2 and 3 shards) and not at all."""
    base = tmp_path_factory.mktemp("modes")
    for name, extra in {
        "full": ["--journal", "full"],
        "sample": ["--journal", "sample:3"],
        "sample3": ["--journal", "sample:3", "--shards", "3"],
        "off": ["--journal", "off"],
    }.items():
        ok(socius("run", VILLAGE, *SMALL, "--out", base / name, *extra))
    return base


def test_the_digest_does_not_depend_on_the_journal(runs: Path) -> None:
    """full, sample:3 and off are the same run: one digest, the same figures."""
    digests = {summary(runs / n)["state_digest"] for n in ("full", "sample", "sample3", "off")}
    assert len(digests) == 1
    assert (runs / "full" / "metrics.csv").read_text() == (runs / "off" / "metrics.csv").read_text()


def test_off_keeps_no_journal_and_says_so(runs: Path) -> None:
    """--journal off writes no journal/ folder; journal.json and summary.json say off."""
    off = runs / "off"
    assert not (off / "journal").exists()
    assert read_kept(off).mode == JournalMode("off")
    assert summary(off)["journal"] == {"keep": "off", "bytes": 0}
    full = summary(runs / "full")["journal"]
    assert full["keep"] == "full" and full["bytes"] > 0


def test_sample_keeps_exactly_the_sampled_characters_envelopes(runs: Path) -> None:
    """sample:3 keeps every envelope from or to 3 characters picked from the seed, and no
    other; the same 3 and the same envelopes on any number of shards."""
    seed = summary(runs / "full")["seed"]
    chosen = sampled(seed, 40, 3)
    kept = read_kept(runs / "sample")
    assert kept.mode == JournalMode("sample", 3) and list(kept.characters) == chosen
    assert read_kept(runs / "sample3").characters == kept.characters
    mine = envelopes(runs / "sample")
    assert mine and mine == envelopes_of(runs / "full", set(chosen))
    assert envelopes(runs / "sample3") == mine
    assert len(mine) < len(envelopes(runs / "full"))


def test_journal_commands_refuse_a_run_without_one(runs: Path, tmp_path: Path) -> None:
    """socius journal, traces export and dataset --kind decisions refuse a run that kept no
    journal in one line naming the fix; the fix gives the same run with its journal."""
    off = runs / "off"
    for args in (["journal", "stats", off], ["journal", "cat", off]):
        one_line(socius(*args), "--journal off", "--journal full")
    copy = tmp_path / "off-with-traces"  # traces present: only the journal is missing
    ok(subprocess.run(["cp", "-r", off, copy], check=False))
    (copy / "traces").mkdir()
    (copy / "traces" / "shard-0000.jsonl").write_text("")
    one_line(socius("traces", "export", copy), "traces export", "--journal full")
    one_line(
        socius("dataset", copy, "--kind", "decisions", "--out", tmp_path / "data"),
        "--journal off",
    )
    line = one_line(socius("journal", "stats", off))
    again = line.split("journal: ", 1)[1].split()[1:]  # the command after "socius"
    assert again[0] == "run" and "NEW_FOLDER" in again
    again[again.index("NEW_FOLDER")] = str(tmp_path / "again")
    ok(socius(*again, "--runtime", "local", "--quiet"))
    assert summary(tmp_path / "again")["state_digest"] == summary(off)["state_digest"]
    assert envelopes(tmp_path / "again") == envelopes(runs / "full")


def test_a_sampled_journal_reads_with_a_note_and_export_refuses(runs: Path) -> None:
    """socius journal reads a sampled journal and says whose envelopes it holds; traces
    export, which needs every envelope, refuses it."""
    sample = runs / "sample"
    stats = ok(socius("journal", "stats", sample))
    assert "sampled characters" in stats.stdout and "DOES NOT match" not in stats.stdout
    cat = ok(socius("journal", "cat", sample, "--limit", "3"))
    assert "sampled characters" in cat.stderr and len(cat.stdout.splitlines()) == 3
    (sample / "traces").mkdir(exist_ok=True)
    (sample / "traces" / "shard-0000.jsonl").write_text("")
    try:
        one_line(socius("traces", "export", sample), "sample:3", "--journal full")
    finally:
        (sample / "traces" / "shard-0000.jsonl").unlink()
        (sample / "traces").rmdir()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("gzip", ["full, sample:K or off", "gzip"]),
        ("sample:0", ["at least 1", "'0'"]),
        ("sample:x", ["at least 1", "'x'"]),
        ("sample:41", ["sample:41", "40"]),
    ],
)
def test_a_bad_journal_flag_is_one_line(value: str, words: list[str], tmp_path: Path) -> None:
    """A --journal value that is not full, sample:K (1 <= K <= characters) or off: one line,
    exit 2, no run folder."""
    one_line(socius("run", VILLAGE, *SMALL, "--journal", value, "--out", tmp_path / "r"), *words)
    assert not (tmp_path / "r").exists()


def test_resume_keeps_the_journal_mode(tmp_path: Path) -> None:
    """--resume-if-exists continues a run with the journal it had; asking for another mode
    is refused in one line."""
    out = tmp_path / "run"
    ok(socius("run", VILLAGE, *SMALL, "--journal", "sample:2", "--out", out))
    one_line(
        socius("run", VILLAGE, *SMALL, "--journal", "full", "--out", out, "--resume-if-exists"),
        "sample:2",
        "--resume-if-exists",
    )


def test_the_closing_tables_show_the_journal_on_disk(tmp_path: Path) -> None:
    """A village's and a classic game's closing tables have a row with the journal's size."""
    village = ok(socius("run", VILLAGE, *SMALL[:-1], "--out", tmp_path / "v"))
    row = next(line for line in village.stdout.splitlines() if "journal on disk" in line)
    assert "full" in row and "B per envelope" in row
    game = ok(
        socius("run", DONATION, "--runtime", "local", "--journal", "off", "--out", tmp_path / "d")
    )
    row = next(line for line in game.stdout.splitlines() if "journal on disk" in line)
    assert "--journal off" in row


@pytest.mark.ray
def test_ray_shards_keep_the_same_sample(runs: Path, tmp_path: Path) -> None:
    """Shard actors on Ray keep the sampled journal the in-process runtime keeps."""
    out = tmp_path / "ray"
    args = [a for a in SMALL if a not in ("--runtime", "local")]
    ok(socius("run", VILLAGE, *args, "--runtime", "ray", "--shards", "3", "--journal", "sample:3",
              "--out", out, timeout=300))  # fmt: skip
    assert summary(out)["state_digest"] == summary(runs / "sample")["state_digest"]
    assert envelopes(out) == envelopes(runs / "sample")


def tiny(folder: Path) -> Path:
    data = yaml.safe_load(VILLAGE.read_text())
    data.update(name="tiny", ticks=5, seed=3)
    data["population"].update(size=20, group_size=10)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.ray
def test_a_sweep_keeps_no_journal_unless_asked(tmp_path: Path) -> None:
    """A sweep's runs keep no journal by default, and its report still reads them; with
    --journal full they keep one."""
    scenario = tiny(tmp_path)
    for name, extra in (("default", []), ("full", ["--journal", "full"])):
        ok(
            socius(
                "sweep", scenario, "--param", "noise.execution=0,0.05", "--repeats", "1",
                "--out", tmp_path / name, "--quiet", *extra, timeout=300,
            )
        )  # fmt: skip
        assert json.loads((tmp_path / name / "sweep.json").read_text())["journal"] == (
            "off" if name == "default" else "full"
        )
    runs = sorted((tmp_path / "default" / "runs").iterdir())
    assert len(runs) == 2
    for run in runs:
        assert not (run / "journal").exists() and read_kept(run).mode.keep == "off"
    for run in sorted((tmp_path / "full" / "runs").iterdir()):
        assert envelopes(run) and read_kept(run).mode.keep == "full"
    ok(socius("report", tmp_path / "default", "--out", tmp_path / "report.html"))


def test_a_run_of_a_newer_socius_is_refused_in_one_line(runs: Path, tmp_path: Path) -> None:
    """journal.json names the run record's format; a folder of a later format (written by a
    newer socius) is refused by resume and the journal commands with one line, exit 2, and
    left as it was."""
    newer = tmp_path / "newer"
    shutil.copytree(runs / "full", newer)
    data = json.loads((newer / "journal.json").read_text())
    assert data["record"] == RECORD_FORMAT
    (newer / "journal.json").write_text(json.dumps({**data, "record": RECORD_FORMAT + 1}))
    before = sorted((p.relative_to(newer), p.stat().st_size) for p in newer.rglob("*"))
    for args in (("resume", newer), ("journal", "stats", newer)):
        proc = socius(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == (
            f"socius: {newer} was written by a newer socius (run record format "
            f"{RECORD_FORMAT + 1}; this one reads up to {RECORD_FORMAT}): upgrade socius to "
            f"read or resume it"
        )
    assert sorted((p.relative_to(newer), p.stat().st_size) for p in newer.rglob("*")) == before
