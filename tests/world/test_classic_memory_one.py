"""Memory-one and zero-determinant strategies in the iterated prisoner's dilemma: axelrod's
vectors and parameters, Press and Dyson's linear relation, axelrod's payoffs within sampling
error, the scenario syntax and its errors, and determinism.

The statistical tests use fixed seeds and tolerances in standard errors (SE) computed from the
matches themselves, one match being one sample."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import axelrod as axl
import numpy as np
import pytest

from world.classic.memory_one import AXELROD_PAYOFFS, FAMILIES, RSTP
from world.classic.strategies import STRATEGY_NAMES, resolve
from world.errors import ScenarioError
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario

C, D = axl.Action.C, axl.Action.D
AXELROD = {s.name: s for s in axl.strategies}


def ipd(players: list[str], seed: int = 0, **game: Any) -> Scenario:
    return parse_scenario(
        {"name": "ipd", "seed": seed, "classic": {"kind": "ipd", "players": players, **game}}
    )


def matches(sc: Scenario, shards: int = 2) -> dict[tuple[int, int, int], tuple[float, int, str]]:
    """(player, opponent, repetition) -> (the player's total payoff in the match, turns
    played, the last turn's outcome as 'CC', 'CD', 'DC' or 'DD', the player's move first)."""
    rt = LocalRuntime(sc, shards)
    rt.run()
    out = {}
    for shard in rt.shards:
        s = shard.seats  # type: ignore[attr-defined]
        for k in range(len(s)):
            last = "CD"[1 - (int(s.mine[k]) & 1)] + "CD"[1 - (int(s.theirs[k]) & 1)]
            key = (int(s.player[k]), int(s.opponent[k]), int(s.repetition[k]))
            out[key] = (float(s.score[k]), int(s.turn[k]), last)
    return out


def vector(spec: str, payoffs: RSTP = AXELROD_PAYOFFS) -> dict[str, float]:
    _, v = resolve(spec, payoffs)
    assert v is not None, spec
    return dict(zip(("CC", "CD", "DC", "DD", "start"), v.row(), strict=True))


def mean_se(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples, np.float64)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(len(a)))


# --- the vectors are axelrod's -------------------------------------------------------------

#: a strategy as a scenario writes it -> the axelrod player it is
AXELROD_TWINS: dict[str, Callable[[], axl.Player]] = {
    **{name: AXELROD[name] for name in FAMILIES if name not in ("Memory One",)},
    "Random(0.3)": lambda: axl.Random(0.3),
    "GTFT(p=0.1)": lambda: axl.GTFT(p=0.1),
    "Stochastic WSLS(0.2)": lambda: axl.StochasticWSLS(ep=0.2),
    "Soft Joss(q=1/2)": lambda: axl.SoftJoss(q=0.5),
    "ZD-Extort-2(phi=1/20, s=1/4)": lambda: axl.ZDExtort2(phi=1 / 20, s=1 / 4),
    "ZD-GTFT-2(0.2, 0.4)": lambda: axl.ZDGTFT2(phi=0.2, s=0.4),
    "ZD-Extortion(phi=0.1, s=0.2, l=2)": lambda: axl.ZDExtortion(phi=0.1, s=0.2, l=2),
    "Memory One(0.9, 0.2, 0.6, 0.1, start=0)": lambda: axl.MemoryOnePlayer(
        (0.9, 0.2, 0.6, 0.1), initial=D
    ),
    "Memory One(1, 1/3, 1, 1/3)": lambda: axl.MemoryOnePlayer((1, 1 / 3, 1, 1 / 3)),
}


@pytest.mark.parametrize(
    "payoffs", [AXELROD_PAYOFFS, RSTP(R=4.0, S=-1.0, T=6.0, P=0.5)], ids=["axelrod", "other"]
)
def test_vectors_are_axelrods(payoffs: RSTP) -> None:
    """Every family, with its defaults and with parameters, has axelrod's four-vector and
    first move, under axelrod's payoffs and others (GTFT's generosity and the baselines of
    Extort-2 and ZDGTFT-2 follow the payoffs), and is refused where axelrod refuses it (a
    zero-determinant strategy the payoffs do not allow); Random cooperates with chance p
    throughout, ALLCorALLD first with chance 0.6 and then repeats itself.

    One difference: axelrod 4.14's GTFT() computes its default p with the payoffs it is made
    with, Axelrod's, and keeps that 1/3 in every game (its receive_match_attributes fills p
    only while it is None); here the default follows the scenario's payoffs, as the formula
    it implements (Nowak and Sigmund 1992) says."""
    game = axl.Game(r=payoffs.R, s=payoffs.S, t=payoffs.T, p=payoffs.P)
    refused = []
    for spec, make in AXELROD_TWINS.items():
        player = make()
        try:
            player.set_match_attributes(game=game)
        except ValueError:
            with pytest.raises(ValueError, match=rf"^{re.escape(repr(spec))}: "):
                resolve(spec, payoffs)
            refused.append(spec)
            continue
        got = vector(spec, payoffs)
        if spec == "GTFT" and payoffs != AXELROD_PAYOFFS:
            p = min(
                1 - (payoffs.T - payoffs.R) / (payoffs.R - payoffs.S),
                (payoffs.R - payoffs.P) / (payoffs.T - payoffs.P),
            )
            assert got == {"CC": 1, "CD": p, "DC": 1, "DD": p, "start": 1}
            assert player.p == pytest.approx(1 / 3)
        elif isinstance(player, axl.Random):
            assert got == dict.fromkeys(got, player.p), spec
        elif isinstance(player, axl.ALLCorALLD):
            assert got == {"CC": 1, "CD": 1, "DC": 0, "DD": 0, "start": 0.6}
        else:
            expected = player._four_vector
            for k, v in expected.items():
                assert got[f"{k[0]}{k[1]}"] == pytest.approx(v, abs=1e-12), (spec, k)
            assert got["start"] == (1.0 if player._initial == C else 0.0), spec
    assert len(refused) < len(AXELROD_TWINS) / 2, refused
    assert (refused == []) == (payoffs == AXELROD_PAYOFFS)
    assert vector("GTFT")["CD"] == pytest.approx(1 / 3)
    assert vector("ZD-Extort-2") == pytest.approx(
        {"CC": 8 / 9, "CD": 1 / 2, "DC": 1 / 3, "DD": 0, "start": 1}
    )


def test_one_syntax_many_spellings() -> None:
    """Parameters by position or by name, as decimals or fractions, with or without spaces,
    give the same vector; "Random" is Random(1/2)."""
    assert vector("GTFT(0.1)") == vector("GTFT(p=0.1)") == vector("GTFT( p = 1/10 )")
    assert vector("Random") == vector("Random(p=1/2)") == vector("Memory One(.5,.5,.5,.5,.5)")
    assert vector("ZD-Extort-2") == vector("ZD-Extort-2(1/9, 0.5)") == vector("ZD-Extort-2()")


def test_deterministic_vectors_play_as_the_rules() -> None:
    """Memory-one vectors of 0s and 1s are the deterministic strategies they spell: in one
    round robin of 30 turns, each meets every other player for exactly the payoffs of its
    twin (no chance is drawn against them: a draw in [0, 1) is always below 1)."""
    twins = {
        "Memory One(1, 0, 1, 0)": "Tit For Tat",
        "Memory One(1, 0, 1, 0, start=0)": "Suspicious Tit For Tat",
        "Memory One(1, 0, 0, 1)": "Win-Stay Lose-Shift",
        "Memory One(0, 0, 1, 1)": "Alternator",
        "Memory One(0, 0, 0, 0, start=0)": "Defector",
        "Random(1)": "Cooperator",
        "GTFT(0)": "Tit For Tat",
        "Stochastic WSLS(ep=0)": "Win-Stay Lose-Shift",
    }
    others = ["Grudger", "Go By Majority", "Cycler CCD", "Bully"]
    players = list(twins) + list(dict.fromkeys(twins.values())) + others
    sc = ipd(players, turns=30)
    matrix = LocalRuntime(sc, 2).run().summary(sc, 2, "local")["results"]["payoff_matrix"]
    for i, (spec, twin) in enumerate(twins.items()):
        j = players.index(twin)
        for k in range(len(players)):
            if k not in (i, j):
                assert matrix[i][k] == matrix[j][k], (spec, players[k])
                assert matrix[k][i] == matrix[k][j], (spec, players[k])


# --- Press and Dyson: the zero-determinant relation -----------------------------------------

ZD_OPPONENTS = [
    # deterministic
    "Cooperator",
    "Tit For Tat",
    "Alternator",
    "Win-Stay Lose-Shift",
    # stochastic
    "Random",
    "GTFT",
    "Stochastic WSLS",
    "ZD-GTFT-2",
]


def relation(
    spec: str, opponent: str, zd: tuple[float, float, float], turns: int, reps: int, seed: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The mean and SE over `reps` matches of Z = s (s_X - l) - (s_Y - l), for the
    linear-relation strategy `spec` with zd = (phi, s, l) meeting `opponent`: s_X and s_Y the
    match's mean payoffs per turn of the player X and of its opponent Y; Z as played, and Z
    corrected for the match's end.

    Akin's lemma: X cooperates in turn t + 1 with the chance p(outcome of turn t), so the sum
    over a match of p(outcome t) - (X cooperated in t) is p(last outcome) - 1 (X opens with C)
    plus a sum of draws that are zero on average. For a linear-relation strategy that term is
    phi (s (payoff_X - l) - (payoff_Y - l)) in each turn, so phi turns Z = p(last) - 1 + noise:
    Z is zero on average up to (p(last) - 1) / (phi turns), in [-1 / (phi turns), 0], and
    Z - (p(last) - 1) / (phi turns) is zero on average exactly."""
    phi, s, baseline = zd
    got = matches(ipd([spec, opponent], seed=seed, turns=turns, repetitions=reps))
    p = vector(spec)
    plain, corrected = [], []
    for r in range(reps):
        x, played, last = got[0, 1, r]
        y, _, _ = got[1, 0, r]
        assert played == turns
        z = s * (x / turns - baseline) - (y / turns - baseline)
        plain.append(z)
        corrected.append(z - (p[last] - 1) / (phi * turns))
    return mean_se(plain), mean_se(corrected)


