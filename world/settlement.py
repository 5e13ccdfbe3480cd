"""Settlement: which acts the minds' choices become, before the rules apply them.

A choice outside the legal set becomes the row's first legal act that pays nothing (counted as
invalid). Intended cooperation may slip into its counterpart (execution noise). Whatever pays
goods is funded from what the actor holds, in canonical order; once its goods run out, its
later paying acts fail into their non-paying counterparts. `Settlement` holds the outcome, for
the rules of world/settle.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protos import society_pb2 as pb
from world import memory
from world.acts import COOPERATION, FAILS_INTO, N_ACTIONS, PAYS, Action, Situation
from world.arrays import Grouped, rows_where
from world.characters import Characters
from world.kernels import payments
from world.ledger import Promises
from world.minds.base import DecisionBatch
from world.outbox import Outgoing
from world.rng import Stream, uniform
from world.scenario import Scenario
from world.situations import Plans
from world.stats import TickStats

#: The acts that pay, in the order `payments.pay` takes them.
PAYING_ACTS = (
    int(Action.KEEP),
    int(Action.ACCEPT),
    int(Action.COUNTER),
    int(Action.GIVE),
    int(Action.CONTRIBUTE),
    int(Action.GIFT),
    int(Action.OFFER_TRADE),
)
assert set(PAYING_ACTS) == set(np.flatnonzero(PAYS).tolist())


@dataclass(frozen=True, slots=True)
class Settlement:
    """One tick's decisions as the rules apply them: each row's final action, the actor's slot
    for its counterpart, what it paid, and the state and outputs the rules touch."""

    chars: Characters
    scenario: Scenario
    tick: int
    batch: DecisionBatch
    plans: Plans
    owed: Promises  # promises my characters made
    owed_to: Promises  # promises made to my characters
    out: Outgoing
    stats: TickStats
    action: np.ndarray  # what each row does, after slips and funding
    coop: np.ndarray  # COOPERATION of that action: +1, 0 or -1
    slot: np.ndarray  # the actor's slot for its counterpart (-1: none)
    pay_amount: np.ndarray  # what the row paid out of the actor's goods (0: nothing)
    pg_good: int  # the good the group collects
    local: np.ndarray  # the actor's local row (the batch's column)
    cp: np.ndarray  # the counterpart (the batch's column)

    by_action: Grouped  # the rows grouped by their action

    def rows(self, *acts: Action, situation: Situation | None = None) -> np.ndarray:
        """The rows doing any of `acts` (in `situation`, if given), in row order."""
        if len(acts) == 1:
            rows = self.by_action.rows(acts[0])
        else:  # (an act given twice is one act)
            rows = np.sort(np.concatenate([self.by_action.rows(a) for a in dict.fromkeys(acts)]))
        if situation is not None:
            rows = rows[self.batch.situation[rows] == int(situation)]
        return rows

    @classmethod
    def of(
        cls,
        chars: Characters,
        scenario: Scenario,
        tick: int,
        batch: DecisionBatch,
        chosen: np.ndarray,
        plans: Plans,
        owed: Promises,
        owed_to: Promises,
        out: Outgoing,
        stats: TickStats,
    ) -> Settlement:
        """What each row does: its legal choice, as executed, as funded; and whom it now knows."""
        action = slip(scenario, tick, batch, sanitize(batch, chosen, stats))
        pg_good = int(getattr(pb, scenario.public_goods.good.upper()))
        action, pay_amount = pay(chars, batch, plans, action, pg_good, scenario.public_goods.amount)
        return cls(
            chars=chars,
            scenario=scenario,
            tick=tick,
            batch=batch,
            plans=plans,
            owed=owed,
            owed_to=owed_to,
            out=out,
            stats=stats,
            action=action,
            coop=COOPERATION[action],
            slot=meet(chars, tick, batch),
            pay_amount=pay_amount,
            pg_good=pg_good,
            local=batch.local,
            cp=batch.counterpart,
            by_action=Grouped(action, N_ACTIONS),
        )


def sanitize(batch: DecisionBatch, chosen: np.ndarray, stats: TickStats) -> np.ndarray:
    """The chosen actions, with anything illegal replaced by the row's first legal action
    that pays nothing (counted as invalid)."""
    chosen = np.asarray(chosen, np.int64)
    ok = (chosen >= 0) & (chosen < batch.legal.shape[1])
    ok[ok] = batch.legal[rows_where(ok), chosen[ok]]
    if (~ok).any():
        bad = rows_where(~ok)
        safe = batch.legal[bad] & ~PAYS[None, :]
        fallback = np.where(safe.any(axis=1), safe.argmax(axis=1), batch.legal[bad].argmax(axis=1))
        chosen = chosen.copy()
        chosen[bad] = fallback
        stats.add("invalid_actions", len(bad))
    return chosen


def slip(scenario: Scenario, tick: int, batch: DecisionBatch, action: np.ndarray) -> np.ndarray:
    """Intended cooperation sometimes fails into its non-cooperative act (execution noise)."""
    draw = uniform(
        scenario.seed,
        Stream.EXECUTION,
        batch.actor,
        tick,
        batch.situation,
        batch.counterpart,
        batch.ref,
    )
    slipped = (COOPERATION[action] > 0) & (draw < scenario.noise.execution)
    return np.where(slipped, FAILS_INTO[action], action)


def pay(
    chars: Characters,
    batch: DecisionBatch,
    plans: Plans,
    action: np.ndarray,
    pg_good: int,
    pg_amount: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Paying acts are funded from the actor's goods in canonical order, or fail unpaid
    (world/kernels/payments.py): each row's act, and the amount it paid."""
    paid, funded = payments.pay(
        chars.goods,
        PAYING_ACTS,
        (int(Situation.OFFER), int(Situation.COUNTER)),
        pg_good,
        pg_amount,
        action,
        batch.situation,
        batch.local,
        batch.good,
        batch.amount,
        batch.good2,
        batch.amount2,
        plans.counter_amount,
        plans.gift_good,
        plans.gift_amount,
        plans.give_good,
        plans.give_amount,
    )
    return np.where(funded, action, FAILS_INTO[action]), paid


def meet(chars: Characters, tick: int, batch: DecisionBatch) -> np.ndarray:
    """Whoever I deal with in person (not the group) is someone I now know: my slot for it."""
    local, cp = batch.local, batch.counterpart
    slot = np.full(len(batch), -1, np.int64)
    personal = rows_where((cp >= 0) & (batch.situation != int(Situation.GROUP_CALL)))
    slot[personal] = memory.ensure(
        chars, local[personal], cp[personal], tick, found=batch.slot[personal]
    )
    return slot
