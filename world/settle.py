"""Settlement: the world applies what the minds chose, under its rules.

An action outside the legal set is never applied (it is counted, and the row falls back to its
first legal non-paying action). Intended cooperation may fail (execution noise). Anything that
pays goods is funded from what the actor holds, in canonical order: once its goods run out,
its later paying acts fail into their non-paying counterparts. Then the acts go out as mail and
the actor's own memory records what it did.
"""

from __future__ import annotations

import numpy as np

from protos import society_pb2 as pb
from world import memory
from world.acts import (
    COOPERATION,
    FAILS_INTO,
    N_ACTIONS,
    PAYS,
    Action,
    PromiseState,
    Situation,
)
from world.characters import Characters
from world.ledger import Promises
from world.minds.base import DecisionBatch
from world.outbox import Outgoing
from world.rng import Stream, below, uniform
from world.scenario import Scenario
from world.situations import PROMISE_DELAY, Plans
from world.stats import TickStats
from world.vocab import PRICE, Emotion, Kind, among
from world.wire import ANSWERS_COUNTER, CARE, LOAN

#: Acts a bystander may see, and so judge.
VISIBLE = among(N_ACTIONS, Action.GIVE, Action.DECLINE, Action.GIFT, Action.KEEP, Action.BREAK)


def sanitize(batch: DecisionBatch, chosen: np.ndarray, stats: TickStats) -> np.ndarray:
    """The chosen actions, with anything illegal replaced by the row's first legal action
    that pays nothing (counted as invalid)."""
    chosen = np.asarray(chosen, np.int64)
    ok = (chosen >= 0) & (chosen < batch.legal.shape[1])
    ok[ok] = batch.legal[np.flatnonzero(ok), chosen[ok]]
    if (~ok).any():
        bad = np.flatnonzero(~ok)
        safe = batch.legal[bad] & ~PAYS[None, :]
        fallback = np.where(safe.any(axis=1), safe.argmax(axis=1), batch.legal[bad].argmax(axis=1))
        chosen = chosen.copy()
        chosen[bad] = fallback
        stats.add("invalid_actions", len(bad))
    return chosen


def price_of(
    batch: DecisionBatch, plans: Plans, action: np.ndarray, pg_good: int, pg_amount: int
) -> tuple[np.ndarray, np.ndarray]:
    """(good, amount) each row's action pays out of the actor's holdings (amount 0: none)."""
    m = len(batch)
    good = np.zeros(m, np.int64)
    amount = np.zeros(m, np.int64)
    sit = batch.situation

    def put(mask: np.ndarray, g: np.ndarray | int, a: np.ndarray | int) -> None:
        good[mask] = np.broadcast_to(g, (m,))[mask]
        amount[mask] = np.broadcast_to(a, (m,))[mask]

    put(action == Action.KEEP, batch.good, batch.amount)
    put((action == Action.ACCEPT) & (sit == Situation.OFFER), batch.good2, batch.amount2)
    put((action == Action.ACCEPT) & (sit == Situation.COUNTER), batch.good2, batch.amount2)
    put(action == Action.COUNTER, batch.good2, plans.counter_amount)
    put(action == Action.GIVE, batch.good, batch.amount)
    put(action == Action.CONTRIBUTE, pg_good, pg_amount)
    put(action == Action.GIFT, plans.gift_good, plans.gift_amount)
    put(action == Action.OFFER_TRADE, plans.give_good, plans.give_amount)
    return good, amount