@pytest.mark.parametrize("opponent", ZD_OPPONENTS)
def test_extort_2_enforces_its_linear_relation(opponent: str) -> None:
    """Extort-2 (phi = 1/9, s = 1/2, l = P) makes s_X - P = 2 (s_Y - P) against any opponent
    on average (Press and Dyson 2012), written as Z = (s_X - P)/2 - (s_Y - P) = 0: 200 matches
    of 100 turns, seed 7. Corrected for the match's end (see `relation`), Z is 0 within 4 SE;
    as played it lies in [-1/(phi turns), 0] = [-0.09, 0], within 4 SE."""
    turns, reps, phi = 100, 200, 1 / 9
    (z, se), (zc, sec) = relation("ZD-Extort-2", opponent, (phi, 0.5, 1.0), turns, reps, seed=7)
    assert abs(zc) < 4 * sec, (zc, sec)
    assert -1 / (phi * turns) - 4 * se < z < 4 * se, (z, se)


@pytest.mark.parametrize(
    ("spec", "phi", "s", "baseline"),
    [
        ("ZD-GTFT-2", 1 / 4, 1 / 2, 3.0),  # generous: s_X - R = 2 (s_Y - R)
        ("ZD-Extort-4", 4 / 17, 1 / 4, 1.0),
        ("ZD-Extort-2(phi=1/20, s=1/4)", 1 / 20, 1 / 4, 1.0),
        ("ZD-SET-2", 1 / 4, 0.0, 2.0),  # equalizer: s_Y = 2 whatever Y does
    ],
)
def test_other_zero_determinant_strategies_enforce_theirs(
    spec: str, phi: float, s: float, baseline: float
) -> None:
    """The other zero-determinant strategies enforce s (s_X - l) = s_Y - l likewise, against
    a deterministic and a stochastic opponent: corrected Z within 4 SE of 0 (150 matches of
    100 turns, seed 8)."""
    for opponent in ("Alternator", "Stochastic WSLS"):
        _, (zc, sec) = relation(spec, opponent, (phi, s, baseline), 100, 150, seed=8)
        assert abs(zc) < 4 * sec, (spec, opponent, zc, sec)


