"""Evolutionary dynamics of the iterated prisoner's dilemma (classic kind `evolution`): the
fixation probabilities the theory gives and axelrod's MoranProcess finds, layout-free digests,
runs that resume, results that say what happened, and bad input refused in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import axelrod as axl
import numpy as np
import pytest

from tests.commands import socius
from tests.world.harness import assert_resume_is_exact
from world.classic.config import Evolution
from world.classic.dynamics import fermi, moran
from world.classic.evolution import evolve, starting
from world.classic.fixation import fixation, invasion_matrix, wilson
from world.classic.games import results_of
from world.classic.matches import Matches
from world.errors import ScenarioError
from world.runtime import LocalRuntime
from world.scenario import Scenario, load_scenario, parse_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "classic" / "evolution.yaml"


def evolution(players: dict[str, int], seed: int = 0, **game: Any) -> Scenario:
    return parse_scenario(
        {
            "name": "evolution",
            "seed": seed,
            "classic": {"kind": "evolution", "players": players, **game},
        }
    )


def closed_form(r: float, n: int) -> float:
    """The fixation probability of one mutant of constant relative fitness r among n - 1
    residents (Moran 1958): (1 - 1/r) / (1 - 1/r^n)."""
    return (1 - 1 / r) / (1 - r**-n)


def chancy(process: str = "moran", seed: int = 4) -> Scenario:
    """Noise, memory-one players, mutation: every stream of the kind is used."""
    return evolution(
        {
            "Tit For Tat": 3,
            "Defector": 2,
            "GTFT": 2,
            "Memory One(0.9, 0.1, 0.6, 0.2, start=0.5)": 1,
            "Win-Stay Lose-Shift": 1,
            "Random(0.3)": 0,
        },
        seed=seed,
        process=process,
        noise=0.05,
        mutation=0.05,
        generations=25,
        turns=12,
        continuation=0.95,
    )


def test_digest_does_not_depend_on_the_shards() -> None:
    """With noise, continuation, memory-one players and mutation, 1, 2 and 3 shards end in the
    same state and report the same results, which the in-process `evolve` reproduces; another
    seed gives another run."""
    for process in ("moran", "fermi"):
        sc = chancy(process)
        runs = {n: LocalRuntime(sc, n).run() for n in (1, 2, 3)}
        assert len({r.state_digest for r in runs.values()}) == 1, process
        reported = {json.dumps(r.summary(sc, n, "local")["results"]) for n, r in runs.items()}
        assert len(reported) == 1, process
        assert json.dumps(results_of(sc, evolve(sc))) in reported, process
        assert LocalRuntime(chancy(process, 5), 2).run().state_digest != runs[1].state_digest


def test_matches_played_once_are_the_matches_played_again() -> None:
    """Without noise, a match of deterministic strategies (memory-one ones with chances of 0
    and 1 included) is played once and remembered: what is remembered is what playing it
    again in any generation gives, axelrod's payoffs included (tit for tat against the
    defector: 0 + 9 x 1 over 10 turns)."""
    players = {
        "Tit For Tat": 2,
        "Defector": 2,
        "Win-Shift Lose-Stay": 1,
        "Memory One(1, 0, 1, 0)": 1,
    }
    sc = evolution(players, turns=10)
    game = sc.classic
    assert isinstance(game, Evolution)
    strategy = starting(game)
    a, b = np.triu_indices(len(strategy), 1)
    remembered = Matches(game, sc.seed)
    assert remembered.fixed.all()
    played = remembered.play(3, a, b, strategy)
    fresh = Matches(game, sc.seed)
    fresh.fixed[:] = False
    again = fresh.play(8, a, b, strategy)
    for field in ("pay_a", "pay_b", "turns", "coop_a", "coop_b"):
        assert np.array_equal(getattr(played, field), getattr(again, field)), field
    k = int(np.flatnonzero((a == 0) & (b == 2))[0])  # tit for tat against a defector
    assert (played.pay_a[k], played.pay_b[k], played.coop_a[k]) == (9.0, 14.0, 1)


def test_resumed_run_ends_in_the_same_digest(tmp_path: Path) -> None:
    """A run checkpointed at generation 7 and resumed from the checkpoint ends in the digest
    and results of the uninterrupted run."""
    assert_resume_is_exact(chancy("fermi"), tmp_path / "run")


def test_results_describe_the_run() -> None:
    """Without mutation the game stops when a strategy is all there is: the winner, the
    generation, shares that sum to 1 each generation and end at the winner's 1, a finished
    game; with mutation nothing fixates and every generation is played."""
    sc = evolution(
        {"Tit For Tat": 4, "Defector": 4}, seed=1, generations=400, turns=10, selection=2.0
    )
    res = LocalRuntime(sc, 2).run().summary(sc, 2, "local")["results"]
    g, winner = res["fixation_generation"], res["winner"]
    assert g is not None and winner in ("Tit For Tat", "Defector")
    shares = res["per_generation"]["shares"]
    assert all(len(s) == g + 1 for s in shares.values())
    assert all(sum(col) == pytest.approx(1) for col in zip(*shares.values(), strict=True))
    assert shares[winner][-1] == 1.0 and shares[winner][0] == 0.5
    assert res["by_strategy"][winner]["fixated"] == 1
    assert res["played"] == {"rounds": g, "of": 400, "ticks": 401, "finished": True}
    assert "note" not in res
    assert len(res["per_generation"]["cooperation"]) == g
    assert 0 < res["cooperation_rate"] < 1
    mutating = evolution({"Tit For Tat": 3, "Defector": 3}, generations=30, mutation=0.2)
    res = results_of(mutating, evolve(mutating))
    assert res["fixation_generation"] is None and res["winner"] is None
    assert res["played"]["rounds"] == 30 and res["played"]["finished"]
    assert all(s["fixated"] == 0 for s in res["by_strategy"].values())


def drive(rule: Any, n: int, payoff_mutant: float, runs: int, beta: float = 1.0) -> int:
    """Runs (seeds 0, 1, ...) of the update rule alone, from one mutant (strategy 1, payoff
    `payoff_mutant`) among n - 1 residents (payoff 0), to fixation: how many the mutant won."""
    won = 0
    for seed in range(runs):
        strategy = np.zeros(n, np.int16)
        strategy[0] = 1
        generation = 0
        while 0 < strategy.sum() < n:
            payoff = np.where(strategy == 1, payoff_mutant, 0.0)
            change = rule(seed, generation, strategy, payoff, beta, 0.0, 2)
            strategy[change.player] = change.strategy
            generation += 1
        won += int(strategy[0] == 1)
    return won


@pytest.mark.parametrize(("rule", "r"), [(moran, 1.5), (moran, 0.8), (fermi, 1.5)])
def test_constant_fitness_fixes_as_the_closed_form(rule: Any, r: float) -> None:
    """A mutant of constant relative fitness r (payoff ln r above the residents' at beta 1:
    exp(beta payoff) is r times theirs; for the Fermi rule the same ratio of transition rates)
    among N - 1 = 5 residents fixes with probability (1 - 1/r)/(1 - 1/r^N) (0.365 for r = 1.5,
    0.089 for r = 0.8), within 3 standard errors over 2000 runs (seeds 0 to 1999)."""
    n, runs = 6, 2000
    p = closed_form(r, n)
    won = drive(rule, n, math.log(r), runs)
    assert abs(won / runs - p) < 3 * math.sqrt(p * (1 - p) / runs), (won, p)


@pytest.mark.parametrize(
    ("players", "game"),
    [
        ({"Tit For Tat": 1, "Cooperator": 4}, {"selection": 5.0}),  # same payoffs, R a turn
        ({"Defector": 1, "Tit For Tat": 4}, {"selection": 0.0}),  # no selection
        ({"Tit For Tat": 1, "Cooperator": 4}, {"selection": 5.0, "process": "fermi"}),
        ({"Defector": 1, "Grudger": 4}, {"selection": 0.0, "process": "fermi"}),
    ],
)
def test_neutral_mutant_fixes_with_probability_one_over_n(
    players: dict[str, int], game: dict[str, Any]
) -> None:
    """A neutral mutant (tit for tat among cooperators without noise: everyone earns R a turn;
    or no selection at all) takes over a population of N = 5 with probability 1/N = 0.2:
    within 3 standard errors (0.049) over 600 runs, seed 11."""
    sc = evolution(players, seed=11, generations=2000, turns=5, **game)
    got = fixation(sc, 600)
    mutant = next(iter(players))
    assert got.unfixed() == 0
    assert abs(got.probability(mutant) - 0.2) < 3 * math.sqrt(0.2 * 0.8 / 600), got.wins
    lo, hi = got.interval(mutant)
    assert lo < got.probability(mutant) < hi


def exact_two_strategies(sc: Scenario, first: str, second: str) -> float:
    """The exact probability that `first` takes over from the scenario's start in the Moran
    process with fitness exp(beta x mean payoff per turn) (Nowak et al. 2004), for
    deterministic strategies without noise: the payoffs come from axelrod's matches."""
    game = sc.classic
    assert game is not None and game.kind == "evolution"
    turns, beta, n = game.turns, game.selection, game.characters()
    named = {s.name: s for s in axl.strategies}

    def per_turn(x: str, y: str) -> float:
        match = axl.Match((named[x](), named[y]()), turns=turns)
        match.play()
        return match.final_score_per_turn()[0]

    aa, ab, ba, bb = (
        per_turn(x, y)
        for x, y in [(first, first), (first, second), (second, first), (second, second)]
    )
    ratios = []  # g_i / f_i: the chance of a step down over a step up, with i of the first
    for i in range(1, n):
        f = math.exp(beta * ((i - 1) * aa + (n - i) * ab) / (n - 1))
        g = math.exp(beta * (i * ba + (n - i - 1) * bb) / (n - 1))
        ratios.append(g / f)
    products = np.cumprod(ratios)
    start = game.players[first]
    return float((1 + products[: start - 1].sum()) / (1 + products.sum()))


