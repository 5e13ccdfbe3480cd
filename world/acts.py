"""Decisions and lifecycles: what a character can be asked to decide, and what it can answer.

A *situation* is a call for a decision (an encounter, an offer received, a promise falling
due ...). Each situation has a small set of *actions*; each action is cooperative (C),
defecting (D) or neither, which is what cooperation rates, norms and strategy minds read.
"""

from __future__ import annotations

import dataclasses
from enum import IntEnum

import numpy as np

from world.errors import IllegalTransition
from world.vocab import Good


class Situation(IntEnum):
    PROMISE_DUE = 0  # a promise this character made falls due now
    OFFER = 1  # a trade offer arrived
    COUNTER = 2  # a counter-offer to this character's offer arrived
    REQUEST = 3  # someone asks this character for goods
    ACCUSED = 4  # someone says this character broke a promise to them
    APOLOGY = 5  # someone apologizes for a promise they broke
    GROUP_CALL = 6  # the group collects for its common project
    ENCOUNTER = 7  # this character meets someone


N_SITUATIONS = len(Situation)
SITUATION_NAMES = tuple(s.name.lower() for s in Situation)


class Action(IntEnum):
    KEEP = 0
    BREAK = 1
    ACCEPT = 2
    REJECT = 3
    COUNTER = 4
    GIVE = 5
    PROMISE = 6
    DECLINE = 7
    APOLOGIZE = 8
    IGNORE = 9
    FORGIVE = 10
    REFUSE = 11
    CONTRIBUTE = 12
    FREE_RIDE = 13
    IDLE = 14
    CHAT = 15
    GIFT = 16
    OFFER_TRADE = 17
    ASK = 18
    GOSSIP = 19


N_ACTIONS = len(Action)
ACTION_NAMES = tuple(a.name.lower() for a in Action)

#: The actions open in each situation, in the order a strategy mind prefers them.
ACTIONS: dict[Situation, tuple[Action, ...]] = {
    Situation.PROMISE_DUE: (Action.KEEP, Action.BREAK),
    Situation.OFFER: (Action.ACCEPT, Action.COUNTER, Action.REJECT),
    Situation.COUNTER: (Action.ACCEPT, Action.REJECT),
    Situation.REQUEST: (Action.GIVE, Action.PROMISE, Action.DECLINE),
    Situation.ACCUSED: (Action.APOLOGIZE, Action.IGNORE),
    Situation.APOLOGY: (Action.FORGIVE, Action.REFUSE),
    Situation.GROUP_CALL: (Action.CONTRIBUTE, Action.FREE_RIDE),
    Situation.ENCOUNTER: (
        Action.GIFT,
        Action.CHAT,
        Action.OFFER_TRADE,
        Action.ASK,
        Action.GOSSIP,
        Action.IDLE,
    ),
}

#: SITUATION_ACTIONS[s, a]: action a belongs to situation s.
SITUATION_ACTIONS = np.zeros((N_SITUATIONS, N_ACTIONS), bool)
for _s, _acts in ACTIONS.items():
    SITUATION_ACTIONS[_s, list(_acts)] = True

#: +1 cooperative, -1 defecting, 0 neither.
COOPERATION = np.zeros(N_ACTIONS, np.int8)
COOPERATION[[Action.KEEP, Action.ACCEPT, Action.COUNTER, Action.GIVE, Action.PROMISE]] = 1
COOPERATION[[Action.APOLOGIZE, Action.FORGIVE, Action.CONTRIBUTE, Action.GIFT]] = 1
COOPERATION[[Action.BREAK, Action.DECLINE, Action.IGNORE, Action.REFUSE]] = -1
COOPERATION[Action.FREE_RIDE] = -1

#: What a cooperative action becomes when it is not carried out (execution error, or the
#: character cannot pay): keeping fails into breaking, giving into declining ...
FAILS_INTO = np.arange(N_ACTIONS, dtype=np.int8)
FAILS_INTO[Action.KEEP] = Action.BREAK
FAILS_INTO[Action.ACCEPT] = Action.REJECT
FAILS_INTO[Action.COUNTER] = Action.REJECT
FAILS_INTO[Action.GIVE] = Action.DECLINE
FAILS_INTO[Action.APOLOGIZE] = Action.IGNORE
FAILS_INTO[Action.FORGIVE] = Action.REFUSE
FAILS_INTO[Action.CONTRIBUTE] = Action.FREE_RIDE
FAILS_INTO[Action.GIFT] = Action.CHAT
FAILS_INTO[Action.OFFER_TRADE] = Action.CHAT
FAILS_INTO[Action.PROMISE] = Action.DECLINE

#: Actions that pay goods out of the actor's holdings (funded in canonical order).
PAYS = np.zeros(N_ACTIONS, bool)
PAYS[[Action.KEEP, Action.ACCEPT, Action.COUNTER, Action.GIVE, Action.CONTRIBUTE]] = True
PAYS[[Action.GIFT, Action.OFFER_TRADE]] = True


class PromiseState(IntEnum):
    OPEN = 0
    KEPT = 1
    BROKEN = 2
    FORGIVEN = 3


#: The allowed moves of a promise's lifecycle.
PROMISE_MOVES: dict[PromiseState, frozenset[PromiseState]] = {
    PromiseState.OPEN: frozenset({PromiseState.KEPT, PromiseState.BROKEN}),
    PromiseState.KEPT: frozenset(),
    PromiseState.BROKEN: frozenset({PromiseState.FORGIVEN}),
    PromiseState.FORGIVEN: frozenset(),
}
#: MOVE_ALLOWED[from, to], for checking whole ledger columns at once.
MOVE_ALLOWED = np.zeros((len(PromiseState), len(PromiseState)), bool)
for _f, _tos in PROMISE_MOVES.items():
    for _t in _tos:
        MOVE_ALLOWED[_f, _t] = True


def check_moves(old: np.ndarray, new: np.ndarray) -> None:
    """Raise IllegalTransition unless every old -> new promise move is allowed."""
    bad = ~MOVE_ALLOWED[old, new]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IllegalTransition(
            f"a promise cannot go from {PromiseState(int(old[i])).name} to "
            f"{PromiseState(int(new[i])).name}; allowed from {PromiseState(int(old[i])).name}: "
            f"{sorted(s.name for s in PROMISE_MOVES[PromiseState(int(old[i]))]) or 'none'}"
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Promise:
    """One promise, as the API shows it: `promisor` owes `promisee` goods by `due`."""

    promisor: int
    seq: int
    promisee: int
    good: Good
    amount: int
    due: int
    made: int
    state: PromiseState = PromiseState.OPEN

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError(f"a promise must be of a positive amount, not {self.amount}")
        if self.due <= self.made:
            raise ValueError(
                f"a promise made at tick {self.made} must fall due later, not at {self.due}"
            )
        if self.promisor == self.promisee:
            raise ValueError(f"character {self.promisor} cannot promise itself")

    def moved(self, to: PromiseState) -> Promise:
        """This promise in state `to`, or IllegalTransition if the lifecycle forbids it."""
        if to not in PROMISE_MOVES[self.state]:
            raise IllegalTransition(
                f"promise ({self.promisor}, {self.seq}) is {self.state.name} and cannot become "
                f"{to.name}; allowed: {sorted(s.name for s in PROMISE_MOVES[self.state]) or 'none'}"
            )
        return dataclasses.replace(self, state=to)
