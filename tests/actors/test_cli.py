"""The `socius` command as a user runs it: a subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.commands import instant, popen_socius, socius

ROOT = Path(__file__).resolve().parents[2]
VILLAGE = ROOT / "examples" / "village.yaml"
SMALL = ("--characters", "40", "--ticks", "5", "--runtime", "local")
MAGIC = b"SOCIUS-JOURNAL 2\n"  # what runs write (compressed blocks: world/journal.py)


def socius_all(commands: dict[str, list[object]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several independent commands a few at a time (they are small; this keeps it fast)."""
    workers = max(2, min(6, 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(socius, *args) for name, args in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


def assert_user_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2, exactly one stderr line starting with "socius: " that holds every word."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert_no_traceback(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("socius: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def metrics_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "metrics.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


VARIANTS = {
    "village": [],  # the scenario's 2 shards, with the table (no --quiet)
    "again": ["--quiet"],
    "shards1": ["--quiet", "--shards", 1],
    "shards4": ["--quiet", "--shards", 4],
    "seed8": ["--quiet", "--seed", 8],
    "ray3": ["--quiet", "--runtime", "ray", "--shards", 3],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """Small village runs (40 characters, 5 ticks), one per VARIANTS entry, run side by side."""
    base = tmp_path_factory.mktemp("runs")
    procs = socius_all(
        {
            name: ["run", VILLAGE, *SMALL, "--out", base / name, *extra]
            for name, extra in VARIANTS.items()
        }
    )
    return {name: (base / name, proc) for name, proc in procs.items()}


@pytest.fixture(scope="module")
def village_run(runs):
    """The plain village run folder and its process (with the table on stdout)."""
    return runs["village"]


def variant(runs, name: str) -> dict:
    folder, proc = runs[name]
    assert proc.returncode == 0, proc.stderr
    return summary_of(folder)


@pytest.fixture
def run_copy(village_run, tmp_path: Path) -> Path:
    """A private copy of the village run folder that a test may damage."""
    folder, _ = village_run
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    return copy


# 1. the run folder


def test_run_writes_complete_run_folder(village_run) -> None:
    """A small run exits 0 and writes scenario, summary, 5 metric rows, journals, checkpoint."""
    folder, proc = village_run
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)

    scenario = yaml.safe_load((folder / "scenario.yaml").read_text())
    assert scenario["ticks"] == 5
    assert scenario["population"]["size"] == 40

    summary = summary_of(folder)
    assert re.fullmatch(r"[0-9a-f]{64}", summary["state_digest"])
    assert summary["ticks"] == 5
    assert summary["stopped_early"] is False
    n_shards = summary["shards"]
    assert n_shards == 2  # examples/village.yaml says shards: 2

    rows = metrics_rows(folder)
    assert len(rows) == 5
    assert [int(r["tick"]) for r in rows] == [1, 2, 3, 4, 5]

    journals = sorted((folder / "journal").glob("shard-*.sjl"))
    assert len(journals) == n_shards
    for path in journals:
        assert path.read_bytes().startswith(MAGIC)

    checkpoint = folder / "checkpoints" / "tick-00000005"
    manifest = json.loads((checkpoint / "manifest.json").read_text())
    assert manifest["tick"] == 5
    shard_files = sorted(p.name for p in checkpoint.glob("shard-*.msgpack"))
    assert len(shard_files) == n_shards
    assert sorted(manifest["shards"]) == shard_files


def test_run_prints_table_of_figures(village_run) -> None:
    """Without --quiet the run prints a table with cooperation and the state digest."""
    folder, proc = village_run
    assert proc.returncode == 0, proc.stderr
    assert "cooperation" in proc.stdout
    assert "state digest" in proc.stdout
    assert summary_of(folder)["state_digest"][:16] in proc.stdout
    assert str(folder) in proc.stdout


# 2. determinism


def test_same_flags_give_same_digest(runs) -> None:
    """The same scenario, seed and flags into another folder give the same state digest."""
    assert variant(runs, "again")["state_digest"] == variant(runs, "village")["state_digest"]


def test_quiet_run_prints_one_line_with_the_digest(runs) -> None:
    """With --quiet a run prints exactly one line: its folder, ticks and full state digest."""
    folder, proc = runs["again"]
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    assert lines[0].startswith(f"{folder}: 5 ticks of 40 characters")
    assert lines[0].endswith(f"state digest {summary_of(folder)['state_digest']}")


def test_ray_runtime_gives_the_local_digest(runs) -> None:
    """`--runtime ray` with 3 shard actors ends where the in-process runtime does."""
    summary = variant(runs, "ray3")
    assert (summary["runtime"], summary["shards"]) == ("ray", 3)
    assert summary["state_digest"] == variant(runs, "village")["state_digest"]
    folder, _ = runs["ray3"]
    stats = socius("journal", "stats", folder)
    assert "matches" in stats.stdout, stats.stdout


@pytest.mark.parametrize("shards", [1, 4])
def test_shard_count_does_not_change_digest(runs, shards: int) -> None:
    """Splitting the same world into 1 or 4 shards gives the digest of the 2-shard run."""
    summary = variant(runs, f"shards{shards}")
    assert summary["shards"] == shards
    folder, _ = runs[f"shards{shards}"]
    assert len(list((folder / "journal").glob("shard-*.sjl"))) == shards
    assert summary["state_digest"] == variant(runs, "village")["state_digest"]


def test_different_seed_gives_different_digest(runs) -> None:
    """Another --seed gives another state digest."""
    summary = variant(runs, "seed8")
    assert summary["seed"] == 8
    assert summary["state_digest"] != variant(runs, "village")["state_digest"]


# 3. bad scenarios


BAD_SCENARIOS = {
    "unknown-field": ("name: x\nbogus: 1\n", ["bogus", "allowed", "population", "ticks"]),
    "wrong-type": ("ticks: many\n", ["ticks", "many"]),
    "negative-size": ("population: {size: -5}\n", ["population.size", "-5"]),
    "unknown-mind": (
        "population: {minds: {telepath: 1}}\n",
        ["telepath", "allowed", "heuristic", "tit_for_tat"],
    ),
    "unknown-norm": ("norm: chaos\n", ["norm", "chaos", "allowed", "stern_judging"]),
    "a-list": ("- name: x\n- seed: 1\n", ["mapping", "list"]),
    "not-yaml": ("{{{\n", ["not valid YAML"]),
    "missing": (None, ["not found"]),
}
BAD_FLAGS = {
    "ticks-zero": ["--ticks", "0"],
    "ticks-abc": ["--ticks", "abc"],
    "shards-negative": ["--shards", "-1"],
    "shards-above-characters": ["--characters", "3", "--shards", "5"],
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory):
    """Every bad scenario (run, and validate) and every bad flag, run side by side.

    Gives name -> (scenario path, --out folder, finished process)."""
    base = tmp_path_factory.mktemp("refused")
    commands: dict[str, list[object]] = {}
    places = {}
    for case, (text, _) in BAD_SCENARIOS.items():
        path = base / f"{case}.yaml"
        if text is not None:
            path.write_text(text)
        out = base / f"out-{case}"
        places[case] = (path, out)
        commands[case] = ["run", path, "--out", out, "--quiet"]
        places[f"validate-{case}"] = (path, None)
        commands[f"validate-{case}"] = ["validate", path]
    for case, flags in BAD_FLAGS.items():
        out = base / f"out-{case}"
        places[case] = (VILLAGE, out)
        commands[case] = ["run", VILLAGE, *flags, "--out", out, "--quiet"]
    done = socius_all(commands)
    return {name: (*places[name], done[name]) for name in commands}


ONE_LINE_CASES = sorted(set(BAD_SCENARIOS) - {"not-yaml"})  # not-yaml: its own test below


@pytest.mark.parametrize("case", ONE_LINE_CASES)
def test_bad_scenario_is_one_line_exit_2(refused, case: str) -> None:
    """`run` on a bad scenario gives exit 2, one `socius:` line naming the field, no folder."""
    path, out, proc = refused[case]
    assert_user_error(proc, path.name, *BAD_SCENARIOS[case][1])
    assert not out.exists()
    assert proc.stdout == ""


@pytest.mark.parametrize("case", ONE_LINE_CASES)
def test_validate_rejects_bad_scenario_like_run(refused, case: str) -> None:
    """`validate` on a bad scenario gives the same exit 2 and one line as `run`."""
    _, _, run = refused[case]
    path, _, proc = refused[f"validate-{case}"]
    assert_user_error(proc, path.name, *BAD_SCENARIOS[case][1])
    assert proc.stderr == run.stderr
    assert proc.stdout == ""


def test_not_yaml_scenario_exits_2_without_traceback(refused) -> None:
    """A file that is not YAML gives exit 2, a `socius:` message naming it, no traceback."""
    path, out, proc = refused["not-yaml"]
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert proc.stderr.startswith(f"socius: scenario {path}: not valid YAML")
    assert not out.exists()


@pytest.mark.parametrize("command", ["run", "validate"])
def test_not_yaml_scenario_error_is_one_line(refused, command: str) -> None:
    """The not-YAML error is exactly one `socius:` line, like every other scenario error."""
    name = "not-yaml" if command == "run" else "validate-not-yaml"
    path, _, proc = refused[name]
    assert_user_error(proc, path.name, "not valid YAML")


# 4. bad flags


@pytest.mark.parametrize("case", ["ticks-zero", "ticks-abc", "shards-negative"])
def test_bad_flag_exits_2_naming_it(refused, case: str) -> None:
    """A flag value out of range or not a number gives exit 2 naming the flag; no run folder."""
    flag, value = BAD_FLAGS[case]
    _, out, proc = refused[case]
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert f"socius run: error: argument {flag}: {flag} must be" in proc.stderr
    assert value in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_more_shards_than_characters_is_one_line_error(refused) -> None:
    """--shards above --characters gives exit 2 and one line saying how many shards fit."""
    _, _, proc = refused["shards-above-characters"]
    assert_user_error(proc, "5 shards", "3 characters", "at most 3 shards")


def test_refused_run_leaves_out_folder_reusable(refused) -> None:
    """A run refused for its flags writes nothing, so the same --out works once fixed."""
    _, out, proc = refused["shards-above-characters"]
    assert proc.returncode == 2
    assert not out.exists() or not any(out.iterdir()), sorted(
        str(p.relative_to(out)) for p in out.rglob("*")
    )


# 5. --out


def test_out_folder_with_files_is_refused_and_untouched(tmp_path: Path) -> None:
    """--out at a folder holding files gives exit 2 naming it and leaves the files alone."""
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    proc = socius("run", VILLAGE, *SMALL, "--out", out, "--quiet")
    assert_user_error(proc, str(out), "already holds files")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me\n"


def test_out_pointing_at_a_file_is_a_user_error(tmp_path: Path) -> None:
    """--out naming an existing file gives exit 2 and one line naming it; the file is kept."""
    out = tmp_path / "afile"
    out.write_text("keep me\n")
    proc = socius("run", VILLAGE, *SMALL, "--out", out, "--quiet")
    assert out.read_text() == "keep me\n"
    assert_user_error(proc, str(out))


# 6. validate


def test_validate_accepts_village() -> None:
    """`socius validate` on the example says it is valid and what it would run."""
    proc = socius("validate", VILLAGE)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    assert "valid" in proc.stdout
    assert "village" in proc.stdout
    assert "300 characters" in proc.stdout
    assert proc.stderr == ""


def test_validate_rejects_what_run_rejects(tmp_path: Path) -> None:
    """A scenario with more shards than characters fails validate as it fails run."""
    path = tmp_path / "thin.yaml"
    path.write_text("shards: 5\npopulation: {size: 3}\n")
    assert_user_error(socius("validate", path), "shards")


# 7. journal


def envelope_total(stats_stdout: str) -> int:
    match = re.search(r": ([\d,]+) envelopes in ", stats_stdout)
    assert match, stats_stdout
    return int(match.group(1).replace(",", ""))


def test_journal_stats_matches_summary(village_run) -> None:
    """`journal stats` counts as many envelopes as summary.json and says they match."""
    folder, _ = village_run
    proc = socius("journal", "stats", folder)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    expected = summary_of(folder)["totals"]["envelopes"]
    assert expected > 0
    assert envelope_total(proc.stdout) == expected
    assert f"summary.json counts {expected:,} envelopes: the journal matches" in proc.stdout
    assert "DOES NOT" not in proc.stdout
    assert proc.stderr == ""


def test_journal_cat_limit_prints_that_many_lines(village_run) -> None:
    """`journal cat --limit 5` prints exactly 5 lines."""
    folder, _ = village_run
    proc = socius("journal", "cat", folder, "--limit", 5)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5, proc.stdout
    assert all(line.startswith("t=") and " -> " in line for line in lines)


def test_journal_cat_json_gives_envelope_objects(village_run) -> None:
    """`journal cat --json --limit 3` prints 3 JSON objects with sender/recipient/tick/seq."""
    folder, _ = village_run
    proc = socius("journal", "cat", folder, "--json", "--limit", 3)
    assert proc.returncode == 0, proc.stderr
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(objects) == 3
    for obj in objects:
        assert {"sender", "recipient", "tick", "seq"} <= set(obj), obj


def test_journal_cat_json_keeps_character_zero(village_run) -> None:
    """Every --json envelope of character 0 still has both a sender and a recipient key."""
    folder, _ = village_run
    proc = socius("journal", "cat", folder, "--json", "--character", 0)
    assert proc.returncode == 0, proc.stderr
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert objects, "character 0 sent or received nothing"
    for obj in objects:
        assert {"sender", "recipient", "tick", "seq"} <= set(obj), obj
        assert 0 in (obj["sender"], obj["recipient"])


def test_journal_cat_kind_gift_prints_only_gifts(village_run) -> None:
    """`journal cat --kind gift --json` prints only gifts."""
    folder, _ = village_run
    as_json = socius("journal", "cat", folder, "--kind", "gift", "--json")
    assert as_json.returncode == 0, as_json.stderr
    objects = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert objects, "the village run holds no gifts"
    assert all("gift" in obj for obj in objects), objects


def test_journal_cat_unknown_kind_lists_allowed(village_run) -> None:
    """`journal cat --kind nonsense` gives exit 2 and lists the kinds there are."""
    folder, _ = village_run
    proc = socius("journal", "cat", folder, "--kind", "nonsense")
    assert_user_error(proc, "nonsense", "allowed", "gift", "promise", "gossip")
    assert proc.stdout == ""


def test_journal_missing_run_folder(tmp_path: Path) -> None:
    """`journal stats` on a folder that does not exist gives exit 2 naming it."""
    missing = tmp_path / "no-such-run"
    assert_user_error(socius("journal", "stats", missing), str(missing), "not found")


# 8. journal robustness


def test_journal_stats_reads_up_to_torn_record(run_copy: Path) -> None:
    """A journal ending in a torn record is read up to it, with a warning on stderr."""
    journal = sorted((run_copy / "journal").glob("shard-*.sjl"))[0]
    with open(journal, "ab") as f:
        f.write(struct.pack("<I", 1000))  # a length prefix and nothing after it
    proc = socius("journal", "stats", run_copy)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    assert envelope_total(proc.stdout) == summary_of(run_copy)["totals"]["envelopes"]
    assert "the journal matches" in proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("socius: ")
    assert "torn record" in lines[0]


def test_journal_stats_reports_checksum_failure(run_copy: Path) -> None:
    """A flipped byte inside a record fails its checksum: non-zero exit, one line, no traceback."""
    journal = sorted((run_copy / "journal").glob("shard-*.sjl"))[0]
    data = bytearray(journal.read_bytes())
    assert data.startswith(MAGIC)
    length, _crc = struct.unpack_from("<II", data, len(MAGIC))
    assert length > 2
    data[len(MAGIC) + 8 + length // 2] ^= 0xFF
    journal.write_bytes(bytes(data))
    proc = socius("journal", "stats", run_copy)
    assert proc.returncode != 0
    assert_no_traceback(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("socius: ")
    assert "checksum" in lines[0]
    assert journal.name in lines[0]


# 9. help


def test_help_lists_commands() -> None:
    """`socius --help` (the installed script) exits 0 and names run, validate and journal."""
    script = Path(sys.executable).parent / "socius"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "actors.cli"]
    proc = subprocess.run(
        [*command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: socius")
    for word in ("run", "validate", "journal", "examples:"):
        assert word in proc.stdout


def test_run_help_lists_flags() -> None:
    """`socius run --help` exits 0 and describes every flag of run."""
    proc = socius("run", "--help")
    assert proc.returncode == 0
    for flag in ("SCENARIO", "--ticks", "--seed", "--characters", "--shards", "--out", "--quiet"):
        assert flag in proc.stdout


# 10. Ctrl-C


def wait_for_rows(proc: subprocess.Popen[str], folder: Path, rows: int, timeout: float) -> None:
    """Poll until metrics.csv holds `rows` data rows (or fail if the run ends or times out)."""
    deadline = time.monotonic() + timeout
    metrics = folder / "metrics.csv"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended early ({proc.returncode}): {proc.communicate()[1]}")
        if metrics.is_file() and len(metrics.read_text().splitlines()) > rows:
            return
        time.sleep(0.05)
    proc.kill()
    proc.communicate()
    pytest.fail(f"metrics.csv did not reach {rows} rows in {timeout} s")


def interrupted_run(
    out: Path, characters: int, rows: int
) -> tuple[subprocess.Popen[str], str, str]:
    """Start a long run, wait for `rows` ticks in metrics.csv, send one SIGINT."""
    proc = popen_socius(
        "run",
        VILLAGE,
        "--characters",
        characters,
        "--ticks",
        100000,
        "--out",
        out,
        "--quiet",
        "--runtime",
        "local",
    )
    try:
        wait_for_rows(proc, out, rows, timeout=120)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc, stdout, stderr


def test_ctrl_c_stops_after_tick_and_keeps_run_folder(tmp_path: Path) -> None:
    """SIGINT stops a run with exit 130, a summary marked stopped_early and a last checkpoint."""
    proc, stdout, stderr = interrupted_run(tmp_path / "run", 200, rows=3)
    out = tmp_path / "run"
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr, stderr
    assert re.search(r"stopped at tick \d+ of 100000", stderr), stderr

    summary = summary_of(out)
    assert summary["stopped_early"] is True
    rows = metrics_rows(out)
    assert len(rows) >= 3
    assert summary["ticks"] == len(rows)
    assert int(rows[-1]["tick"]) == summary["ticks"]
    assert f"stopped at tick {summary['ticks']} " in stderr

    checkpoint = out / "checkpoints" / f"tick-{summary['ticks']:08d}"
    manifest = json.loads((checkpoint / "manifest.json").read_text())
    assert manifest["tick"] == summary["ticks"]
    assert len(list(checkpoint.glob("shard-*.msgpack"))) == summary["shards"]


def test_second_ctrl_c_stops_at_once_without_traceback(tmp_path: Path) -> None:
    """A second SIGINT stops the run at once, inside its tick, with exit 130 and no traceback,
    keeping whole ticks only. The tick waits on a model that never answers (the instant
    server, stalling every request), so both signals land inside it however fast the machine."""
    out = tmp_path / "run"
    data = yaml.safe_load(VILLAGE.read_text())
    data["population"].update(size=20, group_size=10, minds={"llm": 1.0})
    data["llm"] = {"decisions": "all", "timeout": 600, "retries": 0}
    scenario = tmp_path / "stalled.yaml"
    scenario.write_text(yaml.safe_dump(data))
    with instant("--stall-every", 1) as url:
        proc = popen_socius(
            "run", scenario, "--llm-endpoint", url, "--runtime", "local", "--out", out, "--quiet"
        )  # fmt: skip
        try:
            for _ in range(1200):  # until the first tick waits on the model
                assert proc.poll() is None, proc.communicate()
                with urllib.request.urlopen(f"{url}/counts", timeout=5) as answer:
                    if json.loads(answer.read())["stalled"] > 0:
                        break
                time.sleep(0.1)
            proc.send_signal(signal.SIGINT)  # asks to stop after the tick, which cannot end
            time.sleep(0.5)
            assert proc.poll() is None
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert "Traceback" not in stdout + stderr, stderr
    assert proc.returncode == 130, stderr
    assert stderr.startswith("socius: interrupted during tick 1"), stderr
    # the folder holds whole ticks only: the unfinished tick left nothing behind
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_early"] and summary["state_digest"] is None
    assert summary["ticks"] == 0 and not (out / "metrics.csv").exists()  # no tick was whole
    stats = socius("journal", "stats", out)
    assert stats.returncode == 0 and "matches" in stats.stdout, stats.stdout


@pytest.mark.parametrize(
    ("address", "words"),
    [("127.0.0.1:1", ("cannot reach", "127.0.0.1:1")), ("nonsense", ("nonsense", "ray://"))],
)
def test_unreachable_cluster_is_one_line(tmp_path: Path, address: str, words: tuple) -> None:
    """An --address nobody answers at fails fast with one line, and writes no run folder."""
    out = tmp_path / "run"
    proc = socius("run", VILLAGE, "--address", address, "--out", out, "--quiet", timeout=60)
    assert_user_error(proc, *words)
    assert not out.exists()


def test_a_run_killed_after_its_last_checkpoint_resumes_to_its_summary(tmp_path: Path) -> None:
    """A run killed between its last checkpoint and its summary (the folder then holds every
    tick and no summary.json) is not "already done": `resume` writes the summary, with the
    digest of the run, and only then says there is nothing left to resume."""
    out = tmp_path / "run"
    ran = socius("run", VILLAGE, *SMALL, "--checkpoint-every", 5, "--out", out, "--quiet")
    assert ran.returncode == 0, ran.stderr
    finished = summary_of(out)
    (out / "summary.json").unlink()  # what a kill after the last checkpoint leaves
    resumed = socius("resume", out, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert "nothing to resume" not in resumed.stdout, resumed.stdout
    again = summary_of(out)
    assert again["ticks"] == 5 and not again["stopped_early"]
    for key in ("state_digest", "totals"):
        assert again[key] == finished[key], key
    assert [int(r["tick"]) for r in metrics_rows(out)] == list(range(1, 6))
    done = socius("resume", out, "--quiet")
    assert done.returncode == 0 and "nothing to resume" in done.stdout, done.stdout


def test_resume_if_exists_makes_a_run_command_restartable(tmp_path: Path) -> None:
    """The same `run --resume-if-exists` command, started again after the first was killed,
    finishes the run with the uninterrupted digest; once finished it does nothing; with
    other flags it refuses the folder."""
    flags = (
        "--characters",
        300,
        "--ticks",
        240,  # long beside the wait for 5 rows, so the kill lands mid-run
        "--runtime",
        "local",
        "--checkpoint-every",
        3,
        "--quiet",
        "--resume-if-exists",
    )
    straight = socius("run", VILLAGE, *flags, "--out", tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr
    out = tmp_path / "run"
    proc = popen_socius("run", VILLAGE, *flags, "--out", out)
    try:
        wait_for_rows(proc, out, 5, timeout=120)
        proc.kill()
        proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (out / "summary.json").exists(), "the first run should not have finished"
    again = socius("run", VILLAGE, *flags, "--out", out)
    assert again.returncode == 0, again.stderr
    assert summary_of(out)["state_digest"] == summary_of(tmp_path / "straight")["state_digest"]
    assert [int(r["tick"]) for r in metrics_rows(out)] == list(range(1, 241))
    done = socius("run", VILLAGE, *flags, "--out", out)
    assert done.returncode == 0 and "nothing to resume" in done.stdout, done.stdout
    other = socius("run", VILLAGE, *flags, "--seed", 99, "--out", out)
    assert_user_error(other, "another scenario")
