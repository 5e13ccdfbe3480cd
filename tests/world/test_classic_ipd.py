"""The iterated prisoner's dilemma on the world engine: axelrod's numbers, exactly, and the
analytic results within stated tolerances."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import axelrod as axl
import pytest

from tests.commands import socius
from tests.world.harness import assert_resume_is_exact
from world.classic.strategies import STOCHASTIC, STRATEGY_NAMES
from world.errors import ScenarioError
from world.journal import read_journal
from world.record import RunRecord, journal_path
from world.runtime import LocalRuntime
from world.scenario import Scenario, load_scenario, parse_scenario
from world.vocab import Kind
from world.wire import from_batch

AXELROD = {s.name: s for s in axl.strategies}
DETERMINISTIC = [n for n in STRATEGY_NAMES if n not in STOCHASTIC]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "classic" / "ipd-tournament.yaml"


def ipd(players: list[str], seed: int = 0, **game: Any) -> Scenario:
    return parse_scenario(
        {"name": "ipd", "seed": seed, "classic": {"kind": "ipd", "players": players, **game}}
    )


def results(sc: Scenario, shards: int = 1) -> dict[str, Any]:
    rt = LocalRuntime(sc, shards)
    return rt.run().summary(sc, shards, "local")["results"]


def test_strategy_names_are_axelrods() -> None:
    """Every strategy carries the name of an axelrod strategy, deterministic where it is; the
    general memory-one strategy is axelrod's MemoryOnePlayer, which has no name of its own."""
    for name in STRATEGY_NAMES:
        if name == "Memory One":
            assert axl.MemoryOnePlayer.classifier["stochastic"] == (name in STOCHASTIC)
            continue
        assert name in AXELROD, name
        assert AXELROD[name].classifier["stochastic"] == (name in STOCHASTIC), name


def test_every_match_pays_round_by_round_what_axelrod_pays() -> None:
    """All deterministic strategies in a round robin of 20 turns: every match's payoff in
    every round, on both sides, is axelrod.Match's."""
    turns = 20
    sc = ipd(DETERMINISTIC, turns=turns)
    rt = LocalRuntime(sc, 3)
    per_round: dict[tuple[int, int], list[float]] = {}
    last: dict[tuple[int, int], float] = {}
    for _ in range(sc.ticks):
        rt.step()
        for shard in rt.shards:
            s = shard.seats  # type: ignore[attr-defined]
            for k in range(len(s)):
                key = (int(s.player[k]), int(s.opponent[k]))
                rounds = per_round.setdefault(key, [])
                if int(s.turn[k]) > len(rounds):  # a turn settled in this tick
                    rounds.append(float(s.score[k]) - last.get(key, 0.0))
                    last[key] = float(s.score[k])
    n = len(DETERMINISTIC)
    assert len(per_round) == n * (n - 1)
    for i in range(n):
        for j in range(i + 1, n):
            match = axl.Match(
                (AXELROD[DETERMINISTIC[i]](), AXELROD[DETERMINISTIC[j]]()), turns=turns
            )
            match.play()
            expected = match.scores()
            assert per_round[i, j] == [float(a) for a, _ in expected], (i, j)
            assert per_round[j, i] == [float(b) for _, b in expected], (j, i)


def test_tournament_totals_are_axelrods() -> None:
    """A tournament of every deterministic strategy, 50 turns, 3 repetitions, on 2 shards:
    each player's total (self-play excluded) and mean payoff per turn against each opponent
    are those of axelrod.Tournament."""
    turns, reps = 50, 3
    tournament = axl.Tournament(
        [AXELROD[n]() for n in DETERMINISTIC], turns=turns, repetitions=reps
    )
    oracle = tournament.play(progress_bar=False)
    got = results(ipd(DETERMINISTIC, turns=turns, repetitions=reps), shards=2)
    n = len(DETERMINISTIC)
    for i, name in enumerate(DETERMINISTIC):
        player = got["players"][i]
        assert player["strategy"] == name
        assert player["total"] == sum(oracle.scores[i]), name
        assert got["totals"][name] == sum(oracle.scores[i]), name
        assert player["turns"] == turns * reps * (n - 1)
        for j in range(n):
            if i != j:
                assert got["payoff_matrix"][i][j] == pytest.approx(
                    oracle.payoff_matrix[i][j], abs=1e-6
                ), (name, DETERMINISTIC[j])
    assert got["ranking"][0] == oracle.ranked_names[0]
    assert sorted(got["ranking"]) == sorted(DETERMINISTIC)