def test_a_strategy_off_the_relation_is_caught() -> None:
    """The test can fail: Extort-2 with p_DC = 1/2 instead of 1/3 enforces nothing, and its Z
    is more than 8 SE from 0 against these opponents."""
    off = "Memory One(8/9, 1/2, 1/2, 0)"
    for opponent in ("Cooperator", "Alternator", "Random", "GTFT"):
        _, (zc, sec) = relation(off, opponent, (1 / 9, 0.5, 1.0), 100, 200, seed=7)
        assert abs(zc) > 8 * sec, (opponent, zc, sec)


# --- payoffs against the deterministic strategies are axelrod's ----------------------------

STOCHASTIC_SPECS = [
    "GTFT",
    "Firm But Fair",
    "Stochastic WSLS",
    "Stochastic Cooperator",
    "Soft Joss",
    "ALLCorALLD",
    "ZD-Extort-2",
    "ZD-GTFT-2",
    "ZD-Extortion",
    "Random(0.3)",
    "GTFT(p=0.1)",
    "Memory One(0.9, 0.2, 0.6, 0.1, start=0)",
]
DETERMINISTIC_OPPONENTS = [
    "Cooperator",
    "Defector",
    "Tit For Tat",
    "Grudger",
    "Alternator",
    "Win-Stay Lose-Shift",
    "Go By Majority",
]