def test_moran_agrees_with_axelrods_moran_process() -> None:
    """Two tit for tats among three defectors, 10-turn matches, no noise, fitness
    exp(mean payoff per turn) (axelrod: fitness_transformation exp(total / (N - 1)) of its
    total of payoffs per turn, with its own seeds): both processes fix tit for tat as often as
    the exact birth-death chain says, within 3 standard errors (500 runs here, 200 of
    axelrod's)."""
    sc = evolution({"Tit For Tat": 2, "Defector": 3}, seed=2, turns=10, generations=5000)
    exact = exact_two_strategies(sc, "Tit For Tat", "Defector")
    ours = fixation(sc, 500)
    assert ours.unfixed() == 0
    assert abs(ours.probability("Tit For Tat") - exact) < 3 * math.sqrt(exact * (1 - exact) / 500)
    runs, won = 200, 0
    for seed in range(runs):
        players = [axl.TitForTat(), axl.TitForTat()] + [axl.Defector() for _ in range(3)]
        process = axl.MoranProcess(
            players, turns=10, seed=seed, fitness_transformation=lambda s: math.exp(s / 4)
        )
        process.play()
        won += process.winning_strategy_name == "Tit For Tat"
    assert abs(won / runs - exact) < 3 * math.sqrt(exact * (1 - exact) / runs), (won, exact)