def test_cooperation_rates_are_axelrods() -> None:
    """Each player's cooperation rate over the tournament is axelrod's."""
    players = ["Tit For Tat", "Defector", "Alternator", "Tit For 2 Tats", "Bully"]
    oracle = axl.Tournament([AXELROD[n]() for n in players], turns=40, repetitions=1).play(
        progress_bar=False
    )
    got = results(ipd(players, turns=40))
    for i, name in enumerate(players):
        assert got["players"][i]["cooperation_rate"] == pytest.approx(
            oracle.cooperating_rating[i], abs=1e-6
        ), name


def test_journal_holds_every_move(tmp_path: Path) -> None:
    """Each move travels as an OBSERVATION envelope from the player to its opponent, journaled
    in the tick it was made: tit for tat against the defector cooperates once, then defects;
    the defector never cooperates; 2 players x 1 match x 6 turns = 12 moves."""
    sc = ipd(["Tit For Tat", "Defector"], turns=6)
    record = RunRecord(tmp_path / "run", sc, 2)
    LocalRuntime(sc, 2, record).run()
    record.close()
    moves: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for shard in range(2):
        for batch in read_journal(journal_path(tmp_path / "run", shard)):
            mail = from_batch(batch)
            for i in range(len(mail)):
                assert mail.kind[i] == Kind.OBSERVATION
                assert mail.subject[i] == mail.recipient[i]
                key = (int(mail.sender[i]), int(mail.recipient[i]))
                moves.setdefault(key, []).append((batch.tick, int(mail.flag[i])))
    assert moves[0, 1] == [(1, 1), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)]
    assert moves[1, 0] == [(t, 0) for t in range(1, 7)]


def chancy(shards_seed: int = 5) -> Scenario:
    """Noise, Random and memory-one players, a continuation probability: every stream is
    used (the memory-one vectors come from the scenario, not the state)."""
    return ipd(
        [
            "Tit For Tat",
            "Random",
            "Grudger",
            "Win-Stay Lose-Shift",
            "Defector",
            "ZD-Extort-2",
            "GTFT",
            "Memory One(0.9, 0.2, 0.6, 0.1, start=0.5)",
            "ALLCorALLD",
        ],
        seed=shards_seed,
        turns=30,
        repetitions=4,
        noise=0.1,
        continuation=0.9,
    )


def test_digest_does_not_depend_on_the_shards() -> None:
    """With noise, Random and continuation, 1, 2, 3 and 5 shards end in the same state and
    report the same results; another seed gives another run."""
    sc = chancy()
    runs = {n: LocalRuntime(sc, n).run() for n in (1, 2, 3, 5)}
    assert len({r.state_digest for r in runs.values()}) == 1
    reported = {json.dumps(r.summary(sc, 1, "local")["results"]) for r in runs.values()}
    assert len(reported) == 1
    assert LocalRuntime(chancy(6), 2).run().state_digest != runs[1].state_digest


