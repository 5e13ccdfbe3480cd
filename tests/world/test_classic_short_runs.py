"""A classic game cut short (`--ticks` below what it needs, or stopped and resumed) reports the
rounds it played: per-round figures over the rounds played, the second half of what was played,
`played` and a note, and summary.json's `stopped_early`; a resumed run that completes reports
the whole game. Each expected figure is worked out here from the journal (every envelope the
run sent), not by the results functions; and a classic run's closing table is the game's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from actors.cli.main import main
from actors.drive.driver import Driver
from actors.drive.launch import Launch, build_runtime
from world.journal import read_journal
from world.runtime import LocalRuntime
from world.scenario import load_scenario
from world.vocab import NORM_NAMES, NORM_TABLE, Kind
from world.wire import Mail, from_batch

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "classic"

DONATION = {
    "kind": "donation",
    "players": {"Discriminator": 6, "Cooperator": 2, "Defector": 2},
    "benefit": 3.0,
    "cost": 1.0,
    "rounds": 50,
}
TRUST = {
    "kind": "trust",
    "investors": {"Full Trust": 2, "Trust Then Verify": 2, "No Trust": 1},
    "trustees": {"Fair": 2, "Selfish": 2, "Reciprocal": 1},
    "endowment": 10,
    "multiplier": 3,
    "rounds": 10,
}
IPD = {
    "kind": "ipd",
    "players": ["Tit For Tat", "Defector", "Random", "Grudger", "Alternator"],
    "turns": 30,
}


def scenario_file(folder: Path, classic: dict[str, Any], **more: Any) -> Path:
    path = folder / f"{classic['kind']}.yaml"
    path.write_text(
        yaml.safe_dump(
            {"name": f"short-{classic['kind']}", "classic": classic, **more}, sort_keys=False
        )
    )
    return path


def run_cli(path: Path, out: Path, *flags: object) -> int:
    args = ["run", str(path), "--runtime", "local", "--out", str(out), *map(str, flags)]
    return main(args)


def summary_of(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def journal(out: Path) -> Iterator[tuple[int, Mail]]:
    """Every batch of envelopes the run sent: (the tick it was sent in, its envelopes)."""
    for path in sorted((out / "journal").glob("*.sjl")):
        for batch in read_journal(path):
            yield batch.tick, from_batch(batch)


def rows(mail: Mail, kind: Kind) -> np.ndarray:
    return np.flatnonzero(mail.kind[: len(mail)] == kind)


def test_donation_cut_by_ticks_reports_the_rounds_played(tmp_path: Path) -> None:
    """50 rounds cut to 13 ticks on 2 shards (public record, no errors, stern judging): the
    payoffs per round are those of the 13 rounds' gifts (the 13th's gifts, still in flight,
    included) over 13 rounds, the rates those of the acts of ticks 1..13 and of 7..13 (the
    second half of what was played), the share in good standing that of the record rebuilt
    from the acts, and the run says it stopped early."""
    out = tmp_path / "run"
    path = scenario_file(tmp_path, DONATION, norm="stern_judging", seed=3)
    assert run_cli(path, out, "--ticks", 13, "--shards", 2, "--quiet") == 0
    summary = summary_of(out)
    res = summary["results"]
    assert summary["ticks"] == 13 and summary["stopped_early"] is True
    assert res["rounds"] == 50
    assert res["played"] == {
        "rounds": 13,
        "late_rounds": 7,
        "of": 50,
        "ticks": 13,
        "finished": False,
    }
    assert "13 of its 50 rounds" in res["note"]

    strategy = np.repeat([0, 1, 2], [6, 2, 2])  # Discriminator, Cooperator, Defector
    n, b, c = 10, 3.0, 1.0
    payoff = np.zeros(n)
    acts = np.zeros((14, n), np.int64)  # [tick, donor] 1: gave (a donor acts once a tick)
    recipient_of = np.zeros((14, n), np.int64)
    for tick, mail in journal(out):
        g = rows(mail, Kind.GIFT)
        np.add.at(payoff, mail.recipient[g].astype(np.int64), b)
        np.add.at(payoff, mail.sender[g].astype(np.int64), -c)
        o = rows(mail, Kind.OBSERVATION)
        donor = mail.sender[o].astype(np.int64)
        acts[tick, donor] = mail.flag[o] & 1
        recipient_of[tick, donor] = mail.subject[o]
    for s, name in enumerate(("Discriminator", "Cooperator", "Defector")):
        mine = strategy == s
        got = res["by_strategy"][name]
        assert got["payoff_per_round"] == pytest.approx(payoff[mine].sum() / (mine.sum() * 13))
        assert got["cooperation_rate"] == pytest.approx(acts[1:, mine].mean(), abs=1e-6)
    assert res["cooperation_rate"] == pytest.approx(acts[1:].mean(), abs=1e-6)
    assert res["cooperation_rate_late"] == pytest.approx(acts[7:].mean(), abs=1e-6)
    assert 0 < res["cooperation_rate_late"] < 1

    # the public record: every act judged by the norm, with the recipient's standing then
    norm = NORM_TABLE[NORM_NAMES.index("stern_judging")]
    good = np.ones(n, np.int64)
    late_good = np.zeros(3)
    for tick in range(1, 14):
        if tick >= 7:  # the standing each character is held in as round `tick` begins
            late_good += np.bincount(strategy, weights=good, minlength=3)
        good = norm[acts[tick], good[recipient_of[tick]]].astype(np.int64)
    people = np.bincount(strategy)
    for s, name in enumerate(("Discriminator", "Cooperator", "Defector")):
        expected = late_good[s] / (people[s] * 7)
        assert res["by_strategy"][name]["good_fraction_late"] == pytest.approx(expected, abs=1e-6)
    assert res["good_fraction_late"] == pytest.approx(late_good.sum() / (n * 7), abs=1e-6)
    assert res["by_strategy"]["Defector"]["good_fraction_late"] < 1


def test_trust_cut_mid_round_counts_only_whole_rounds(tmp_path: Path) -> None:
    """10 rounds cut to 7 ticks: the trustees answered rounds 1..3 (ticks 2, 4, 6); round 4's
    investment (tick 7) is in flight and counts for nothing. Shares and payoffs per round are
    those of the three rounds, from the journal's gifts."""
    out = tmp_path / "run"
    path = scenario_file(tmp_path, TRUST, seed=1)
    assert run_cli(path, out, "--ticks", 7, "--shards", 3, "--quiet") == 0
    summary = summary_of(out)
    res = summary["results"]
    assert summary["stopped_early"] is True
    assert res["played"] == {"rounds": 3, "of": 10, "ticks": 7, "finished": False}
    pairs, e, k = 5, 10, 3
    sent = np.zeros((8, pairs), np.int64)  # [tick, pair]
    back = np.zeros((8, pairs), np.int64)
    for tick, mail in journal(out):
        g = rows(mail, Kind.GIFT)
        sender, amount = mail.sender[g].astype(np.int64), mail.amount[g].astype(np.int64)
        investing = sender < pairs
        if tick % 2:
            sent[tick, sender[investing]] = amount[investing]
        else:
            back[tick, sender[~investing] - pairs] = amount[~investing]
    assert sent[7].sum() > 0  # round 4 was sent, and is not in the results
    sent3 = sent[[1, 3, 5]]
    back3 = back[[2, 4, 6]]
    assert res["sent_share"] == pytest.approx(sent3.sum() / (e * pairs * 3), abs=1e-6)
    assert res["returned_share"] == pytest.approx(back3.sum() / (k * sent3.sum()), abs=1e-6)
    per_pair = {
        "investors": (e - sent3 + back3).sum(axis=0) / 3,  # pair i: investor i, trustee i
        "trustees": (k * sent3 - back3).sum(axis=0) / 3,
    }
    for side, mean in per_pair.items():
        at = 0
        for name, count in TRUST[side].items():
            got = res[side][name]["payoff_per_round"]
            assert got == pytest.approx(mean[at : at + count].mean(), abs=1e-6), (side, name)
            at += count