def test_payoffs_against_deterministic_strategies_are_axelrods() -> None:
    """Each stochastic strategy meets each deterministic one: both sides' mean payoff per turn
    agrees with axelrod.Match's within 4 combined SE (socius: 400 matches of 20 turns, seed
    13; axelrod: 100 matches, seeds 0-99). With no spread (Soft Joss against Cooperator, say)
    the means are equal."""
    turns, reps, oracle_reps = 20, 400, 100
    players = STOCHASTIC_SPECS + DETERMINISTIC_OPPONENTS
    got = matches(ipd(players, seed=13, turns=turns, repetitions=reps))
    for i, spec in enumerate(STOCHASTIC_SPECS):
        for name in DETERMINISTIC_OPPONENTS:
            j = players.index(name)
            ours = [
                mean_se([got[a, b, r][0] / turns for r in range(reps)]) for a, b in ((i, j), (j, i))
            ]
            scores = []
            for seed in range(oracle_reps):
                match = axl.Match((AXELROD_TWINS[spec](), AXELROD[name]()), turns, seed=seed)
                match.play()
                scores.append(match.final_score_per_turn())
            theirs = [mean_se([score[side] for score in scores]) for side in (0, 1)]
            for side in (0, 1):
                (m, se), (m0, se0) = ours[side], theirs[side]
                assert abs(m - m0) <= 4 * math.hypot(se, se0) + 1e-9, (spec, name, side, m, m0)


# --- the scenario syntax ------------------------------------------------------------------