@pytest.mark.parametrize(
    ("w", "mutant", "resident", "runs", "above"),
    [
        (0.25, "Defector", "Tit For Tat", 200, True),
        (0.25, "Tit For Tat", "Defector", 200, False),
        (0.9, "Defector", "Tit For Tat", 150, False),
    ],
)
def test_direct_reciprocity_rule(
    w: float, mutant: str, resident: str, runs: int, above: bool
) -> None:
    """Nowak (2006)'s direct reciprocity in the donation-game form (b = 2, c = 1: R = 1,
    S = -1, T = 2, P = 0; payoffs per match, continuation w, Moran, beta 0.3, N = 6): below
    c/b = 0.5 (w = 0.25) a defector takes over tit for tat more often than drift (1/N) and
    tit for tat takes over defectors less often; above it (w = 0.9) the defector takes over
    less often. Each 3 standard errors of 1/N away, seed 7. (A tit for tat mutant among
    defectors at w = 0.9 does better than drift, 0.24 over 300 runs against 0.17, too slow
    for here.)"""
    sc = evolution(
        {mutant: 1, resident: 5},
        seed=7,
        turns=40,
        continuation=w,
        selection=0.3,
        payoff="per_match",
        payoffs={"R": 1, "S": -1, "T": 2, "P": 0},
        generations=100_000,
    )
    got = fixation(sc, runs).probability(mutant)
    drift, se = 1 / 6, math.sqrt((1 / 6) * (5 / 6) / runs)
    assert (got - drift > 3 * se) if above else (drift - got > 3 * se), got


