"""Domain values check themselves; lifecycles are explicit state machines."""

from __future__ import annotations

import numpy as np
import pytest

from world import LocalRuntime
from world.acts import (
    ACTIONS,
    COOPERATION,
    FAILS_INTO,
    PAYS,
    Action,
    Promise,
    PromiseState,
    Situation,
    check_moves,
)
from world.characters import Characters
from world.errors import IllegalTransition
from world.outbox import Outgoing
from world.scenario import parse_scenario
from world.settlement import Settlement
from world.stats import TickStats
from world.vocab import Good


def promise(**kw) -> Promise:
    base = dict(promisor=1, seq=3, promisee=2, good=Good.FOOD, amount=2, due=10, made=7)
    return Promise(**{**base, **kw})


def test_promise_lifecycle() -> None:
    """A promise can be kept, or broken and then forgiven; nothing else."""
    p = promise()
    assert p.moved(PromiseState.KEPT).state == PromiseState.KEPT
    broken = p.moved(PromiseState.BROKEN)
    assert broken.moved(PromiseState.FORGIVEN).state == PromiseState.FORGIVEN
    with pytest.raises(IllegalTransition, match="KEPT"):
        p.moved(PromiseState.KEPT).moved(PromiseState.BROKEN)
    with pytest.raises(IllegalTransition):
        p.moved(PromiseState.FORGIVEN)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"amount": 0}, "positive"), ({"due": 7}, "fall due later"), ({"promisee": 1}, "itself")],
)
def test_promise_refuses_nonsense(change: dict, message: str) -> None:
    """A promise of nothing, due in the past, or to oneself cannot be made."""
    with pytest.raises(ValueError, match=message):
        promise(**change)


def test_ledger_moves_are_checked_in_bulk() -> None:
    """The vectorized ledger uses the same table of allowed moves."""
    check_moves(np.array([0, 2]), np.array([1, 3]))
    with pytest.raises(IllegalTransition):
        check_moves(np.array([0, 1]), np.array([2, 2]))


def test_failing_cooperation_never_pays() -> None:
    """Every cooperative act fails into an act that pays nothing and is not cooperative."""
    for action in np.flatnonzero(COOPERATION > 0):
        failed = FAILS_INTO[action]
        assert not PAYS[failed] and COOPERATION[failed] <= 0, action
    for situation, acts in ACTIONS.items():
        assert any(not PAYS[a] for a in acts), situation


def test_a_settlements_rows_of_acts_are_those_doing_them() -> None:
    """Settlement.rows: the rows doing any of the acts given (in a situation, if given), in row
    order, for every action alone, in pairs, and within each situation, on a living world's
    decisions."""
    sc = parse_scenario(
        {"name": "s", "seed": 6, "ticks": 12, "population": {"size": 300}}, source="s"
    )
    rt = LocalRuntime(sc)
    rt.run(10)
    shard = rt.villages[0]
    pending = shard.prepare(rt.inboxes[0])
    decided = shard.decide(pending)
    chars = Characters.from_state(shard.chars.get_state())
    assert isinstance(chars, Characters)
    s = Settlement.of(
        chars, shard.now, pending.tick, pending.batch, decided.actions, pending.plans,
        shard.owed, shard.owed_to, Outgoing(), TickStats(),
    )  # fmt: skip
    assert len(np.unique(s.action)) > 5
    for a in Action:
        np.testing.assert_array_equal(s.rows(a), np.flatnonzero(s.action == a))
        for b in (Action.KEEP, Action.CONTRIBUTE, Action.FREE_RIDE):
            want = np.flatnonzero((s.action == a) | (s.action == b))
            np.testing.assert_array_equal(s.rows(a, b), want)
        for sit in Situation:
            want = np.flatnonzero((s.action == a) & (s.batch.situation == sit))
            np.testing.assert_array_equal(s.rows(a, situation=sit), want)
