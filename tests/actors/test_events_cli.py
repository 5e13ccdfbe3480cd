"""Events from the command line: a scenario's events run, `socius journal cat --kind event`
lists what they did, and a bad event is one line, exit 2, with nothing written."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.commands import socius

WORLD = {
    "name": "eventful",
    "seed": 2,
    "ticks": 8,
    "population": {"size": 60, "group_size": 20},
}


def _write(tmp: Path, events: list[dict]) -> Path:
    path = tmp / "eventful.yaml"
    path.write_text(yaml.safe_dump({**WORLD, "events": events}))
    return path


def test_journal_cat_lists_the_events(tmp_path: Path) -> None:
    """A windfall to group 1 at tick 3: journal cat --kind event shows one envelope for each
    of its 20 members at tick 3, and nothing else."""
    scenario = _write(
        tmp_path,
        [{"kind": "windfall", "tick": 3, "good": "coin", "amount": 4, "target": {"groups": [1]}}],
    )
    out = tmp_path / "run"
    ran = socius("run", scenario, "--runtime", "local", "--shards", 2, "--out", out, "--quiet")
    assert ran.returncode == 0, ran.stderr
    listed = socius("journal", "cat", out, "--kind", "event", "--limit", 100)
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if " event " in line]
    assert len(lines) == 20
    assert all(line.startswith("t=3") and "COIN/4" in line for line in lines)
    who = sorted(int(line.split()[1]) for line in lines)
    assert who == list(range(20, 40))


def test_a_bad_event_is_one_line(tmp_path: Path) -> None:
    """An event past the end (after --ticks), a group that does not exist, a rumour about
    nobody: one line naming the event, exit 2, no run folder."""
    cases = [
        ([{"kind": "famine", "tick": 7}], ("--ticks", 5), "tick 7 is past the end of the run"),
        ([{"kind": "plague", "tick": 2, "target": {"groups": [9]}}], (), "group 9 does not exist"),
        ([{"kind": "rumour", "tick": 2}], (), "about"),
        (
            [
                {"kind": "newcomers", "tick": 6, "count": 3},
                {"kind": "newcomers", "tick": 4, "count": 2},
            ],
            (),
            "list newcomers in the order they join",
        ),
    ]
    for events, flags, says in cases:
        out = tmp_path / "never"
        proc = socius("run", _write(tmp_path, events), "--runtime", "local", "--out", out, *flags)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and "events" in lines[0], proc.stderr
        assert not out.exists()