def test_ipd_cut_by_ticks_is_per_turn_settled(tmp_path: Path) -> None:
    """30 turns cut to 9 ticks: 8 turns settled in every match. Each player's mean payoff per
    turn is that of its moves against the answers of turns 1..8 in the journal; its
    cooperation rate counts all 9 ticks' moves."""
    out = tmp_path / "run"
    path = scenario_file(tmp_path, IPD, seed=2)
    assert run_cli(path, out, "--ticks", 9, "--shards", 2, "--quiet") == 0
    summary = summary_of(out)
    res = summary["results"]
    assert summary["stopped_early"] is True
    assert res["played"] == {"rounds": 8, "of": 30, "ticks": 9, "finished": False}
    assert "8 of its 30 turns" in res["note"]
    n = len(IPD["players"])
    move = np.full((10, n, n), -1, np.int64)  # [tick, player, opponent]
    for tick, mail in journal(out):
        o = rows(mail, Kind.OBSERVATION)
        move[tick, mail.sender[o].astype(np.int64), mail.recipient[o].astype(np.int64)] = (
            mail.flag[o] & 1
        )
    table = np.array([[1.0, 5.0], [0.0, 3.0]])  # [mine, theirs]: P T / S R
    for i, row in enumerate(res["players"]):
        others = [j for j in range(n) if j != i]
        paid = sum(table[move[t, i, j], move[t, j, i]] for t in range(1, 9) for j in others)
        assert row["turns"] == 8 * (n - 1)
        assert row["mean_per_turn"] == pytest.approx(paid / (8 * (n - 1)), abs=1e-6)
        assert row["cooperation_rate"] == pytest.approx(move[1:, i, others].mean(), abs=1e-6)


def test_public_goods_cut_says_how_far_it_went(tmp_path: Path) -> None:
    """A public goods game cut short is marked: rounds settled, a note, stopped_early."""
    out = tmp_path / "run"
    assert run_cli(EXAMPLES / "public-goods.yaml", out, "--ticks", 5, "--quiet") == 0
    summary = summary_of(out)
    assert summary["stopped_early"] is True
    played = summary["results"]["played"]
    assert played == {"rounds": 4, "of": 10, "ticks": 5, "finished": False}
    assert "4 of its 10 rounds" in summary["results"]["note"]


