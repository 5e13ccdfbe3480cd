"""The LLM mind's contract with the world, driven by scripted answers: what validates is used,
what does not is retried once and then left to the heuristic mind, nothing illegal is ever
applied, a dead backend only means fallbacks, and a recorded run replays to the same digest."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

from inference.answer import answer_schema, parse
from inference.backends.replay import ReplayBackend
from inference.connect import InProcessModel
from inference.prompt import RULES, Prompt, fit
from inference.traces import export, latest
from tests.inference.scripted import Scripted, good_answer, legal_of
from world.acts import ACTION_NAMES
from world.errors import RunFolderError
from world.journal import read_journal
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario
from world.vocab import PRICE
from world.wire import from_batch


def llm_world(size: int = 30, ticks: int = 6, decisions: str = "all", **llm: object) -> Scenario:
    return parse_scenario(
        {
            "name": "llmtest",
            "seed": 4,
            "ticks": ticks,
            "population": {"size": size, "group_size": 10, "minds": {"heuristic": 1, "llm": 1}},
            "information": {"observation_rate": 0.3},
            "llm": {"decisions": decisions, "outcome_ticks": 2, **llm},
        }
    )


def run(sc: Scenario, backend, folder: Path | None = None, shards: int = 2):
    model = InProcessModel(sc, backend, shards, folder)
    record = RunRecord(folder, sc, shards) if folder is not None else None
    rt = LocalRuntime(sc, shards, record, decide=model)
    try:
        result = rt.run()
        if record is not None:
            record.summary({"state_digest": result.state_digest})
    finally:
        rt.close()
        if record is not None:
            record.close()
    return result, rt


# --- answers --------------------------------------------------------------------------------


def test_the_schema_offers_only_the_legal_actions():
    schema = answer_schema(("keep", "break"), 80)
    assert schema["properties"]["action"]["enum"] == ["keep", "break"]
    assert schema["properties"]["say"]["maxLength"] == 80
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    "text, problem",
    [
        (None, "no answer"),
        ("{not json", "not valid JSON"),
        (good_answer("gift"), "action"),  # not among the legal ones
        (good_answer("keep", say="x" * 81), "say"),
        (json.dumps({"action": "keep", "say": "", "reading": {}}), "reading"),
        (good_answer("keep")[:-1] + ', "extra": 1}', "extra"),
    ],
)
def test_invalid_answers_are_named(text, problem):
    result = parse(text, ("keep", "break"), 80)
    assert isinstance(result, str) and problem in result


def test_a_valid_answer_parses():
    result = parse(good_answer("break", say="  Sorry.  "), ("keep", "break"), 80)
    assert not isinstance(result, str)
    assert ACTION_NAMES[result.action] == "break" and result.say == "Sorry."
    assert len(result.reading) == 5


# --- prompts --------------------------------------------------------------------------------


def test_shortening_drops_memories_first_and_never_the_rules():
    p = Prompt(
        RULES,
        [
            ("moment", "Turn 3."),
            ("holdings", "You hold: 3 food."),
            ("relationship", "R" * 200),
            ("memories", "M" * 400),
            ("situation", "You meet someone."),
            ("options", "Your options: idle: pass by."),
        ],
    )
    full = p.size()
    shorter = fit(p, full - 100)
    assert shorter is not None
    names = [n for n, _ in shorter.parts]
    assert "memories" not in names and "relationship" in names and "options" in names
    assert shorter.system == RULES
    smallest = fit(p, len(RULES.encode()) + 65)
    assert smallest is not None and [n for n, _ in smallest.parts] == [
        "moment",
        "situation",
        "options",
    ]
    assert fit(p, len(RULES.encode()) - 1) is None


def test_the_stable_part_comes_first_and_stays_the_same(tmp_path):
    sc = llm_world(ticks=4)
    backend = Scripted(lambda r: good_answer(legal_of(r)[0]))
    run(sc, backend, tmp_path / "run")
    systems: dict[int, set[str]] = {}
    for r in latest(tmp_path / "run", "request").values():
        assert r["messages"][0]["role"] == "system" and r["messages"][0]["content"].startswith(
            RULES
        )
        systems.setdefault(r["actor"], set()).add(r["messages"][0]["content"])
    assert len(systems) > 5
    assert all(len(s) == 1 for s in systems.values()), "a character's prefix changed"


# --- the mind at work -----------------------------------------------------------------------


def test_invalid_answers_are_retried_once_then_fall_back(tmp_path):
    calls: dict[str, int] = {}

    def script(r):
        key = r.key.rsplit(":", 1)[0]
        calls[key] = calls.get(key, 0) + 1
        actor = int(r.key.split(":")[1])
        if actor % 3 == 0:
            return "I refuse to answer in JSON"  # invalid twice: heuristic decides
        if actor % 3 == 1 and calls[key] == 1:
            return "{broken"  # invalid once, then fine
        return good_answer(legal_of(r)[-1], say=f"from {actor}")

    backend = Scripted(script)
    result, _ = run(llm_world(), backend, tmp_path / "run")
    t = result.totals.c
    assert t["llm_decisions"] > 20
    assert t["llm_requests"] == len(backend.requests) == t["llm_decisions"] + t["llm_retries"]
    assert t["llm_invalid"] == t["llm_retries"] + t["llm_fallbacks"]
    assert t["llm_answers"] + t["llm_fallbacks"] == t["llm_decisions"]
    assert t["llm_fallbacks"] > 0 and t["llm_answers"] > 0
    retried = [r for r in backend.requests if r.key.endswith(":1")]
    assert retried and all("not valid" in r.messages[-1]["content"] for r in retried)
    assert max(calls.values()) == 2  # asked at most twice about any decision
    # every request and decision is recorded
    recs = latest(tmp_path / "run", "request")
    assert set(recs) == {r.key for r in backend.requests}
    decisions = latest(tmp_path / "run", "decision")
    assert len(decisions) == t["llm_decisions"]
    by_model = [d for d in decisions.values() if d["by_model"]]
    assert len(by_model) == t["llm_answers"]


def test_words_travel_with_the_act(tmp_path):
    backend = Scripted(lambda r: good_answer(legal_of(r)[0], say=f"words of {r.key}"))
    run(llm_world(ticks=3), backend, tmp_path / "run")

    said = []
    for path in sorted((tmp_path / "run" / "journal").glob("*.sjl")):
        for b in read_journal(path):
            mail = from_batch(b)
            said += [mail.text_of(i) for i in range(len(mail)) if mail.text[i] >= 0]
    assert said and all(s.startswith("words of ") for s in said)


def test_nothing_illegal_is_applied_and_no_goods_appear(tmp_path):
    """A model that ignores the schema and always asks to give or pay is stopped by the world:
    its illegal choices never validate, and goods never come from nowhere."""
    rng = random.Random(3)

    def script(r):
        return good_answer(rng.choice(["gift", "give", "keep", "accept", "contribute"]))

    sc = llm_world(ticks=6)
    backend = Scripted(script)
    result, rt = run(sc, backend, tmp_path / "run")
    recs = latest(tmp_path / "run", "request").values()
    for r in recs:
        if r["valid"]:
            assert json.loads(r["answer"])["action"] in r["legal"]
    assert result.totals.c["invalid_actions"] == 0
    # wealth is only what was produced, minus what was consumed (no goods from nowhere)
    start = LocalRuntime(sc, 2)
    wealth0 = sum(int((s.chars.goods[: len(s.chars)] @ PRICE).sum()) for s in start.shards)
    t = result.totals
    made = int(np.asarray(t.produced) @ PRICE) - int(np.asarray(t.consumed) @ PRICE)
    wealth1 = sum(int((s.chars.goods[: len(s.chars)] @ PRICE).sum()) for s in rt.shards)
    assert wealth1 <= wealth0 + made


def test_a_dead_backend_means_fallbacks_and_the_heuristic_world(tmp_path):
    sc = llm_world(ticks=5)
    down = Scripted(lambda r: None)
    result, _ = run(sc, down, tmp_path / "run")
    t = result.totals.c
    assert t["llm_decisions"] > 0 and t["llm_fallbacks"] == t["llm_decisions"]
    assert t["llm_errors"] == t["llm_requests"] and t["llm_answers"] == 0
    # every decision fell to the heuristic: the world is the one that never asked a model
    assert result.state_digest == LocalRuntime(sc, 2).run().state_digest


def test_salient_and_fraction_choose_fewer(tmp_path):
    counts = {}
    for mode in ("all", "salient", "fraction"):
        b = Scripted(lambda r: good_answer(legal_of(r)[0]))
        result, _ = run(llm_world(ticks=4, decisions=mode, fraction=0.3), b)
        counts[mode] = result.totals.c["llm_decisions"]
    assert 0 < counts["salient"] < counts["all"]
    assert 0.15 * counts["all"] < counts["fraction"] < 0.45 * counts["all"]


def test_the_token_budget_bounds_a_tick():
    b = Scripted(lambda r: good_answer(legal_of(r)[0]))
    result, _ = run(llm_world(ticks=3, token_budget=6000, max_tokens=64), b)
    t = result.totals.c
    assert t["llm_skipped"] > 0
    # each shard may spend 3000 tokens a tick; a request costs at least max_tokens
    assert t["llm_decisions"] <= 3 * 2 * (3000 // 64)


def test_a_recorded_run_replays_to_the_same_digest(tmp_path):
    rng = random.Random(9)

    def script(r):  # answers that no one could reproduce without the record
        if rng.random() < 0.15:
            return "{nope"
        if rng.random() < 0.05:
            return None
        return good_answer(rng.choice(legal_of(r)), say=f"n{rng.randint(0, 999)}")

    sc = llm_world(ticks=6)
    first, _ = run(sc, Scripted(script), tmp_path / "a")
    replayed, _ = run(sc, ReplayBackend(tmp_path / "a"), tmp_path / "b")
    assert replayed.state_digest == first.state_digest
    assert replayed.totals.c["llm_answers"] == first.totals.c["llm_answers"]
    # with another shard count, too
    again, _ = run(sc, ReplayBackend(tmp_path / "a"), tmp_path / "c", shards=3)
    assert again.state_digest == first.state_digest


def test_replay_needs_a_record(tmp_path):
    with pytest.raises(RunFolderError, match="no LLM traces"):
        ReplayBackend(tmp_path)


def test_traces_export_as_chat_with_outcomes(tmp_path):
    backend = Scripted(lambda r: good_answer(legal_of(r)[0], say="Deal."))
    result, _ = run(llm_world(ticks=6), backend, tmp_path / "run")
    out = io.StringIO()
    n = export(tmp_path / "run", out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert n == len(lines) == result.totals.c["llm_decisions"]
    first = lines[0]
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    assert json.loads(first["messages"][2]["content"])["say"] == "Deal."
    assert all("trust_before" in x["outcome"] for x in lines)
    assert any("trust_change" in x["outcome"] for x in lines)
    promises = [x for x in lines if x["metadata"]["action"] == "promise"]
    assert all(x["outcome"].get("promise") in ("kept", "broken", "open") for x in promises)


def test_a_run_restored_to_a_checkpoint_replays_as_it_survived(tmp_path):
    """Ticks replayed after a restore are asked again (with other answers); the record keeps
    only the run that survived, so its replay reaches that run's digest."""
    rng = random.Random(5)

    def script(r):
        return good_answer(rng.choice(legal_of(r)), say=f"n{rng.randint(0, 999)}")

    sc = llm_world(ticks=6)
    folder = tmp_path / "a"
    model = InProcessModel(sc, Scripted(script), 2, folder)
    record = RunRecord(folder, sc, 2)
    rt = LocalRuntime(sc, 2, record, checkpoint_every=3, decide=model)
    try:
        rt.run(ticks=5)  # checkpoints at 0 and 3
        rt.restore(rt.last_checkpoint)  # ticks 4 and 5 are undone, and asked again below
        survived = rt.run()
    finally:
        rt.close()
        record.close()
    assert survived.ticks == 6
    replayed, _ = run(sc, ReplayBackend(folder), tmp_path / "b")
    assert replayed.state_digest == survived.state_digest
    # the undone ticks' decisions are gone from the record
    assert len(latest(folder, "decision")) == survived.totals.c["llm_decisions"]
    assert export(folder, io.StringIO()) == survived.totals.c["llm_decisions"]