BAD = {
    "chance above 1": (
        "Memory One(1, 1.2, 1, 0)",
        "classic.players: 'Memory One(1, 1.2, 1, 0)': CD = 1.2 is not a chance (allowed: 0 "
        "to 1); write Memory One(CC, CD, DC, DD, start=1)",
    ),
    "negative chance": (
        "Random(p=-0.1)",
        "classic.players: 'Random(p=-0.1)': p = -0.1 is not a chance (allowed: 0 to 1)",
    ),
    "three chances": (
        "Memory One(1, 0.1, 1)",
        "classic.players: 'Memory One(1, 0.1, 1)': DD missing (3 values given); write Memory "
        "One(CC, CD, DC, DD, start=1)",
    ),
    "six values": (
        "Memory One(1, 0, 1, 0, 1, 1)",
        "classic.players: 'Memory One(1, 0, 1, 0, 1, 1)': 6 values for 5 parameters",
    ),
    "no vector": ("Memory One", "classic.players: 'Memory One': CC, CD, DC, DD missing"),
    "unknown parameter": (
        "GTFT(q=0.2)",
        "classic.players: 'GTFT(q=0.2)': no parameter 'q' (allowed: p); write GTFT(p)",
    ),
    "not a number": (
        "Stochastic WSLS(ep=small)",
        "classic.players: 'Stochastic WSLS(ep=small)': ep = 'small' is not a number (e.g. "
        "0.25 or 1/9); write Stochastic WSLS(ep=0.05)",
    ),
    "phi too large": (
        "ZD-Extort-2(phi=1/2)",
        "classic.players: 'ZD-Extort-2(phi=1/2)': phi = 0.5 makes p_CD = -1.25, not a chance: "
        "allowed 0 <= phi <= 0.2222 for s = 0.5, l = 1 under R=3, S=0, T=5, P=1",
    ),
    "baseline out of reach": (
        "ZD-Extortion(l=4)",
        "classic.players: 'ZD-Extortion(l=4)': l = 4 cannot be enforced: allowed 1 <= l <= 3",
    ),
    "parameters of a rule": (
        "Tit For Tat(0.5)",
        "classic.players: 'Tit For Tat(0.5)': Tit For Tat takes no parameters",
    ),
    "unclosed": ("GTFT(0.1", "classic.players: 'GTFT(0.1' is not a strategy: write a name"),
    "unknown family": (
        "Generous Tit For Tat(0.1)",
        "classic.players: unknown strategy 'Generous Tit For Tat'; allowed: Cooperator",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_memory_one_strategy_is_one_line(case: str) -> None:
    """A bad strategy is one ScenarioError line naming the field, the entry, what is wrong and
    how to write it."""
    spec, message = BAD[case]
    with pytest.raises(ScenarioError) as err:
        ipd(["Tit For Tat", spec])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_payoffs_bound_the_zero_determinant_parameters() -> None:
    """Axelrod's Extort-2 (phi = 1/9) cannot be played when T is large: p_CD would be
    negative; the payoffs are checked before the players, so a bad dilemma is reported as
    such."""
    with pytest.raises(ScenarioError, match=r"classic\.players: 'ZD-Extort-2': phi = 0\.1111"):
        ipd(["ZD-Extort-2", "Defector"], payoffs={"R": 7, "S": 0, "T": 12, "P": 1})
    assert ipd(["ZD-Extort-2(phi=1/12)", "Defector"], payoffs={"R": 7, "S": 0, "T": 12, "P": 1})
    with pytest.raises(ScenarioError, match=r"classic\.payoffs: a prisoner's dilemma needs"):
        ipd(["ZD-Extort-2", "Defector"], payoffs={"T": 2})


def test_every_family_is_a_strategy_name() -> None:
    """The families are strategies of the shard, after the older ones (whose indices, in the
    state, do not move: Random stays 15)."""
    assert STRATEGY_NAMES.index("Random") == 15
    assert set(FAMILIES) <= set(STRATEGY_NAMES)


# --- determinism (with the other players: test_classic_ipd.py) -----------------------------


def test_spellings_of_one_strategy_play_the_same_game() -> None:
    """ "Random" and "Random(p=1/2)" are one strategy, so one state digest; Random(0.4) is
    another."""
    digests = [
        LocalRuntime(ipd([r, "Tit For Tat", "GTFT"], seed=3, turns=20), 2).run().state_digest
        for r in ("Random", "Random(p=1/2)", "Random(0.4)")
    ]
    assert digests[0] == digests[1] != digests[2]