def test_invasion_matrix_and_wilson() -> None:
    """Without noise a defector invades cooperators more often than drift would (1/N) and
    tit for tat resists it; Wilson's interval holds the estimate and stays in [0, 1]."""
    sc = evolution({"Cooperator": 3, "Defector": 3}, seed=0, turns=10, selection=2.0)
    matrix = invasion_matrix(sc, ["Cooperator", "Defector", "Tit For Tat"], 100)
    assert len(matrix) == 6
    assert matrix["Defector", "Cooperator"].probability("Defector") > 1 / 6
    assert matrix["Defector", "Tit For Tat"].probability("Defector") < 1 / 6
    assert wilson(0, 20)[0] == 0.0 and 0 < wilson(0, 20)[1] < 0.2
    lo, hi = wilson(30, 100)
    assert lo < 0.3 < hi and hi - lo == pytest.approx(0.18, abs=0.01)


def test_example_plays() -> None:
    """The example scenario plays in process and reports a share for each strategy in every
    generation it reached."""
    sc = load_scenario(EXAMPLE)
    res = results_of(sc, evolve(sc))
    assert set(res["per_generation"]["shares"]) == set(res["by_strategy"])
    assert res["played"]["finished"]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"players": {"Saint": 3, "Defector": 2}},
            "classic.players: unknown strategy 'Saint'",
        ),
        ({"players": {"Defector": 1}}, "a population needs at least 2 players; got 1"),
        (
            {"players": {"Defector": 2}, "mutation": 1.5},
            "classic.mutation: Input should be less than or equal to 1",
        ),
        (
            {"players": {"Defector": 2}, "selection": -1},
            "classic.selection: Input should be greater than or equal to 0",
        ),
        ({"players": {"Defector": 2, "GTFT(2)": 1}}, "p = 2 is not a chance"),
        ({"players": {"Defector": 2}, "process": "wright"}, "classic.process"),
    ],
)
def test_bad_section_is_one_line(section: dict[str, Any], message: str) -> None:
    """Unknown strategies, populations under 2, mu outside [0, 1], negative beta: one
    ScenarioError line naming the field."""
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "bad", "classic": {"kind": "evolution", **section}})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.ray
def test_ray_run_gives_the_in_process_digest(tmp_path: Path) -> None:
    """`socius run` of the example on Ray (3 shard actors), cut to 40 generations, ends in the
    digest and results of the in-process runtime."""
    out = tmp_path / "ray"
    proc = socius(
        "run", EXAMPLE, "--runtime", "ray", "--shards", 3, "--quiet", "--out", out,
        "--ticks", 40, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    sc = load_scenario(EXAMPLE).with_overrides(ticks=40)
    local = LocalRuntime(sc, 1).run()
    assert (summary["runtime"], summary["shards"]) == ("ray", 3)
    assert summary["state_digest"] == local.state_digest
    assert summary["results"] == json.loads(json.dumps(local.summary(sc, 1, "local")["results"]))
    assert summary["stopped_early"] and summary["results"]["played"]["rounds"] == 39
