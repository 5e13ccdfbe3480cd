"""The public goods game's rules as Fehr and Gächter's experiments state them: the fine for a
round is paid when that round is settled and the punished answer in the next round; without
punishment contributions fall, with it they hold; the digest does not depend on the shards.

The oracle below plays the rules of world/classic/public_goods.py's docstring in plain Python,
one group at a time (the game has no chance in it: every group of a make-up plays alike)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from world.journal import read_journal
from world.record import RunRecord, journal_path
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario
from world.stats import SCALE
from world.vocab import Kind
from world.wire import from_batch

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "classic" / "public-goods.yaml"
MIXED = {"Conditional Cooperator": 2, "Punisher": 1, "Rational": 1}
PUNISH = {"cost": 1, "fine": 3, "points": 10}
NAMES = ("Cooperator", "Defector", "Conditional Cooperator", "Punisher", "Rational")


def scenario(group: dict[str, int], punishment: Any, **game: Any) -> Scenario:
    section = {"kind": "public_goods", "group": group, "punishment": punishment, **game}
    return parse_scenario({"name": "pg", "classic": section})


def example(punishment: bool) -> Scenario:
    """examples/classic/public-goods.yaml, as it is or with `punishment: null`."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    if not punishment:
        data["classic"]["punishment"] = None
    return parse_scenario(data, str(EXAMPLE))


def points_given(strategy: list[str], x: list[int], limit: int) -> dict[tuple[int, int], int]:
    """(punisher, punished) -> points for one round's contributions x of one group."""
    return {
        (j, i): min(x[j] - x[i], limit)
        for j, i in itertools.permutations(range(len(x)), 2)
        if strategy[j] == "Punisher" and x[j] > x[i]
    }


