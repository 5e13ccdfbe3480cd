"""`socius interview`: a heuristic character names the people it really trusts and distrusts,
what it feels and owes, as the checkpoint holds them; an llm character answers in words through
a real vLLM server; neither changes the run folder or its digest; bad input is one line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from actors.cli.main import main
from actors.lab.interview import Moment
from tests.commands import ROOT, socius
from world.characters import Characters
from world.ledger import Promises
from world.placement import Placement
from world.population import self_model
from world.record import load_run_scenario, read_shard_snapshot

TICKS, EVERY = 30, 10


def make_run(out: Path, *flags: object) -> Path:
    """A small village (60 characters, 30 ticks, checkpoints every 10) run in process."""
    proc = socius(
        "run",
        ROOT / "examples/village.yaml",
        "--runtime",
        "local",
        "--characters",
        60,
        "--ticks",
        TICKS,
        "--checkpoint-every",
        EVERY,
        "--out",
        out,
        "--quiet",
        *flags,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("interview") / "run")


def files_of(folder: Path) -> dict[str, str]:
    """Every file of a folder with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def trust_table(run: Path, tick: int) -> dict[int, dict[int, dict[str, float]]]:
    """character -> the one it remembers -> trust and the counts behind it, from the files."""
    manifest = json.loads((run / f"checkpoints/tick-{tick:08d}/manifest.json").read_text())
    out: dict[int, dict[int, dict[str, float]]] = {}
    for i in range(manifest["n_shards"]):
        c = Characters.from_state(read_shard_snapshot(run, tick, i)["chars"])
        for row in range(len(c)):
            known = {}
            for s in np.flatnonzero(c.rel_id[row] >= 0):
                pos, neg = float(c.rel_pos[row, s]), float(c.rel_neg[row, s])
                known[int(c.rel_id[row, s])] = {
                    "trust": (pos + 1) / (pos + neg + 2),
                    "kept": int(c.rel_kept[row, s]),
                    "broken": int(c.rel_betrayals[row, s]),
                    "gifts": int(c.rel_gifts[row, s]),
                    "last": max(
                        (
                            int(c.ep_tick[row, e])
                            for e in range(c.episodes)
                            if c.ep_kind[row, e] >= 0 and c.ep_who[row, e] == c.rel_id[row, s]
                        ),
                        default=None,
                    ),
                }
            out[int(c.cid[row])] = known
    return out


def cli(*args: object) -> tuple[int, str, str]:
    """`socius ARGS` in this process (cheaper than a new one): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def interview(run: Path, *args: object) -> dict[str, Any]:
    code, out, err = cli("interview", run, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def name(run: Path, cid: int) -> str:
    return self_model(load_run_scenario(run), cid).name


@pytest.mark.parametrize("tick", [TICKS, 20])
def test_a_heuristic_character_names_whom_it_really_trusts_and_distrusts(
    run: Path, tick: int
) -> None:
    """The most trusted and most distrusted person named is the one the checkpoint's
    relationship columns say, with the promises and gifts behind it."""
    table = trust_table(run, tick)
    both = [
        c
        for c, known in sorted(table.items())
        if any(k["trust"] > 0.5 for k in known.values())
        and any(k["trust"] < 0.5 for k in known.values())
    ]
    assert both, "nobody both trusts and distrusts someone: the world is too quiet"
    cid = both[len(both) // 2]
    said = interview(run, "--character", cid, "--tick", tick, "Whom do you trust?")
    known = table[cid]
    best, worst = said["facts"]["trusts"][0], said["facts"]["distrusts"][0]
    assert said["tick"] == tick and said["answered_by"] == "state"
    assert best["trust"] == pytest.approx(max(k["trust"] for k in known.values()), abs=1e-4)
    assert worst["trust"] == pytest.approx(min(k["trust"] for k in known.values()), abs=1e-4)
    for person in (best, worst):
        truth = known[person["id"]]
        assert person["trust"] == pytest.approx(truth["trust"], abs=1e-4)
        assert (person["kept"], person["broken"], person["gifts"]) == (
            truth["kept"],
            truth["broken"],
            truth["gifts"],
        )
        remembered = person["remembered"]
        assert (remembered["tick"] if remembered else None) == truth["last"]
        assert name(run, person["id"]) in said["answer"]
    # the trust part comes first when the question is about trust, naming the best first
    assert said["answer"].index(name(run, best["id"])) < said["answer"].index(
        name(run, worst["id"])
    )


def test_feelings_and_debts_are_the_checkpoints(run: Path) -> None:
    """What a character says it feels and owes is its hidden feelings and its open promises
    (both ways) in the checkpoint's ledger."""
    moment = Moment.open(run)
    debtors = []
    for i in range(moment.n_shards):
        led = Promises.from_state(read_shard_snapshot(run, TICKS, i)["owed"])
        debtors += [int(x) for x in led.promisor[: len(led)]]
    assert debtors, "no open promise at the end of the run"
    cid = sorted(debtors)[0]
    said = interview(run, "--character", cid, "What do you owe, and how do you feel?")
    snapshot = read_shard_snapshot(
        run, TICKS, Placement.of(moment.scenario, moment.n_shards).shard_of(cid)
    )
    chars = Characters.from_state(snapshot["chars"])
    row = int(np.flatnonzero(chars.cid[: len(chars)] == cid)[0])
    felt = said["facts"]["feelings"]
    assert list(felt.values()) == pytest.approx(chars.emotion[row].tolist(), abs=1e-4)
    owes = said["facts"]["owes"]
    led = Promises.from_state(snapshot["owed"])
    mine = np.flatnonzero(led.promisor[: len(led)] == cid)
    assert sorted((p["with"], p["amount"], p["due"]) for p in owes) == sorted(
        (int(led.promisee[i]), int(led.amount[i]), int(led.due[i])) for i in mine
    )
    first = owes[0]
    assert f"I owe {first['name']} {first['amount']} {first['good']}" in said["answer"]
    # asked about debts, the answer begins with them
    assert said["answer"].startswith("I owe")


