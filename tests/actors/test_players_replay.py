"""A run with players is recorded like an LLM run is: `players.jsonl` holds what they did (and
the operator's interventions), and `socius run --players-replay RUN` lets them do it again, to
the served run's digest, in process or on Ray, with any number of shards; a record that does not
fit the world is refused in one line."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from actors.served.player_client import Operator, Player, channel, play
from protos import society_pb2 as pb
from tests.actors.test_serve import Served
from tests.commands import socius
from world.journal import read_journal
from world.record import journal_path
from world.wire import from_batch


def _play(player: Player, answer: Callable[[Player, Any], None], errors: list[str]) -> None:
    """A player's loop: `answer` each decision, say it is done after each tick. An answer that
    comes after its tick settled (the player wait is short here) is refused and the play goes on;
    any other refusal is an error."""

    def react(p: Any) -> None:
        if p.WhichOneof("what") != "decision":
            return
        try:
            answer(player, p.decision)
        except grpc.RpcError as err:
            if "is not waiting" not in (err.details() or ""):
                raise

    errors.extend(play(player, react))


def _contrary() -> Callable[[Player, Any], None]:
    """Plays against the grain: the last option that needs no terms (often the defecting one),
    a gift of its own goods at every other encounter, words with every act."""
    encounters = 0

    def answer(player: Player, d: Any) -> None:
        nonlocal encounters
        if d.situation == "encounter" and any(o.terms for o in d.options):
            encounters += 1
            most = max(player.inspect().goods, key=lambda g: g.amount)
            if encounters % 2 and most.amount > 0:
                give = pb.Goods(good=most.good, amount=1)
                player.act(d.id, "gift", f"a gift for {d.counterpart}", give=give)
                return
        action = [o.action for o in d.options if not o.terms][-1]
        player.act(d.id, action, f"I choose to {action}")

    return answer


def _half_quiet() -> Callable[[Player, Any], None]:
    """Answers every other decision with its first option and stays quiet on the rest: after
    the player wait, its character's mind answers those."""
    seen = 0

    def answer(player: Player, d: Any) -> None:
        nonlocal seen
        seen += 1
        if seen % 2:
            player.act(d.id, next(o.action for o in d.options if not o.terms))

    return answer


