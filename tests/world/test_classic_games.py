"""The public goods game (with and without costly punishment) and the trust game on the world
engine: what is known of them, payoffs that add up as the rules define, layout-free digests."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from world.errors import ScenarioError
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario

MIXED = {"Conditional Cooperator": 2, "Punisher": 1, "Rational": 1}
PUNISH = {"cost": 1, "fine": 3, "points": 10}


def public_goods(group: dict[str, int], punishment: Any = None, **game: Any) -> Scenario:
    return parse_scenario(
        {
            "name": "pg",
            "classic": {
                "kind": "public_goods",
                "group": group,
                "groups": 5,
                "rounds": 10,
                "punishment": punishment,
                **game,
            },
        }
    )


def trust(investors: dict[str, int], trustees: dict[str, int], **game: Any) -> Scenario:
    return parse_scenario(
        {
            "name": "trust",
            "classic": {"kind": "trust", "investors": investors, "trustees": trustees, **game},
        }
    )


def run(sc: Scenario, shards: int = 1) -> dict[str, Any]:
    return LocalRuntime(sc, shards).run().summary(sc, shards, "local")


def test_free_riders_drive_contributions_down() -> None:
    """Without punishment, a rational member of each group of four gives nothing, and the
    conditional cooperators, matching what the others gave, give less every round until they
    give nothing (r = 1.6, endowment 20, 10 rounds)."""
    res = run(public_goods({"Conditional Cooperator": 3, "Rational": 1}), shards=2)["results"]
    c = res["contributions"]
    assert len(c) == 10
    assert c[0] == 0.75  # three of four give everything
    assert all(b <= a for a, b in itertools.pairwise(c))
    assert c[-1] == 0.0
    assert res["by_strategy"]["Rational"]["contribution"] == 0.0
    assert res["punishment_points"] == 0


def test_punishment_sustains_contributions() -> None:
    """Groups of two conditional cooperators, a punisher (who gives as they do) and a rational
    member. Without punishment the rational member never gives and the others follow it down:
    the last five rounds average at most 0.1. With it (1 to take 3), the rational member is
    fined for round 1 when round 1 is settled and gives everything in round 2, then matches
    the most another gave (0, 20, 13, 15, then 14 for six rounds: 132 of 200), and
    contributions stay at 0.7 or more."""
    without = run(public_goods(MIXED))["results"]
    with_ = run(public_goods(MIXED, PUNISH), shards=3)["results"]
    assert sum(without["contributions"][-5:]) / 5 <= 0.1
    assert min(with_["contributions"]) >= 0.7
    assert with_["by_strategy"]["Rational"]["contribution"] == 0.66
    assert without["by_strategy"]["Rational"]["contribution"] == 0.0
    assert with_["punishment_points"] > 0


@pytest.mark.parametrize("punishment", [None, PUNISH])
def test_public_goods_payoffs_add_up(punishment: Any) -> None:
    """All payoffs together are the endowments, plus (r - 1) times every contribution, less
    (cost + fine) for every punishment point."""
    sc = public_goods(MIXED, punishment)
    res = run(sc, shards=2)["results"]
    game = sc.classic
    assert game is not None and game.kind == "public_goods"
    rounds, e = 10, res["endowment"]
    earned = given = 0.0
    for s in res["by_strategy"].values():
        earned += s["payoff_per_round"] * s["players"] * rounds
        given += s["contribution"] * e * s["players"] * rounds
    points = res["punishment_points"]
    lost = (PUNISH["cost"] + PUNISH["fine"]) * points if punishment else 0
    expected = game.characters() * e * rounds + (res["multiplier"] - 1) * given - lost
    assert earned == pytest.approx(expected, abs=1e-3)


def test_trust_game_outcomes() -> None:
    """Full trust with a fair trustee: both get half of the tripled endowment, 15 a round;
    trust-then-verify with a selfish trustee: sent once, never again (investor 9 a round over
    10, trustee 3); no trust: the investor keeps 10, the trustee gets nothing."""
    res = run(
        trust(
            {"Full Trust": 1, "Trust Then Verify": 1, "No Trust": 1},
            {"Fair": 1, "Selfish": 1, "Reciprocal": 1},
        ),
        shards=2,
    )["results"]
    investors = {k: v["payoff_per_round"] for k, v in res["investors"].items()}
    trustees = {k: v["payoff_per_round"] for k, v in res["trustees"].items()}
    assert investors == {"Full Trust": 15.0, "Trust Then Verify": 9.0, "No Trust": 10.0}
    assert trustees == {"Fair": 15.0, "Selfish": 3.0, "Reciprocal": 0.0}
    assert res["sent_share"] == pytest.approx(11 / 30, abs=1e-6)
    assert res["returned_share"] == pytest.approx(150 / (3 * 110), abs=1e-6)


def test_trust_payoffs_add_up() -> None:
    """Investors and trustees together hold the endowments plus (multiplier - 1) times all
    that was sent."""
    sc = trust(
        {"Full Trust": 4, "Trust Then Verify": 4, "No Trust": 2},
        {"Fair": 3, "Selfish": 4, "Reciprocal": 3},
        rounds=7,
    )
    res = run(sc, shards=3)["results"]
    earned = sum(
        v["payoff_per_round"] * v["players"] * 7
        for side in ("investors", "trustees")
        for v in res[side].values()
    )
    sent = res["sent_share"] * 10 * 10 * 7
    assert earned == pytest.approx(10 * 10 * 7 + 2 * sent, abs=1e-3)


@pytest.mark.parametrize(
    "sc",
    [
        public_goods(MIXED, PUNISH),
        trust({"Full Trust": 2, "Trust Then Verify": 3}, {"Selfish": 2, "Reciprocal": 3}),
    ],
    ids=["public_goods", "trust"],
)
def test_digest_does_not_depend_on_the_shards(sc: Scenario) -> None:
    """1, 2 and 5 shards end in the same state and report the same results."""
    runs = [LocalRuntime(sc, n).run() for n in (1, 2, 5)]
    assert len({r.state_digest for r in runs}) == 1
    assert len({str(r.summary(sc, 1, "local")["results"]) for r in runs}) == 1


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"kind": "public_goods", "group": {"Cooperator": 1, "Defector": 1}, "multiplier": 2.5},
            "classic: a public goods dilemma needs 1 < multiplier < group size; got "
            "multiplier=2.5 for groups of 2",
        ),
        (
            {"kind": "public_goods", "group": {"Saint": 4}},
            "classic.group: unknown strategy 'Saint'; allowed: Cooperator, Defector, "
            "Conditional Cooperator, Punisher, Rational",
        ),
        (
            {"kind": "trust", "investors": {"Full Trust": 2}, "trustees": {"Fair": 1}},
            "classic: every investor meets one trustee: 2 investors and 1 trustees",
        ),
        (
            {"kind": "public_goods", "group": {"Cooperator": 4}, "punishment": {"fine": -1}},
            "classic.punishment.fine: Input should be greater than 0 (got -1)",
        ),
    ],
)
def test_bad_section_is_one_line_naming_the_field(section: dict[str, Any], message: str) -> None:
    """A bad public goods or trust section is one ScenarioError naming the field."""
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "bad", "classic": section})
    assert message in str(err.value)
    assert "\n" not in str(err.value)