def test_plain_output_is_the_answer_in_words(run: Path) -> None:
    proc = socius("interview", run, "--character", 3, "How do you feel?")
    assert proc.returncode == 0, proc.stderr
    head, *words = proc.stdout.splitlines()
    assert name(run, 3) in head and f"tick {TICKS}" in head
    assert " ".join(words).startswith(("I feel", "I don't often say it"))


def test_interviews_change_neither_the_folder_nor_the_digest(run: Path) -> None:
    before = files_of(run)
    for cid in (0, 7, 59):
        interview(run, "--character", cid, "Whom do you trust?")
    interview(run, "--character", 5, "--tick", 20, "How do you feel?")
    assert files_of(run) == before
    summary = json.loads((run / "summary.json").read_text())
    assert Moment.open(run).digest() == summary["state_digest"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--character", 60, "hello?"), "no character 60 at tick 30; its characters are 0-59"),
        (
            ("--character", 1, "--tick", 10, "hello?"),
            "no checkpoint at tick 10; ticks with one: 20, 30",
        ),
        (("--character", 1, "  "), "the question is empty"),
    ],
)
def test_bad_interviews_are_one_line(run: Path, args: tuple[object, ...], says: str) -> None:
    before = files_of(run)
    code, out, err = cli("interview", run, *args)
    assert code == 2, err
    assert out == "" and len(err.strip().splitlines()) == 1 and says in err
    assert files_of(run) == before


def test_a_missing_run_folder_is_one_line(tmp_path: Path) -> None:
    proc = socius("interview", tmp_path / "nowhere", "--character", 1, "hello?")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "not found" in proc.stderr
    assert not (tmp_path / "nowhere").exists()


# --- a character with the llm mind, against a real vLLM server -----------------------------


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory: pytest.TempPathFactory, vllm_server: Any) -> Iterator[Path]:
    """A small world whose llm characters decided with the heuristic (fraction 0): cheap to
    run, and its llm characters have the state an interview reads."""
    folder = tmp_path_factory.mktemp("interview-llm")
    data = yaml.safe_load((ROOT / "examples/village.yaml").read_text())
    data["population"] = {**data["population"], "size": 20, "group_size": 10}
    data["population"]["minds"] = {"heuristic": 1, "llm": 1}
    data["llm"] = {"decisions": "fraction", "fraction": 0.0}
    scenario = folder / "llm.yaml"
    scenario.write_text(yaml.safe_dump(data))
    proc = socius(
        "run", scenario, "--runtime", "local", "--ticks", 10, "--llm-endpoint", vllm_server.url,
        "--out", folder / "run", "--quiet", timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    yield folder / "run"


@pytest.mark.llm
def test_an_llm_character_answers_in_words_through_the_model(
    llm_run: Path, vllm_server: Any
) -> None:
    moment = Moment.open(llm_run)
    cid = next(c for c in moment.characters() if self_model(moment.scenario, c).mind == "llm")
    before = files_of(llm_run)
    said = interview(
        llm_run, "--character", cid, "--llm-endpoint", vllm_server.url, "How do you feel?"
    )
    assert said["answered_by"] == "model", said
    assert isinstance(said["answer"], str) and len(said["answer"].strip()) >= 12
    assert any(ch.isalpha() for ch in said["answer"])
    assert files_of(llm_run) == before
    summary = json.loads((llm_run / "summary.json").read_text())
    assert Moment.open(llm_run).digest() == summary["state_digest"]
    # without a model it says how to give one, in one line
    code, _, err = cli("interview", llm_run, "--character", cid, "How do you feel?")
    assert code == 2 and "--llm-endpoint" in err and len(err.strip().splitlines()) == 1


@pytest.mark.llm
def test_llm_characters_answer_a_survey_through_the_model(
    llm_run: Path, vllm_server: Any, tmp_path: Path
) -> None:
    """Likert points (1-5) and words from the model for llm characters, beside the truth; the
    others from state; the run folder untouched."""
    questions = tmp_path / "q.yaml"
    items = [
        {"id": "village", "type": "general_trust", "text": "I trust most people in my village"},
        {"id": "angry", "type": "feeling", "feeling": "anger", "text": "I feel angry"},
        {"id": "life", "type": "free", "text": "How is life here?"},
    ]
    questions.write_text(yaml.safe_dump({"items": items}))
    before = files_of(llm_run)
    out = tmp_path / "s.csv"
    code, _, err = cli(
        "survey", llm_run, "--questions", questions, "--sample", 6, "--out", out, "--quiet",
        "--llm-endpoint", vllm_server.url,
    )  # fmt: skip
    assert code == 0, err
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 * len(items)
    asked = [r for r in rows if r["mind"] == "llm"]
    assert asked and all(r["answered_by"] == "model" for r in asked)
    assert all(r["answered_by"] == "state" for r in rows if r["mind"] != "llm")
    answered = [r for r in asked if r["answer"] != ""]
    assert answered, [r["note"] for r in asked]
    for r in answered:
        if r["type"] == "free":
            assert any(ch.isalpha() for ch in r["answer"])
        else:
            assert 1 <= int(r["answer"]) <= 5
    assert files_of(llm_run) == before