def oracle(game: dict[str, Any]) -> tuple[list[list[int]], list[list[float]]]:
    """One group's contributions and settlement payoffs, round by round."""
    strategy = [name for name, count in game["group"].items() for _ in range(count)]
    n, e, r = len(strategy), game.get("endowment", 20), game.get("multiplier", 1.6)
    pun = game.get("punishment")
    rounds: list[list[int]] = []
    payoffs: list[list[float]] = []
    punished_by = [0] * n  # the most members who punished each member in one round
    for _ in range(game.get("rounds", 10)):
        last = rounds[-1] if rounds else None
        x = []
        for i, s in enumerate(strategy):
            others = [] if last is None else [last[j] for j in range(n) if j != i]
            if s == "Cooperator":
                x.append(e)
            elif s == "Defector":
                x.append(0)
            elif s in ("Conditional Cooperator", "Punisher"):
                x.append(e if last is None else sum(others) // (n - 1))
            else:  # Rational: the least x of the best payoff against last round
                top, k = max(others, default=0), punished_by[i]
                value = [(1 - r / n) * (e - y) for y in range(e + 1)]
                if pun is not None:
                    for y in range(e + 1):
                        value[y] -= pun["fine"] * k * min(max(top - y, 0), pun["points"])
                x.append(value.index(max(value)))
        pay = [e - x[i] + r * sum(x) / n for i in range(n)]
        if pun is not None:
            got = [0] * n
            for (j, i), p in points_given(strategy, x, pun["points"]).items():
                pay[j] -= pun["cost"] * p
                pay[i] -= pun["fine"] * p
                got[i] += 1
            punished_by = [max(a, b) for a, b in zip(punished_by, got, strict=True)]
        rounds.append(x)
        payoffs.append(pay)
    return rounds, payoffs


def test_a_fine_is_paid_in_its_rounds_settlement_and_answered_next_round(tmp_path: Path) -> None:
    """Two groups of two conditional cooperators, a punisher and a rational member, on two
    shards, tick by tick. From the journal alone: each round's contributions (journaled in the
    round's tick) and the punisher's notices (journaled in the settling tick). Each member's
    payoff moves, in tick r + 1, by exactly round r's settlement: e - x + r x pot / n, less 1 a
    point given, less 3 a point received, the points being those the notices of tick r + 1
    carry. The rational member gives nothing in round 1, is fined 30 for it in tick 2 and gives
    everything in round 2 (when fines landed a tick later, it answered in round 3)."""
    game = {"group": MIXED, "groups": 2, "rounds": 4, "punishment": PUNISH}
    sc = scenario(**game)
    assert sc.ticks == 6
    record = RunRecord(tmp_path / "run", sc, 2)
    rt = LocalRuntime(sc, 2, record)
    strategy_of = [s for s, k in MIXED.items() for _ in range(k)] * 2
    payoff = [0.0] * 8
    moved: list[list[float]] = []  # each member's payoff change, tick by tick
    counts: list[dict[str, int]] = []
    for _ in range(sc.ticks):
        stats = rt.step()
        counts.append(dict(stats.results))
        now = [0.0] * 8
        for shard in rt.shards:
            for cid, p in zip(shard.ids.tolist(), shard.payoff.tolist(), strict=True):
                now[cid] = p
        moved.append([b - a for a, b in zip(payoff, now, strict=True)])
        payoff = now
    record.close()

    given: dict[int, dict[int, int]] = defaultdict(dict)  # round -> member -> contribution
    notices: dict[int, dict[tuple[int, int], int]] = defaultdict(dict)  # tick -> points
    for shard in range(2):
        for batch in read_journal(journal_path(tmp_path / "run", shard)):
            mail = from_batch(batch)
            for k in range(len(mail)):
                sender, recipient = int(mail.sender[k]), int(mail.recipient[k])
                if mail.kind[k] == Kind.CONTRIBUTION:
                    assert int(mail.ref[k]) == batch.tick  # round t is played in tick t
                    amount = given[batch.tick].setdefault(sender, int(mail.amount[k]))
                    assert amount == int(mail.amount[k])  # the same to every other member
                else:
                    assert mail.kind[k] == Kind.OBSERVATION and mail.flag[k] == 0
                    assert int(mail.ref[k]) == Kind.CONTRIBUTION
                    notices[batch.tick][sender, recipient] = int(mail.amount[k])

    rounds, _ = oracle(game)
    for t in range(1, 5):
        assert [given[t][i] for i in range(8)] == rounds[t - 1] * 2, f"round {t}"
    rational = [i for i in range(8) if strategy_of[i] == "Rational"]
    assert all(given[1][i] == 0 and given[2][i] == 20 for i in rational)
    assert notices[2] == {(2, 3): 10, (6, 7): 10}  # round 1: the punisher fines the zero

    assert not any(moved[0]) and set(notices) <= {2, 3, 4, 5}
    for t in range(1, 5):
        x = [given[t][i] for i in range(8)]
        expected = []
        for i in range(8):
            pot = sum(x[i - i % 4 : i - i % 4 + 4])
            pay = 20 - x[i] + 1.6 * pot / 4
            pay -= PUNISH["cost"] * sum(p for (j, _), p in notices[t + 1].items() if j == i)
            pay -= PUNISH["fine"] * sum(p for (_, k), p in notices[t + 1].items() if k == i)
            expected.append(pay)
        assert notices[t + 1] == {
            (j + g, i + g): p
            for g in (0, 4)
            for (j, i), p in points_given(strategy_of[:4], x[g : g + 4], 10).items()
        }
        assert moved[t] == pytest.approx(expected, abs=1e-9), f"round {t}, tick {t + 1}"
        for s, name in enumerate(NAMES):
            mine = [expected[i] for i in range(8) if strategy_of[i] == name]
            assert counts[t].get(f"payoff {s}", 0) / SCALE == pytest.approx(sum(mine), abs=1e-6)
        assert counts[t].get("points", 0) == sum(notices[t + 1].values())
    assert moved[1][3] == pytest.approx(20 + 1.6 * 60 / 4 - 3 * 10)  # round 1's fine, tick 2
    assert not any(moved[5])  # the last notices arrive and change nothing


@pytest.mark.parametrize("punishment", [True, False], ids=["punishment", "none"])
def test_the_example_plays_the_rules(punishment: bool) -> None:
    """The example's contributions per round, per strategy and its payoffs are the oracle's
    (ten identical groups)."""
    sc = example(punishment)
    game = sc.classic
    assert game is not None and game.kind == "public_goods"
    res = LocalRuntime(sc, 2).run().summary(sc, 2, "local")["results"]
    rounds, payoffs = oracle(game.model_dump())
    e, size = game.endowment, game.group_size()
    assert res["contributions"] == [pytest.approx(sum(x) / (e * size)) for x in rounds]
    strategy = [s for s, k in game.group.items() for _ in range(k)]
    for name, got in res["by_strategy"].items():
        mine = [i for i in range(size) if strategy[i] == name]
        given = sum(x[i] for x in rounds for i in mine)
        earned = sum(p[i] for p in payoffs for i in mine)
        assert got["contribution"] == pytest.approx(given / (e * len(mine) * game.rounds))
        assert got["payoff_per_round"] == pytest.approx(earned / (len(mine) * game.rounds))


def test_contributions_fall_without_punishment_and_hold_with_it() -> None:
    """The example with and without punishment (Fehr and Gächter 2000: contributions decline
    towards free riding without punishment and are sustained with it). Without: they never
    rise, and every round up to the last non-zero one is lower than the one before; round 10 is
    at most a tenth of round 1 (they reach nothing: the conditional cooperators and the
    punisher follow the free rider down, rounding down). With: no round is more than 0.05
    below round 1 (the cooperators' one answer to the rational member's round-1 zero, paid for
    the same round and not repeated), the last five rounds are equal, and round 10 is at least
    0.6 above the treatment without."""
    without = LocalRuntime(example(False), 1).run().summary(example(False), 1, "local")
    with_ = LocalRuntime(example(True), 3).run().summary(example(True), 3, "local")
    c0, c1 = without["results"]["contributions"], with_["results"]["contributions"]
    assert len(c0) == len(c1) == 10 and c0[0] == c1[0] == 0.75
    assert all(b <= a for a, b in itertools.pairwise(c0))
    assert all(b < a for a, b in itertools.pairwise(c0) if a > 0)
    assert c0[-1] <= c0[0] / 10
    assert min(c1) >= c1[0] - 0.05
    assert len(set(c1[-5:])) == 1
    assert c1[-1] - c0[-1] >= 0.6
    assert without["results"]["punishment_points"] == 0
    assert with_["results"]["punishment_points"] > 0


@pytest.mark.parametrize("punishment", [True, False], ids=["punishment", "none"])
def test_the_digest_does_not_depend_on_the_shards(punishment: bool) -> None:
    """1, 2 and 3 shards end the example in the same state and report the same results."""
    sc = example(punishment)
    runs = [LocalRuntime(sc, n).run() for n in (1, 2, 3)]
    assert len({r.state_digest for r in runs}) == 1
    assert len({str(r.summary(sc, 1, "local")["results"]) for r in runs}) == 1