@pytest.mark.ray
@pytest.mark.parametrize(
    ("example", "ticks"),
    [("ipd-tournament", None), ("donation", 30), ("public-goods", 10), ("trust-game", 10)],
)
def test_ray_run_gives_the_in_process_digest(
    tmp_path: Path, example: str, ticks: int | None
) -> None:
    """`socius run` of each classic example on Ray (3 shard actors) ends in the digest and
    results of the in-process runtime (the longer games cut to `ticks`)."""
    path = EXAMPLE.parent / f"{example}.yaml"
    out = tmp_path / "ray"
    cut = ("--ticks", ticks) if ticks else ()
    proc = socius(
        "run", path, "--runtime", "ray", "--shards", 3, "--quiet", "--out", out, *cut,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    sc = load_scenario(path).with_overrides(ticks=ticks)
    local = LocalRuntime(sc, 1).run()
    assert (summary["runtime"], summary["shards"]) == ("ray", 3)
    assert summary["state_digest"] == local.state_digest
    assert summary["results"] == json.loads(json.dumps(local.summary(sc, 1, "local")["results"]))


def test_restored_shards_continue_exactly(tmp_path: Path) -> None:
    """A run checkpointed mid-tournament and resumed from the checkpoint ends in the digest of
    the uninterrupted run."""
    assert_resume_is_exact(chancy(), tmp_path / "run")


@pytest.mark.parametrize("noise", [0.05, 0.1, 0.3])
def test_tit_for_tat_under_noise_averages_the_four_payoffs(noise: float) -> None:
    """Tit for tat against itself under any noise: the moves wander through all four outcomes
    equally often, so a round pays (R+S+T+P)/4 = 2.25 on average. 100 matches of 400 turns,
    seed 3; tolerance ±0.06 (over 3 standard errors; the start at mutual cooperation adds a
    bias of about +0.75 / (2 noise 400), +0.02 at noise 0.05)."""
    sc = ipd(["Tit For Tat", "Tit For Tat"], seed=3, turns=400, repetitions=100, noise=noise)
    got = results(sc, shards=2)
    for player in got["players"]:
        assert player["turns"] == 400 * 100
        assert player["mean_per_turn"] == pytest.approx(2.25, abs=0.06)
    assert got["cooperation_rate"] == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("w", [0.35, 0.65])
def test_direct_reciprocity_pays_iff_w_above_c_over_b(w: float) -> None:
    """Nowak's direct reciprocity, donation-game form (b=2, c=1: R=1, S=-1, T=2, P=0): a
    defector meeting tit for tat earns exactly b per match, tit for tat meeting itself earns
    (b-c)/(1-w) on average; so a defector invades a tit-for-tat population iff w < c/b = 0.5.
    400 matches per pair, seed 11; tit for tat's mean per match within ±0.35 of (b-c)/(1-w)
    (3 standard errors at w=0.65)."""
    b, c = 2.0, 1.0
    reps = 400
    sc = ipd(
        ["Tit For Tat", "Tit For Tat", "Defector"],
        seed=11,
        turns=200,
        repetitions=reps,
        continuation=w,
        payoffs={"R": b - c, "S": -c, "T": b, "P": 0.0},
    )
    players = results(sc, shards=2)["players"]
    defector_per_match = players[2]["total"] / (2 * reps)
    assert defector_per_match == b  # T once, then P = 0 for ever
    # tit for tat 0 loses exactly c to the defector in each match, and meets tit for tat 1
    tft_per_match = (players[0]["total"] + c * reps) / reps
    expected = (b - c) / (1 - w)
    assert tft_per_match == pytest.approx(expected, abs=0.35)
    assert (tft_per_match > defector_per_match) == (w > c / b)


BAD = {
    "unknown strategy": (
        {"kind": "ipd", "players": ["Tit For Tat", "Tit For Three Tats"]},
        "classic.players: unknown strategy 'Tit For Three Tats'; allowed: Cooperator",
    ),
    "no dilemma": (
        {"kind": "ipd", "players": ["Defector", "Cooperator"], "payoffs": {"T": 2}},
        "classic.payoffs: a prisoner's dilemma needs T > R > P > S; got T=2, R=3",
    ),
    "unknown field": (
        {"kind": "ipd", "players": ["Defector", "Cooperator"], "rounds": 3},
        "classic.rounds: unknown field; allowed here: continuation, kind, noise, payoffs",
    ),
    "bad noise": (
        {"kind": "ipd", "players": ["Defector", "Cooperator"], "noise": 1.5},
        "classic.noise: Input should be less than or equal to 1 (got 1.5)",
    ),
    "unknown kind": ({"kind": "chess"}, "classic: Input tag 'chess' found using 'kind'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_classic_section_is_one_line_naming_the_field(case: str) -> None:
    """A bad classic section is one ScenarioError that names the field and what is allowed."""
    section, message = BAD[case]
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "bad", "classic": section})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_population_follows_the_players() -> None:
    """A classic game has one character per player; another population.size is refused, and
    ticks default to the turns plus one (the last moves settle a tick later)."""
    sc = ipd(["Defector", "Cooperator", "Grudger"], turns=7)
    assert (sc.population.size, sc.ticks) == (3, 8)
    with pytest.raises(ScenarioError, match="one character per player, 3, not 10"):
        sc.with_overrides(**{"population.size": 10})
    assert sc.with_overrides(seed=4).population.size == 3


def test_changing_the_game_derives_its_size_and_length() -> None:
    """An override of the game (as a sweep makes) derives the characters and, where they were
    derived, the ticks again; ticks given in the scenario stay."""
    sc = ipd(["Defector", "Cooperator", "Grudger"], turns=7)
    longer = sc.with_overrides(**{"classic.turns": 50, "classic.players": ["Defector"] * 4})
    assert (longer.population.size, longer.ticks) == (4, 51)
    fixed_length = sc.with_overrides(ticks=5).with_overrides(**{"classic.turns": 50})
    assert fixed_length.ticks == 5


def test_classic_players_do_not_think_with_a_model() -> None:
    """A classic game with an llm share in population.minds is refused, naming the field."""
    with pytest.raises(ScenarioError, match=r"population\.minds: the players of a classic ipd"):
        parse_scenario(
            {
                "name": "ipd",
                "population": {"minds": {"llm": 1.0}},
                "classic": {"kind": "ipd", "players": ["Defector", "Cooperator"]},
            }
        )


def test_bad_command_line_size_exits_2(tmp_path: Path) -> None:
    """`socius run --characters` on a classic game is one clear line and exit 2."""
    proc = socius("run", EXAMPLE, "--characters", 50, "--runtime", "local", "--out", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "population.size: a classic ipd game has one character per player" in proc.stderr
