"""The donation game with indirect reciprocity on the world engine: Nowak's q > c/b, the
long-run standing under public norms as the model predicts, and the collapse of stern judging
under private assessment."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from world.errors import ScenarioError
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario
from world.vocab import NORM_NAMES, NORM_TABLE


def donation(
    players: dict[str, int],
    *,
    norm: str = "stern_judging",
    e1: float = 0.0,
    e2: float = 0.0,
    seed: int = 1,
    **game: Any,
) -> Scenario:
    return parse_scenario(
        {
            "name": "donation",
            "seed": seed,
            "norm": norm,
            "noise": {"execution": e1, "assessment": e2},
            "classic": {"kind": "donation", "players": players, **game},
        }
    )


def run(sc: Scenario, shards: int = 1) -> dict[str, Any]:
    return LocalRuntime(sc, shards).run().summary(sc, shards, "local")


def public_good_fraction(
    norm: str, shares: dict[str, float], e1: float, e2: float, n: int
) -> dict[str, float]:
    """The long-run share of characters in good standing under a public norm, from the model.

    Let g be the share of good characters, g_k that of strategy k (shares x_k), and
    eps(a, r) = 1 - e2 if the norm judges action a towards a recipient of standing r good,
    else e2 (the record errs with probability e2). A donor of strategy k meets a recipient
    drawn from the n - 1 others, good with probability h_k = (n g - g_k) / (n - 1); an intended
    gift fails with probability e1. Its next standing is good with probability
      discriminator: h (1-e1) eps(C,G) + h e1 eps(D,G) + (1-h) eps(D,B)
      cooperator:    (1-e1) [h eps(C,G) + (1-h) eps(C,B)] + e1 [h eps(D,G) + (1-h) eps(D,B)]
      defector:      h eps(D,G) + (1-h) eps(D,B)
    and every character is judged once a round, so in the long run g_k equals it: the fixed
    point of these maps, with g = sum_k x_k g_k, found by iterating them.
    """
    table = NORM_TABLE[NORM_NAMES.index(norm)]

    def eps(action: int, recipient: int) -> float:
        return 1 - e2 if table[action, recipient] else e2

    g_k = dict.fromkeys(shares, 1.0)
    for _ in range(5000):
        g = sum(shares[k] * g_k[k] for k in shares)
        h = {k: (n * g - g_k[k]) / (n - 1) for k in shares}
        nxt = {
            "Discriminator": h["Discriminator"] * ((1 - e1) * eps(1, 1) + e1 * eps(0, 1))
            + (1 - h["Discriminator"]) * eps(0, 0),
            "Cooperator": (1 - e1)
            * (h["Cooperator"] * eps(1, 1) + (1 - h["Cooperator"]) * eps(1, 0))
            + e1 * (h["Cooperator"] * eps(0, 1) + (1 - h["Cooperator"]) * eps(0, 0)),
            "Defector": h["Defector"] * eps(0, 1) + (1 - h["Defector"]) * eps(0, 0),
        }
        g_k = {k: nxt[k] for k in shares}
    return {"all": sum(shares[k] * g_k[k] for k in shares), **g_k}


@pytest.mark.parametrize("q", [0.1, 0.45])
def test_indirect_reciprocity_pays_iff_q_above_c_over_b(q: float) -> None:
    """Nowak's indirect reciprocity, b=4, c=1 (c/b = 0.25): 45 discriminators and 5 defectors
    under public simple standing without errors, N=50, k=5. Discriminators stay good. A
    defector is good only after refusing a bad defector (simple standing: refusing the bad is
    good), so with a = (k-1)/(N-1) it is good with probability p = a (1-p) = a / (1+a) = 4/53.
    A donor gives to a defector unless it knows it is bad: with m = (1-q) + q p, per round a
    defector earns b (N-k) m / (N-1) and a discriminator [(b-c)(N-k-1) - c k m] / (N-1); so
    discriminators do better iff m < (b-c)(N-k-1) / (b(N-k) + c k), i.e. iff q > 0.31 (and
    iff q > c/b as N grows and k/N shrinks). 400 rounds, seed 2; each payoff within ±0.1
    (discriminators) and ±0.3 (defectors, 5 of them: about 3 standard errors), the defectors'
    good share within ±0.03 of p."""
    b, c, n, k = 4.0, 1.0, 50, 5
    sc = donation(
        {"Discriminator": n - k, "Defector": k},
        norm="simple_standing",
        seed=2,
        benefit=b,
        cost=c,
        rounds=400,
        knowledge=q,
    )
    got = run(sc, shards=2)["results"]["by_strategy"]
    a = (k - 1) / (n - 1)
    p = a / (1 + a)
    m = (1 - q) + q * p
    discriminator = ((b - c) * (n - k - 1) - c * k * m) / (n - 1)
    defector = b * (n - k) * m / (n - 1)
    threshold = (1 - (b - c) * (n - k - 1) / (b * (n - k) + c * k)) / (1 - p)
    assert c / b < threshold < 0.32
    assert got["Discriminator"]["payoff_per_round"] == pytest.approx(discriminator, abs=0.1)
    assert got["Defector"]["payoff_per_round"] == pytest.approx(defector, abs=0.3)
    discriminators_win = (
        got["Discriminator"]["payoff_per_round"] > got["Defector"]["payoff_per_round"]
    )
    assert discriminators_win == (q > threshold)
    assert got["Discriminator"]["good_fraction_late"] == 1.0
    assert got["Defector"]["good_fraction_late"] == pytest.approx(p, abs=0.03)


@pytest.mark.parametrize("norm", ["stern_judging", "simple_standing"])
def test_public_standing_is_what_the_model_predicts(norm: str) -> None:
    """80 discriminators, 10 cooperators, 10 defectors, public record, e1 = e2 = 0.05, 300
    rounds, seed 1: the share in good standing over the second half is the model's fixed point
    (public_good_fraction) within ±0.015 overall and ±0.04 per strategy. Stern judging and
    simple standing differ where the model says they must: the cooperator, who gives to the
    bad, stays good only under simple standing."""
    players = {"Discriminator": 80, "Cooperator": 10, "Defector": 10}
    e1 = e2 = 0.05
    sc = donation(players, norm=norm, e1=e1, e2=e2, benefit=4, cost=1, rounds=300)
    got = run(sc, shards=3)["results"]
    model = public_good_fraction(norm, {k: v / 100 for k, v in players.items()}, e1, e2, 100)
    assert got["good_fraction_late"] == pytest.approx(model["all"], abs=0.015)
    for name in players:
        assert got["by_strategy"][name]["good_fraction_late"] == pytest.approx(
            model[name], abs=0.04
        ), name
    cooperator = got["by_strategy"]["Cooperator"]["good_fraction_late"]
    assert (cooperator > 0.85) == (norm == "simple_standing")


def test_stern_judging_collapses_under_private_assessment() -> None:
    """100 discriminators under stern judging, e1 = e2 = 0.05, 300 rounds, seed 1. Public: the
    good share is the model's (1-e2) / (1 - A + 1 - e2) with A = (1-e1)(1-e2) + e1 e2, 0.909,
    within ±0.015, and most give. Private (every act observed, each observer judging with its
    own view and its own errors): views fall apart, about half of them good, and cooperation
    with them (Uchida and Sasaki 2013, Hilbe et al. 2018); both at least 0.3 below public."""
    e1 = e2 = 0.05
    players = {"Discriminator": 100}
    public = run(donation(players, e1=e1, e2=e2, rounds=300, reputation="public"))["results"]
    private = run(donation(players, e1=e1, e2=e2, rounds=300, reputation="private"))["results"]
    a = (1 - e1) * (1 - e2) + e1 * e2
    assert public["good_fraction_late"] == pytest.approx((1 - e2) / (2 - a - e2), abs=0.015)
    assert public["cooperation_rate_late"] > 0.8
    assert private["good_fraction_late"] < public["good_fraction_late"] - 0.3
    assert private["cooperation_rate_late"] < public["cooperation_rate_late"] - 0.3


def gossipy(seed: int = 4) -> Scenario:
    return donation(
        {"Discriminator": 20, "Cooperator": 3, "Defector": 4},
        e1=0.05,
        e2=0.1,
        seed=seed,
        rounds=40,
        reputation="private",
        observation=0.5,
        gossip=2,
        knowledge=0.8,
    )


def test_digest_does_not_depend_on_the_shards() -> None:
    """Private views, gossip, partial observation and errors: 1, 2 and 4 shards end in the
    same state and report the same results."""
    sc = gossipy()
    runs = [LocalRuntime(sc, n).run() for n in (1, 2, 4)]
    assert len({r.state_digest for r in runs}) == 1
    assert len({str(r.summary(sc, 1, "local")["results"]) for r in runs}) == 1
    assert LocalRuntime(gossipy(5), 2).run().state_digest != runs[0].state_digest


def test_restored_shards_continue_exactly() -> None:
    """Every shard saved (through msgpack) and restored into fresh shards mid-game, with its
    mail in flight, ends in the digest of the uninterrupted game."""
    sc = gossipy()
    whole = LocalRuntime(sc, 3).run()
    first = LocalRuntime(sc, 3)
    first.run(17)
    second = LocalRuntime(sc, 3)
    for shard, old in zip(second.shards, first.shards, strict=True):
        state = msgpack.unpackb(msgpack.packb(old.get_state(), use_bin_type=True))
        shard.set_state(state)
    second.inboxes = [[] for _ in range(3)]
    for old in first.shards:
        for dest, payload in old.pending_mail().items():
            second.inboxes[dest].append(payload)
    assert second.digest() == first.digest()
    assert second.run(sc.ticks - 17).state_digest == whole.state_digest


def test_payoffs_are_what_the_gifts_made() -> None:
    """Every gift costs its donor c and brings its recipient b: the players' payoffs add up to
    (b - c) times the gifts, and the journal-level count of gifts is the cooperative acts."""
    sc = gossipy()
    summary = run(sc, shards=2)
    res = summary["results"]
    earned = sum(
        s["payoff_per_round"] * s["players"] * res["rounds"] for s in res["by_strategy"].values()
    )
    gifts = summary["totals"]["gifts"]
    assert gifts > 0
    assert earned == pytest.approx((res["benefit"] - res["cost"]) * gifts, abs=1e-3)
    assert res["by_strategy"]["Defector"]["cooperation_rate"] == 0.0
    assert res["by_strategy"]["Cooperator"]["cooperation_rate"] == pytest.approx(0.95, abs=0.06)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"players": {"Discriminator": 5}, "benefit": 1, "cost": 2},
            "classic: a donation game needs benefit > cost; got benefit=1, cost=2",
        ),
        (
            {"players": {"Discriminator": 5, "Tit For Tat": 2}},
            "classic.players: unknown strategy 'Tit For Tat'; allowed: Discriminator, "
            "Cooperator, Defector",
        ),
        ({"players": {"Defector": 1}}, "the game needs at least 2 players; got 1"),
        (
            {"players": {"Defector": 3}, "reputation": "secret"},
            "classic.reputation: Input should be 'public' or 'private'",
        ),
    ],
)
def test_bad_donation_section_is_one_line_naming_the_field(
    section: dict[str, Any], message: str
) -> None:
    """A bad donation section is one ScenarioError naming the field and what is allowed."""
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "bad", "classic": {"kind": "donation", **section}})
    assert message in str(err.value)
    assert "\n" not in str(err.value)