def fund(chars: Characters, local: np.ndarray, good: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Which payments the actors can make, in row (canonical) order."""
    m = len(local)
    if m == 0:
        return np.zeros(0, bool)
    key = local * 8 + good
    order = np.argsort(key, kind="stable")
    sk = key[order]
    cum = np.cumsum(amount[order])
    start = np.ones(m, bool)
    start[1:] = sk[1:] != sk[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(m), 0))
    before = np.where(first > 0, cum[first - 1], 0)
    spent = cum - before
    ok = np.empty(m, bool)
    ok[order] = spent <= chars.goods[local[order], good[order]]
    return ok | (amount == 0)


def settle(
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
) -> None:
    m = len(batch)
    stats.add("decisions", m)
    if m == 0:
        return
    seed = scenario.seed
    action = sanitize(batch, chosen, stats)
    local, cp, sit = batch.local, batch.counterpart, batch.situation
    # intended cooperation sometimes fails
    coop_intent = COOPERATION[action] > 0
    slip = coop_intent & (
        uniform(seed, Stream.EXECUTION, batch.actor, tick, sit, cp, batch.ref)
        < scenario.noise.execution
    )
    action = np.where(slip, FAILS_INTO[action], action)
    # paying acts are funded in canonical order
    pg_good = int(getattr(pb, scenario.public_goods.good.upper()))
    pay_good, pay_amount = price_of(batch, plans, action, pg_good, scenario.public_goods.amount)
    funded = fund(chars, local, pay_good, pay_amount)
    action = np.where(funded, action, FAILS_INTO[action])
    pay_amount = np.where(funded, pay_amount, 0)
    np.subtract.at(chars.goods, (local, pay_good), pay_amount.astype(np.int32))
    # whoever I deal with is someone I now know
    slot = np.full(m, -1, np.int64)
    personal = np.flatnonzero((cp >= 0) & (sit != Situation.GROUP_CALL))
    slot[personal] = memory.ensure(
        chars, local[personal], cp[personal], tick, found=batch.slot[personal]
    )

    def rows(*acts: Action, situation: Situation | None = None) -> np.ndarray:
        mask = among(N_ACTIONS, *acts)[action]
        if situation is not None:
            mask &= sit == situation
        return np.flatnonzero(mask)

    # promises falling due: kept (paid) or broken; either way the promisor's copy is done
    r = rows(Action.KEEP)
    out.add(
        Kind.PROMISE_KEPT,
        local[r],
        cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        ref=batch.ref[r],
    )
    stats.add("promises_kept", len(r))
    r = rows(Action.KEEP, Action.BREAK)
    found = owed.find(chars.cid[local[r]], batch.ref[r])
    done = np.zeros(len(owed), bool)
    done[found[found >= 0]] = True
    owed.keep(~done)
    np.add.at(chars.rel_open_out, (local[r], slot[r]), -1)

    # trade offers and counters
    r = rows(Action.ACCEPT, situation=Situation.OFFER)
    out.add(
        Kind.TRADE_REPLY,
        local[r],
        cp[r],
        decision=r,
        good=batch.good2[r],
        amount=batch.amount2[r],
        good2=batch.good[r],
        amount2=batch.amount[r],
        ref=batch.ref[r],
        flag=pb.ACCEPT,
    )
    np.add.at(chars.goods, (local[r], batch.good[r]), batch.amount[r].astype(np.int32))
    _traded(chars, local[r], slot[r], batch, r, stats)
    r = rows(Action.ACCEPT, situation=Situation.COUNTER)
    out.add(
        Kind.TRADE_REPLY,
        local[r],
        cp[r],
        decision=r,
        good=batch.good2[r],
        amount=batch.amount2[r],
        good2=batch.good[r],
        amount2=batch.amount[r],
        ref=batch.ref[r],
        flag=pb.ACCEPT | ANSWERS_COUNTER,
    )
    np.add.at(chars.goods, (local[r], batch.good[r]), batch.amount[r].astype(np.int32))
    _traded(chars, local[r], slot[r], batch, r, stats)
    r = rows(Action.REJECT)
    answers = np.where(sit[r] == Situation.COUNTER, ANSWERS_COUNTER, 0)
    out.add(
        Kind.TRADE_REPLY,
        local[r],
        cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        ref=batch.ref[r],
        flag=pb.REJECT | answers,
    )
    r = rows(Action.COUNTER)
    out.add(
        Kind.TRADE_REPLY,
        local[r],
        cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        good2=batch.good2[r],
        amount2=plans.counter_amount[r],
        ref=batch.ref[r],
        flag=pb.COUNTER,
    )

    # requests
    r = rows(Action.GIVE)
    loan = batch.loan[r]
    flags = np.where(loan, LOAN, CARE * batch.vulnerable[r])
    out.add(
        Kind.GIFT,
        local[r],
        cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        ref=batch.ref[r],
        due=np.where(loan, plans.due[r], 0),
        flag=flags,
    )
    _gave(
        chars,
        local[r],
        slot[r],
        batch.good[r],
        batch.amount[r],
        stats,
        care=(flags & CARE) > 0,
        loans=loan,
    )
    r = rows(Action.PROMISE)
    due = np.full(len(r), tick + PROMISE_DELAY)
    h = out.add(
        Kind.PROMISE,
        local[r],
        cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        due=due,
        ref=batch.ref[r],
    )
    out.promise(h, local[r], cp[r], batch.good[r], batch.amount[r], due, tick, 0)
    stats.add("promises_made", len(r))
    r = rows(Action.DECLINE)
    out.add(Kind.UTTERANCE, local[r], cp[r], ref=batch.ref[r], flag=1, decision=r)

    # broken promises: apologies, and forgiveness
    r = rows(Action.APOLOGIZE)
    out.add(Kind.APOLOGY, local[r], cp[r], ref=batch.ref[r], decision=r)
    stats.add("apologies", len(r))
    r = rows(Action.FORGIVE)
    out.add(Kind.FORGIVENESS, local[r], cp[r], ref=batch.ref[r], decision=r)
    stats.add("forgiveness", len(r))
    found = owed_to.find(cp[r], batch.ref[r])
    hit = found >= 0
    hit[hit] = owed_to.state[found[hit]] == PromiseState.BROKEN
    owed_to.move(found[hit], PromiseState.FORGIVEN)
    sl = slot[r]
    chars.rel_neg[local[r], sl] *= np.float32(0.5)
    chars.emotion[local[r], Emotion.ANGER] *= np.float32(0.5)

    # the group's collection
    r = rows(Action.CONTRIBUTE)
    out.add(
        Kind.CONTRIBUTION,
        local[r],
        cp[r],
        good=pg_good,
        amount=pay_amount[r],
        ref=batch.ref[r],
        decision=r,
    )
    stats.add("contributions", len(r))
    chars.contributed[local[rows(Action.CONTRIBUTE, Action.FREE_RIDE)]] = 0
    chars.contributed[local[r]] = 1
    stats.add("free_rides", len(rows(Action.FREE_RIDE)))

    # encounters
    r = rows(Action.CHAT)
    out.add(Kind.UTTERANCE, local[r], cp[r], decision=r)
    stats.add("chats", len(r))
    r = rows(Action.GIFT)
    care = plans.care[r]
    out.add(
        Kind.GIFT,
        local[r],
        cp[r],
        decision=r,
        good=plans.gift_good[r],
        amount=plans.gift_amount[r],
        flag=CARE * care,
    )
    _gave(
        chars,
        local[r],
        slot[r],
        plans.gift_good[r],
        plans.gift_amount[r],
        stats,
        care=care,
        loans=np.zeros(len(r), bool),
    )
    r = rows(Action.OFFER_TRADE)
    out.add(
        Kind.TRADE_OFFER,
        local[r],
        cp[r],
        decision=r,
        good=plans.give_good[r],
        amount=plans.give_amount[r],
        good2=plans.want_good[r],
        amount2=plans.want_amount[r],
    )
    stats.add("trade_offers", len(r))
    r = rows(Action.ASK)
    out.add(
        Kind.REQUEST,
        local[r],
        cp[r],
        decision=r,
        good=plans.ask_good[r],
        amount=plans.ask_amount[r],
        due=plans.repay_by[r],
    )
    stats.add("requests", len(r))
    r = rows(Action.GOSSIP)
    out.add(
        Kind.GOSSIP,
        local[r],
        cp[r],
        decision=r,
        subject=plans.gossip_subject[r],
        source=plans.gossip_source[r],
        flag=plans.gossip_claim[r],
    )
    stats.add("gossip", len(r))

    # what I did, to whom: my own memory, my standing, and what bystanders saw
    coop = COOPERATION[action]
    judged = np.flatnonzero((coop != 0) & (cp >= 0) & (sit != Situation.GROUP_CALL))
    sl = slot[judged]
    chars.rel_mine[local[judged], sl] = (coop[judged] > 0).astype(np.int8)
    stats.add("cooperative", int((coop > 0).sum()))
    stats.add("defecting", int((coop < 0).sum()))
    role = chars.role[local].astype(np.int64)
    stats.by_role[0] += np.bincount(role[coop > 0], minlength=stats.by_role.shape[1])
    stats.by_role[1] += np.bincount(role[coop < 0], minlength=stats.by_role.shape[1])
    acted = np.flatnonzero(coop != 0)
    for rnd in memory.rounds(local[acted]):
        lo = local[acted[rnd]]
        chars.standing[lo] = 0.9 * chars.standing[lo] + 0.1 * (coop[acted[rnd]] > 0)
    seen = np.flatnonzero(VISIBLE[action] & (cp >= 0))
    if len(seen):
        seen = seen[
            uniform(
                seed, Stream.OBSERVE, batch.actor[seen], tick, sit[seen], cp[seen], batch.ref[seen]
            )
            < scenario.information.observation_rate
        ]
        _observed(chars, scenario, tick, batch, seen, action, out)


def _gave(
    chars: Characters,
    local: np.ndarray,
    slot: np.ndarray,
    good: np.ndarray,
    amount: np.ndarray,
    stats: TickStats,
    care: np.ndarray,
    loans: np.ndarray,
) -> None:
    np.add.at(chars.rel_balance, (local, slot), (amount * PRICE[good]).astype(np.int32))
    np.add.at(chars.rel_att, (local[care], slot[care]), np.float32(0.05))
    stats.add("gifts", len(local))
    stats.add("care_gifts", int(care.sum()))
    stats.add("loans", int(loans.sum()))


def _traded(
    chars: Characters,
    local: np.ndarray,
    sl: np.ndarray,
    batch: DecisionBatch,
    r: np.ndarray,
    stats: TickStats,
) -> None:
    np.add.at(chars.rel_trades, (local, sl), 1)
    stats.add("trades", len(r))
    stats.add(
        "trade_volume",
        int(
            (batch.amount[r] * PRICE[batch.good[r]]).sum()
            + (batch.amount2[r] * PRICE[batch.good2[r]]).sum()
        ),
    )


def _observed(
    chars: Characters,
    scenario: Scenario,
    tick: int,
    batch: DecisionBatch,
    seen: np.ndarray,
    action: np.ndarray,
    out: Outgoing,
) -> None:
    """A bystander from the actor's group sees the act."""
    if len(seen) == 0:
        return
    size = scenario.population.group_size
    n_total = scenario.population.size
    actor = batch.actor[seen]
    first = (actor // size) * size
    members = np.minimum(size, n_total - first)
    witness = first + below(
        scenario.seed,
        Stream.OBSERVE,
        members,
        actor,
        tick,
        batch.ref[seen],
        batch.counterpart[seen],
        1,
    )
    ok = (witness != actor) & (witness != batch.counterpart[seen])
    s = seen[ok]
    kind_of = {
        Action.GIVE: Kind.GIFT,
        Action.GIFT: Kind.GIFT,
        Action.DECLINE: Kind.REQUEST,
        Action.KEEP: Kind.PROMISE_KEPT,
        Action.BREAK: Kind.PROMISE_BROKEN,
    }
    act_kind = np.zeros(len(s), np.int64)
    for a, k in kind_of.items():
        act_kind[action[s] == a] = k
    out.add(
        Kind.OBSERVATION,
        batch.local[s],
        witness[ok],
        subject=batch.counterpart[s],
        ref=act_kind,
        flag=(COOPERATION[action[s]] > 0).astype(np.int64),
    )