def test_public_goods_cut_reports_the_rounds_played(tmp_path: Path) -> None:
    """The example (groups of 4: two Conditional Cooperators, a Punisher, a Rational; e 20,
    r 1.6; a point costs 1 and fines 3) cut to 5 ticks reports the 4 rounds settled: the
    contributions of rounds 1..4 and the payoffs per round over 4 rounds, both rebuilt from
    the journal's contributions and punishment notices."""
    out = tmp_path / "run"
    assert run_cli(EXAMPLES / "public-goods.yaml", out, "--ticks", 5, "--quiet") == 0
    res = summary_of(out)["results"]
    members, size, e, r = 40, 4, 20, 1.6
    given = np.zeros((6, members))  # [round, member]
    points = np.zeros((6, members, members))  # [round, punisher, punished]
    for tick, mail in journal(out):
        c = rows(mail, Kind.CONTRIBUTION)
        given[mail.ref[c].astype(np.int64), mail.sender[c].astype(np.int64)] = mail.amount[c]
        o = rows(mail, Kind.OBSERVATION)  # notices of round tick - 1's punishment
        points[tick - 1, mail.sender[o].astype(np.int64), mail.recipient[o].astype(np.int64)] = (
            mail.amount[o]
        )
    rounds = given[1:5]
    assert res["contributions"] == pytest.approx(list(rounds.mean(axis=1) / e), abs=1e-6)
    pot = rounds.reshape(4, members // size, size).sum(axis=2).repeat(size, axis=1)
    payoff = (e - rounds + r * pot / size).sum(axis=0)
    payoff -= points[1:5].sum(axis=(0, 2)) * 1.0 + points[1:5].sum(axis=(0, 1)) * 3.0
    place = np.arange(members) % size
    for name, seats in (("Conditional Cooperator", [0, 1]), ("Punisher", [2]), ("Rational", [3])):
        mine = np.isin(place, seats)
        got = res["by_strategy"][name]["payoff_per_round"]
        assert got == pytest.approx(payoff[mine].sum() / (mine.sum() * 4), abs=1e-5), name


def test_a_finished_game_is_not_stopped_early(tmp_path: Path) -> None:
    """The whole game: every round played, no note, not stopped early, exit 0."""
    out = tmp_path / "run"
    path = scenario_file(tmp_path, {**DONATION, "rounds": 12}, seed=1)
    assert run_cli(path, out, "--quiet") == 0
    summary = summary_of(out)
    assert summary["stopped_early"] is False
    res = summary["results"]
    assert res["played"] == {
        "rounds": 12,
        "late_rounds": 6,
        "of": 12,
        "ticks": 13,
        "finished": True,
    }
    assert "note" not in res


def test_a_resumed_game_that_completes_reports_the_whole_game(tmp_path: Path) -> None:
    """A donation game stopped at tick 17 of 41 (a checkpoint every 5 ticks) says it stopped
    early with 17 rounds played; `socius resume` completes it, and its results are those of
    the game run straight through."""
    path = scenario_file(
        tmp_path, {**DONATION, "rounds": 40}, seed=5, noise={"execution": 0.1, "assessment": 0.1}
    )
    sc = load_scenario(path)
    straight = LocalRuntime(sc, 2).run().summary(sc, 2, "local")["results"]
    assert straight["played"]["finished"]
    out = tmp_path / "run"
    runtime, record = build_runtime(Launch(runtime="local"), sc, out, 2, 5, resume=False)
    driver = Driver(runtime, record)
    stopped = driver.finish(driver.run(should_stop=lambda: runtime.completed >= 17))
    assert stopped["ticks"] == 17 and stopped["stopped_early"] is True
    assert stopped["results"]["played"]["rounds"] == 17
    assert "17 of its 40 rounds" in stopped["results"]["note"]
    assert main(["resume", str(out), "--runtime", "local", "--quiet"]) == 0
    resumed = summary_of(out)
    assert resumed["ticks"] == 41 and resumed["stopped_early"] is False
    assert resumed["results"] == straight


def test_closing_table_of_a_classic_run_is_the_games(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`socius run` of a classic game, cut short, ends with the game's results (how many
    rounds were played, its figures, the note) and none of the village's figures; stderr says
    the game stopped early."""
    monkeypatch.setenv("COLUMNS", "240")
    out = tmp_path / "run"
    assert run_cli(EXAMPLES / "donation.yaml", out, "--ticks", 20) == 0
    said = capsys.readouterr()
    for words in ("after 20 ticks", "donation results", "rounds played", "20 of 200",
                  "good fraction late", "by strategy", "Discriminator", "these results "
                  "describe the 20 rounds played", f"run folder: {out}"):  # fmt: skip
        assert words in said.out, (words, said.out)
    for village in ("mean trust", "cooperation rate (last tick)", "wealth Gini", "promises"):
        assert village not in said.out, (village, said.out)
    assert "the game stopped after 20 of its 200 rounds" in said.err
    assert "stopped_early" in said.err