def _figures(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv") as f:
        return [
            {k: v for k, v in row.items() if not k.startswith("llm_")} for row in csv.DictReader(f)
        ]


def _serve_and_play(tmp_path: Path, *flags: object) -> tuple[Path, dict[str, Any], list[Any]]:
    """A world of 8 ticks served (with `flags`) and played: a contrary player, a half-quiet
    one, one who seeks someone out and leaves the rest to its character, and an operator who
    sets off a famine and a rumour; returns the run folder, its summary and its record."""
    served = Served(
        tmp_path, "--paused", "--tick-interval", 0, "--player-wait", 3, "--ticks", 8,
        "--checkpoint-every", 0, "--shards", 2, *flags,
    )  # fmt: skip
    try:
        chan = channel(f"127.0.0.1:{served.port}")
        errors: list[str] = []
        threads = []
        for character, play in ((5, _contrary), (12, _half_quiet)):
            player = Player(chan, served.tokens[character])
            player.join()
            args = (player, play(), errors)
            threads.append(threading.Thread(target=_play, args=args, daemon=True))
        first = Player(chan, served.tokens[20])
        first.join()
        first.seek(30)
        first.done(8)  # and nothing more: its character's mind plays on
        for t in threads:
            t.start()
        op = Operator(chan, served.operator)
        famine = op.intervene({"kind": "famine", "ticks": [2, 5], "target": {"groups": [0]}})
        assert (famine.index, famine.first, famine.last) == (0, 2, 5)
        rumour = op.intervene({"kind": "rumour", "about": 5, "target": {"groups": [1]}})
        assert (rumour.index, rumour.first) == (1, 1)
        with pytest.raises(grpc.RpcError) as bad:
            op.intervene({"kind": "famine", "tick": 99})
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "past the end of the run" in (bad.value.details() or "")
        with pytest.raises(grpc.RpcError) as refused:
            Operator(chan, served.tokens[5]).intervene({"kind": "plague"})
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        op.resume()
        code, _, err = served.wait()
        for t in threads:
            t.join(timeout=30)
    finally:
        served.kill()
    assert code == 0, err
    assert not errors, errors
    run = served.out
    summary = json.loads((run / "summary.json").read_text())
    record = [json.loads(line) for line in (run / "players.jsonl").read_text().splitlines()]
    assert {"tick": 1, "seeks": [[20, 30]]} in record
    assert [line["event"]["kind"] for line in record if "event" in line] == ["famine", "rumour"]
    answers = [a for line in record for a in line.get("answers", [])]
    assert any("give" in a for a in answers), "the contrary player gave of its own goods"
    played = summary["players"]
    assert 0 < played["answers"] == len(answers) < played["decisions"]
    assert played["defaults"] == played["decisions"] - played["answers"]
    return run, summary, record


def _replay(run: Path, out: Path, *flags: object) -> dict[str, Any]:
    proc = socius(
        "run", run / "scenario.yaml", "--players-replay", run, "--out", out, "--quiet", *flags
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "summary.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.ray
def test_a_served_run_replays_to_its_digest(tmp_path: Path) -> None:
    run, summary, _ = _serve_and_play(tmp_path)

    again = _replay(run, tmp_path / "again", "--runtime", "local")
    assert again["state_digest"] == summary["state_digest"]
    assert again["totals"] == summary["totals"]
    # tick by tick, the same figures, players' decisions, answers and defaults included
    assert _figures(tmp_path / "again") == _figures(run)
    for flags in (("--runtime", "local", "--shards", 3), ("--runtime", "ray", "--shards", 3)):
        out = tmp_path / "-".join(map(str, flags))
        got = _replay(run, out, *flags)
        assert got["state_digest"] == summary["state_digest"], flags
        assert got["totals"] == summary["totals"] and _figures(out) == _figures(run), flags

    plain = socius("run", run / "scenario.yaml", "--runtime", "local", "--out", tmp_path / "p")
    assert plain.returncode == 0, plain.stderr
    without = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert without["state_digest"] != summary["state_digest"], "the players changed the world"

    # a record that does not fit this world: one line, exit 2
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "scenario.yaml").write_text((run / "scenario.yaml").read_text())
    lines = (run / "players.jsonl").read_text().splitlines()
    i, j = next(
        (i, j)
        for i, line in enumerate(lines)
        for j, a in enumerate(json.loads(line).get("answers", []))
        if a["action"] in ("chat", "reject", "keep", "accept")
    )
    row = json.loads(lines[i])
    row["answers"][j]["action"] = "contribute"  # never an option where those are
    lines[i] = json.dumps(row)
    (damaged / "players.jsonl").write_text("\n".join(lines) + "\n")
    bad = socius(
        "run", run / "scenario.yaml", "--players-replay", damaged, "--out", tmp_path / "bad",
        "--runtime", "local",
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"tick {row['tick']}, decision {row['answers'][j]['decision']}" in bad.stderr
    assert "is not an option" in bad.stderr
    # found at the tick where the record leaves the world: the ticks before it are kept
    assert [r["tick"] for r in _figures(tmp_path / "bad")] == [
        str(t) for t in range(1, row["tick"])
    ]
    (damaged / "players.jsonl").write_text("{not json\n")
    bad = socius("run", run / "scenario.yaml", "--players-replay", damaged, "--out", tmp_path / "b")
    assert not (tmp_path / "b").exists()
    assert bad.returncode == 2 and "players.jsonl line 1" in bad.stderr


@pytest.mark.ray
def test_players_on_a_ray_world_act_through_its_shard_actors(tmp_path: Path) -> None:
    """`socius serve --runtime ray`: the hall stays in the served process, the shards are Ray
    actors. The players' acts (and the operator's events) go through the actors that own their
    characters into the journal the actors write, the record is the same kind of record, and
    replayed in process it gives the served world's digest and figures, tick by tick."""
    run, summary, record = _serve_and_play(tmp_path, "--runtime", "ray")
    assert summary["runtime"] == "ray" and summary["shards"] == 2
    said = {
        (int(m.sender[i]), m.text_of(i))
        for shard in range(2)
        for b in read_journal(journal_path(run, shard))
        for m in [from_batch(b)]
        for i in range(len(m))
        if m.text[i] >= 0
    }
    answered = [a for line in record for a in line.get("answers", [])]
    gifts = [
        a["words"]
        for a in answered
        if a["action"] == "gift" and "give" in a and a["decision"].split("-")[1] == "5"
    ]
    assert gifts and all((5, words) in said for words in gifts), (
        "every gift character 5's player made is in the journal, with its words"
    )
    again = _replay(run, tmp_path / "again", "--runtime", "local")
    assert again["state_digest"] == summary["state_digest"]
    assert again["totals"] == summary["totals"]
    assert _figures(tmp_path / "again") == _figures(run)
