"""Evolution of the donation game (classic kind `evolution`, `game: donation`): indirect
reciprocity with public reputations, generation after generation. Discriminators resist
defectors when the chance q of knowing a reputation exceeds c/b (Nowak and Sigmund 1998; Nowak
2006's indirect reciprocity rule), and the payoffs of a generation are those the rules give;
digests free of the layout, runs that resume, results that say what was played, and settings
of the other game refused in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.world.harness import assert_resume_is_exact
from world.classic.config import Evolution
from world.classic.donation_rounds import DonationRounds
from world.classic.evolution import evolve
from world.classic.fixation import fixation
from world.classic.games import results_of
from world.errors import ScenarioError
from world.runtime import LocalRuntime
from world.scenario import Scenario, load_scenario, parse_scenario

B, C = 3.0, 1.0  # c/b = 1/3
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "classic" / "evolution-donation.yaml"


def donation(
    players: dict[str, int],
    seed: int = 0,
    *,
    noise: float = 0.0,
    norm: str = "simple_standing",
    **rules: Any,
) -> Scenario:
    game: dict[str, Any] = {"benefit": B, "cost": C, **rules}
    knobs = {
        k: game.pop(k) for k in ("selection", "mutation", "generations", "process") if k in game
    }
    return parse_scenario(
        {
            "name": "indirect",
            "seed": seed,
            "norm": norm,
            "noise": {"execution": noise, "assessment": noise},
            "classic": {
                "kind": "evolution",
                "game": "donation",
                "players": players,
                "donation": game,
                **knobs,
            },
        }
    )


def test_a_generation_pays_what_the_rules_give() -> None:
    """One generation of a lone defector among 29 discriminators, 200 rounds, no errors,
    simple standing: the defector is good until it first refuses (round 0), then bad; a
    discriminator who picks it gives only when it does not know (1 - q). So the gifts it gets
    are Binomial(29, 1/29) in round 0 plus Binomial(29 x 199, (1 - q)/29) after; what it got is
    within 4 standard deviations of their mean. It earns less than the discriminators when q
    is above c/b (q = 0.9) and more when below (q = 0.1)."""
    n, rounds = 30, 200
    for q, defector_ahead in ((0.9, False), (0.1, True)):
        sc = donation({"Defector": 1, "Discriminator": n - 1}, rounds=rounds, knowledge=q)
        game = sc.classic
        assert isinstance(game, Evolution)
        strategy = np.array([0] + [1] * (n - 1))
        played = DonationRounds(game, sc.seed, sc.norm, 0.0, 0.0).play(0, strategy)
        assert played.gifts[0] == 0 and played.gifts[1:].sum() > 0
        assert (played.acts == rounds).all()
        gifts_got = played.payoff[0] * rounds / B
        p0, p1 = 1 / (n - 1), (1 - q) / (n - 1)
        mean = (n - 1) * p0 + (n - 1) * (rounds - 1) * p1
        sd = math.sqrt((n - 1) * p0 * (1 - p0) + (n - 1) * (rounds - 1) * p1 * (1 - p1))
        assert abs(gifts_got - mean) < 4 * sd, (q, gifts_got, mean, sd)
        ahead = played.payoff[0] > played.payoff[1:].mean()
        assert ahead == defector_ahead, (q, played.payoff[0], played.payoff[1:].mean())


@pytest.mark.parametrize(("q", "resist"), [(0.9, True), (0.1, False)])
def test_discriminators_resist_defectors_when_q_exceeds_c_over_b(q: float, resist: bool) -> None:
    """A single defector among 9 discriminators (b = 3, c = 1, simple standing, no errors,
    10 rounds a generation, Moran, beta 1), 200 runs from seed 3: with q = 0.9 > c/b it takes
    over less often than drift (1/N) would, with q = 0.1 < c/b more often; each at least 3
    standard errors of 1/N away. (Measured: 0.005 and 0.63 over 200 runs.)"""
    runs, n = 200, 10
    sc = donation(
        {"Defector": 1, "Discriminator": n - 1},
        seed=3,
        rounds=10,
        knowledge=q,
        selection=1.0,
        generations=100_000,
    )
    got = fixation(sc, runs).probability("Defector")
    drift, se = 1 / n, math.sqrt((1 / n) * (1 - 1 / n) / runs)
    assert (drift - got > 3 * se) if resist else (got - drift > 3 * se), got


def noisy(seed: int = 2, process: str = "moran") -> Scenario:
    """Errors, mutation, all three strategies, stern judging: every stream of the game used."""
    return donation(
        {"Discriminator": 4, "Cooperator": 3, "Defector": 3},
        seed=seed,
        noise=0.05,
        norm="stern_judging",
        rounds=8,
        knowledge=0.8,
        mutation=0.05,
        generations=20,
        process=process,
    )


def test_digest_does_not_depend_on_the_shards(tmp_path: Path) -> None:
    """1, 2 and 3 shards end in the same state and report the same results, which the
    in-process `evolve` reproduces; another seed gives another run; a resumed run ends where
    the uninterrupted one does."""
    for process in ("moran", "fermi"):
        sc = noisy(process=process)
        runs = {n: LocalRuntime(sc, n).run() for n in (1, 2, 3)}
        assert len({r.state_digest for r in runs.values()}) == 1, process
        reported = {json.dumps(r.summary(sc, n, "local")["results"]) for n, r in runs.items()}
        assert len(reported) == 1, process
        assert json.dumps(results_of(sc, evolve(sc))) in reported, process
        assert LocalRuntime(noisy(5, process), 2).run().state_digest != runs[1].state_digest
    assert_resume_is_exact(noisy(), tmp_path / "run")


def test_results_say_what_was_played() -> None:
    """The results name the game and its rules, count every donation as a move and every gift
    as a cooperation (cooperators give whenever no error strikes), and hold a share of each
    strategy for every generation."""
    sc = noisy()
    res = results_of(sc, evolve(sc))
    assert res["game"] == "donation" and res["norm"] == "stern_judging"
    assert (res["benefit"], res["cost"], res["rounds"], res["knowledge"]) == (B, C, 8, 0.8)
    assert res["execution_error"] == res["assessment_error"] == 0.05
    assert "turns" not in res and "payoff" not in res
    assert 0 < res["cooperation_rate"] < 1
    generations = res["played"]["rounds"] + 1
    assert all(len(s) == generations for s in res["per_generation"]["shares"].values())
    everyone_gives = donation({"Cooperator": 3, "Discriminator": 2}, rounds=5, generations=4)
    res = results_of(everyone_gives, evolve(everyone_gives))
    assert res["cooperation_rate"] == 1.0


@pytest.mark.parametrize(
    ("classic", "message"),
    [
        (
            {"game": "donation", "players": {"Tit For Tat": 2, "Defector": 2}},
            "unknown strategy 'Tit For Tat' of the donation game; allowed: Discriminator",
        ),
        (
            {"game": "donation", "players": {"Defector": 2}, "turns": 5},
            "turns: settings of game dilemma",
        ),
        (
            {"players": {"Defector": 2}, "donation": {"rounds": 5}},
            "donation: settings of game donation; add `game: donation`",
        ),
        (
            {"game": "donation", "players": {"Defector": 2}, "donation": {"benefit": 1}},
            "a donation game needs benefit > cost",
        ),
    ],
)
def test_bad_section_is_one_line(classic: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "bad", "classic": {"kind": "evolution", **classic}})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_scenario_written_out_loads_again() -> None:
    """A donation evolution written to YAML (every field, defaults of the dilemma included)
    loads again as the same scenario."""
    sc = noisy()
    again = parse_scenario(json.loads(json.dumps(sc.model_dump())))
    assert again == sc


def test_example_plays() -> None:
    """The example scenario plays in process to a winner (seed 1: the discriminators, with q
    = 0.9 above c/b) and reports a share of each strategy in every generation it reached."""
    sc = load_scenario(EXAMPLE)
    res = results_of(sc, evolve(sc))
    assert res["game"] == "donation"
    assert res["winner"] == "Discriminator"
    shares = res["per_generation"]["shares"]
    assert set(shares) == {"Discriminator", "Cooperator", "Defector"}
    assert all(len(s) == res["fixation_generation"] + 1 for s in shares.values())
