"""`socius survey`: one CSV row per sampled character and item, the sample the same each time;
state-backed items (trust in a character, general trust, feelings) carry the checkpoint's truth
and the gap to the answer; the run folder is untouched; a bad questionnaire is one line and
writes nothing; `socius report` draws the CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.actors.test_interview import EVERY, TICKS, cli, files_of, make_run
from tests.actors.test_report import images_of
from tests.commands import ROOT, socius
from world.characters import Characters
from world.record import read_shard_snapshot
from world.vocab import ROLE_NAMES

QUESTIONS = ROOT / "examples/studies/survey.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("survey") / "run")


def surveyed(run: Path, out: Path, *args: object) -> list[dict[str, str]]:
    code, _, err = cli("survey", run, "--questions", QUESTIONS, "--out", out, "--quiet", *args)
    assert code == 0, err
    with open(out, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def characters_at(run: Path, tick: int) -> dict[int, tuple[Characters, int]]:
    manifest = json.loads((run / f"checkpoints/tick-{tick:08d}/manifest.json").read_text())
    out = {}
    for i in range(manifest["n_shards"]):
        c = Characters.from_state(read_shard_snapshot(run, tick, i)["chars"])
        out.update({int(c.cid[r]): (c, r) for r in range(len(c))})
    return out


def trust(c: Characters, row: int, slots: np.ndarray) -> np.ndarray:
    pos, neg = c.rel_pos[row, slots].astype(np.float64), c.rel_neg[row, slots]
    return (pos + 1) / (pos + neg + 2)


def test_one_row_per_sampled_character_and_item(run: Path, tmp_path: Path) -> None:
    before = files_of(run)
    rows = surveyed(run, tmp_path / "a.csv", "--sample", 12)
    items = yaml.safe_load(QUESTIONS.read_text())["items"]
    people = sorted({int(r["character"]) for r in rows})
    assert len(people) == 12 and len(rows) == 12 * len(items)
    for cid in people:
        assert sorted(r["item"] for r in rows if int(r["character"]) == cid) == sorted(
            i["id"] for i in items
        )
    assert {r["mind"] for r in rows} <= {"heuristic", "tit_for_tat", "grudger", "discriminator"}
    # the sample is drawn from the seed: the same again, and at another checkpoint
    again = surveyed(run, tmp_path / "b.csv", "--sample", 12, "--tick", TICKS - EVERY)
    assert sorted({int(r["character"]) for r in again}) == people
    assert files_of(run) == before


def test_state_backed_items_agree_with_the_checkpoint(run: Path, tmp_path: Path) -> None:
    rows = surveyed(run, tmp_path / "all.csv", "--tick", 20)
    chars = characters_at(run, 20)
    groups = {cid: int(c.group[row]) for cid, (c, row) in chars.items()}
    assert len({r["character"] for r in rows}) == len(chars) == 60
    checked = {"feeling": 0, "trust_in": 0, "general_trust": 0}
    for r in rows:
        c, row = chars[int(r["character"])]
        assert (r["role"], int(r["group"]), int(r["tick"])) == (
            ROLE_NAMES[int(c.role[row])],
            int(c.group[row]),
            20,
        )
        if r["type"] == "free":
            assert r["answer"] and r["truth"] == ""
            continue
        if r["item"] == "first_settler":
            slot = np.flatnonzero(c.rel_id[row] == 0)
            expected = float(trust(c, row, slot)[0]) if len(slot) else None
        elif r["item"] == "partner":
            known = np.flatnonzero(c.rel_id[row] >= 0)
            top = known[c.rel_meetings[row, known] == c.rel_meetings[row, known].max()]
            expected = float(trust(c, row, top).max()) if len(known) else None
            if len(top) > 1:  # ties go to more evidence, then the lower id: check the range
                assert float(r["truth_raw"]) in set(np.round(trust(c, row, top), 4).tolist())
                continue
        elif r["type"] == "general_trust":
            known = np.flatnonzero(c.rel_id[row] >= 0)
            if r["item"] == "village":
                same = np.array([groups[int(o)] == c.group[row] for o in c.rel_id[row, known]])
                known = known[same]
            expected = float(trust(c, row, known).mean()) if len(known) else None
        else:
            feeling = {"angry": 2, "sad": 3, "grateful": 1}[r["item"]]
            expected = float(c.emotion[row, feeling])
        if expected is None:
            assert r["truth"] == r["answer"] == "" and r["note"]
            continue
        checked[r["type"]] += 1
        assert float(r["truth_raw"]) == pytest.approx(expected, abs=1e-4), r
        assert float(r["truth"]) == pytest.approx(1 + 4 * expected, abs=1e-3)
        assert 1 <= int(r["answer"]) <= 5
        assert float(r["gap"]) == pytest.approx(int(r["answer"]) - float(r["truth"]), abs=1e-3)
    assert min(checked.values()) > 0, checked


def test_guarded_characters_under_report_anger(run: Path, tmp_path: Path) -> None:
    """The self-report model masks negative feelings: nobody reports more anger than it
    holds, and someone angry reports less."""
    rows = [r for r in surveyed(run, tmp_path / "f.csv") if r["item"] == "angry"]
    gaps = [float(r["gap"]) for r in rows]
    assert max(gaps) <= 0.5  # rounding to the scale moves an answer at most half a point up
    held = [r for r in rows if float(r["truth_raw"]) > 0.3]
    assert not held or min(float(r["gap"]) for r in held) < 0


def test_the_report_draws_a_survey(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    surveyed(run, out, "--sample", 20)
    code, _, err = cli("report", out)
    assert code == 0, err
    page = tmp_path / "s.html"
    assert page.is_file()
    likert = [i for i in yaml.safe_load(QUESTIONS.read_text())["items"] if i["type"] != "free"]
    assert len(images_of(page)) == len(likert)
    # and a folder holding it
    code, _, err = cli("report", tmp_path)
    assert code == 0, err
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize(
    ("items", "says"),
    [
        (
            [{"id": "x", "type": "likert_guess", "text": "hm"}],
            "item 1 ('x') has type 'likert_guess'; allowed types: general_trust, trust_in, "
            "feeling, free",
        ),
        ([{"type": "feeling", "feeling": "boredom", "text": "hm"}], "item 1.feeling"),
        ([{"type": "free", "text": "hm", "colour": 3}], "item 1.colour"),
        ([{"type": "trust_in", "who": 999, "text": "{who}?"}], "no character 999"),
    ],
)
def test_a_bad_questionnaire_is_one_line(
    run: Path, tmp_path: Path, items: list[dict[str, object]], says: str
) -> None:
    questions = tmp_path / "q.yaml"
    questions.write_text(yaml.safe_dump({"items": items}))
    out = tmp_path / "out" / "s.csv"
    code, _, err = cli("survey", run, "--questions", questions, "--out", out, "--quiet")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert not out.exists() and not list(tmp_path.glob("out/*"))


def test_bad_runs_and_ticks_are_one_line(run: Path, tmp_path: Path) -> None:
    for args, says in (
        ((tmp_path / "nowhere",), "not found"),
        ((run, "--tick", 5), "ticks with one: 20, 30"),
        ((run, "--questions", tmp_path / "none.yaml"), "not found"),
    ):
        flags = [] if "--questions" in args else ["--questions", QUESTIONS]
        code, _, err = cli("survey", *args, *flags, "--out", tmp_path / "x.csv", "--quiet")
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and says in err
        assert not (tmp_path / "x.csv").exists()
    # as a user runs it: one line, no traceback
    proc = socius("survey", run, "--questions", QUESTIONS, "--tick", 5, "--quiet")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
