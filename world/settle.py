"""Settlement: the world applies what the minds chose, under its rules.

An action outside the legal set is never applied (it is counted, and the row falls back to its
first legal non-paying action). Intended cooperation may fail (execution noise). Anything that
pays goods is funded from what the actor holds, in canonical order: once its goods run out,
its later paying acts fail into their non-paying counterparts (world/settlement.py). Then the
acts go out as mail and the actor's own memory records what it did.

`settle` is the list of rules, one function per kind of act, applied in a fixed order (the
order of the envelopes and updates is part of the world's state, and of its digest).
"""

from __future__ import annotations

import numpy as np

from protos import society_pb2 as pb
from world.acts import N_ACTIONS, Action, PromiseState, Situation
from world.arrays import rows_where
from world.characters import Characters
from world.kernels import scatter, updates
from world.ledger import Promises
from world.minds.base import DecisionBatch
from world.outbox import Outgoing
from world.rng import Stream, below, uniform
from world.scenario import Scenario
from world.settlement import Settlement
from world.situations import PROMISE_DELAY, Plans
from world.stats import TickStats
from world.vocab import PRICE, Emotion, Kind, among
from world.wire import ANSWERS_COUNTER, CARE, LOAN

#: Acts a bystander may see, and so judge.
VISIBLE = among(N_ACTIONS, Action.GIVE, Action.DECLINE, Action.GIFT, Action.KEEP, Action.BREAK)
#: The kind of act a witness is told it saw, by action (0: an act no witness is told of).
SEEN_AS = np.zeros(N_ACTIONS, np.int64)
SEEN_AS[[Action.GIVE, Action.GIFT, Action.DECLINE, Action.KEEP, Action.BREAK]] = (
    Kind.GIFT,
    Kind.GIFT,
    Kind.REQUEST,
    Kind.PROMISE_KEPT,
    Kind.PROMISE_BROKEN,
)


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
    """Apply the chosen actions, rule by rule, in this order."""
    m = len(batch)
    stats.add("decisions", m)
    if m == 0:
        return
    s = Settlement.of(chars, scenario, tick, batch, chosen, plans, owed, owed_to, out, stats)
    promises_fall_due(s)
    accept_trades(s)
    reject_trades(s)
    counter_trades(s)
    give_on_request(s)
    make_promises(s)
    decline_requests(s)
    apologize(s)
    forgive(s)
    collect_for_the_group(s)
    chat(s)
    give_gifts(s)
    offer_trades(s)
    ask(s)
    gossip(s)
    remember_my_acts(s)
    standing(s)
    bystanders_see(s)


def promises_fall_due(s: Settlement) -> None:
    """A promise due is kept (its goods go out) or broken; either way my copy of it is done."""
    batch, local = s.batch, s.local
    r = s.rows(Action.KEEP)
    s.out.add(
        Kind.PROMISE_KEPT,
        local[r],
        s.cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        ref=batch.ref[r],
    )
    s.stats.add("promises_kept", len(r))
    r = s.rows(Action.KEEP, Action.BREAK)
    found = s.owed.find(s.chars.cid[local[r]], batch.ref[r])
    done = np.zeros(len(s.owed), bool)
    done[found[found >= 0]] = True
    s.owed.keep(~done)
    scatter.add_at(s.chars.rel_open_out, local[r], s.slot[r], -1)


def accept_trades(s: Settlement) -> None:
    """Accepting an offer, or a counter-offer to mine, trades: the goods held for me are mine."""
    accepts = (Situation.OFFER, pb.ACCEPT), (Situation.COUNTER, pb.ACCEPT | ANSWERS_COUNTER)
    batch, local = s.batch, s.local
    for situation, flag in accepts:
        r = s.rows(Action.ACCEPT, situation=situation)
        s.out.add(
            Kind.TRADE_REPLY,
            local[r],
            s.cp[r],
            decision=r,
            good=batch.good2[r],
            amount=batch.amount2[r],
            good2=batch.good[r],
            amount2=batch.amount[r],
            ref=batch.ref[r],
            flag=flag,
        )
        scatter.add_at(s.chars.goods, local[r], batch.good[r], batch.amount[r].astype(np.int32))
        traded(s, r)


def reject_trades(s: Settlement) -> None:
    """Rejecting an offer or a counter-offer sends its goods back."""
    batch, r = s.batch, s.rows(Action.REJECT)
    answers = np.where(batch.situation[r] == int(Situation.COUNTER), ANSWERS_COUNTER, 0)
    s.out.add(
        Kind.TRADE_REPLY,
        s.local[r],
        s.cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        ref=batch.ref[r],
        flag=pb.REJECT | answers,
    )


def counter_trades(s: Settlement) -> None:
    """A counter-offer sends the offer's goods back with mine, wanting theirs for them."""
    batch, r = s.batch, s.rows(Action.COUNTER)
    s.out.add(
        Kind.TRADE_REPLY,
        s.local[r],
        s.cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        good2=batch.good2[r],
        amount2=s.plans.counter_amount[r],
        ref=batch.ref[r],
        flag=pb.COUNTER,
    )


def give_on_request(s: Settlement) -> None:
    """Giving what was asked: a loan if it is to be repaid, else a gift (caring, if in need)."""
    batch, r = s.batch, s.rows(Action.GIVE)
    loan = batch.loan[r]
    flags = np.where(loan, LOAN, CARE * batch.vulnerable[r])
    s.out.add(
        Kind.GIFT,
        s.local[r],
        s.cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        ref=batch.ref[r],
        due=np.where(loan, s.plans.due[r], 0),
        flag=flags,
    )
    gave(s, r, batch.good[r], batch.amount[r], care=(flags & CARE) > 0, loans=loan)


def make_promises(s: Settlement) -> None:
    """A promise to give what was asked, later: it goes out, and into my ledger once sealed."""
    batch, local, cp, r = s.batch, s.local, s.cp, s.rows(Action.PROMISE)
    due = np.full(len(r), s.tick + PROMISE_DELAY)
    h = s.out.add(
        Kind.PROMISE,
        local[r],
        cp[r],
        decision=r,
        good=batch.good[r],
        amount=batch.amount[r],
        due=due,
        ref=batch.ref[r],
    )
    s.out.promise(h, local[r], cp[r], batch.good[r], batch.amount[r], due, s.tick, 0)
    s.stats.add("promises_made", len(r))


def decline_requests(s: Settlement) -> None:
    """Declining a request is said in words."""
    r = s.rows(Action.DECLINE)
    s.out.add(Kind.UTTERANCE, s.local[r], s.cp[r], ref=s.batch.ref[r], flag=1, decision=r)


def apologize(s: Settlement) -> None:
    """An apology for a broken promise goes to the one it was made to."""
    r = s.rows(Action.APOLOGIZE)
    s.out.add(Kind.APOLOGY, s.local[r], s.cp[r], ref=s.batch.ref[r], decision=r)
    s.stats.add("apologies", len(r))


def forgive(s: Settlement) -> None:
    """Forgiving a broken promise marks it forgiven, and halves my grudge and my anger."""
    chars, local, cp, ref, r = s.chars, s.local, s.cp, s.batch.ref, s.rows(Action.FORGIVE)
    s.out.add(Kind.FORGIVENESS, local[r], cp[r], ref=ref[r], decision=r)
    s.stats.add("forgiveness", len(r))
    found = s.owed_to.find(cp[r], ref[r])
    hit = found >= 0
    hit[hit] = s.owed_to.state[found[hit]] == int(PromiseState.BROKEN)
    s.owed_to.move(found[hit], PromiseState.FORGIVEN)
    chars.rel_neg[local[r], s.slot[r]] *= np.float32(0.5)
    chars.emotion[local[r], Emotion.ANGER] *= np.float32(0.5)


def collect_for_the_group(s: Settlement) -> None:
    """At the group's collection I contribute (what I paid goes to the collector) or ride free."""
    chars, local, r = s.chars, s.local, s.rows(Action.CONTRIBUTE)
    s.out.add(
        Kind.CONTRIBUTION,
        local[r],
        s.cp[r],
        good=s.pg_good,
        amount=s.pay_amount[r],
        ref=s.batch.ref[r],
        decision=r,
    )
    s.stats.add("contributions", len(r))
    chars.contributed[local[s.rows(Action.CONTRIBUTE, Action.FREE_RIDE)]] = 0
    chars.contributed[local[r]] = 1
    s.stats.add("free_rides", len(s.rows(Action.FREE_RIDE)))


def chat(s: Settlement) -> None:
    """A chat is a friendly word."""
    r = s.rows(Action.CHAT)
    s.out.add(Kind.UTTERANCE, s.local[r], s.cp[r], decision=r)
    s.stats.add("chats", len(r))


def give_gifts(s: Settlement) -> None:
    """An unasked gift of the planned goods (caring, where the plan says so)."""
    plans, r = s.plans, s.rows(Action.GIFT)
    care = plans.care[r]
    s.out.add(
        Kind.GIFT,
        s.local[r],
        s.cp[r],
        decision=r,
        good=plans.gift_good[r],
        amount=plans.gift_amount[r],
        flag=CARE * care,
    )
    gave(s, r, plans.gift_good[r], plans.gift_amount[r], care=care, loans=np.zeros(len(r), bool))


def offer_trades(s: Settlement) -> None:
    """A trade offer: the goods I give travel with it (held until answered), for goods I want."""
    plans, r = s.plans, s.rows(Action.OFFER_TRADE)
    s.out.add(
        Kind.TRADE_OFFER,
        s.local[r],
        s.cp[r],
        decision=r,
        good=plans.give_good[r],
        amount=plans.give_amount[r],
        good2=plans.want_good[r],
        amount2=plans.want_amount[r],
    )
    s.stats.add("trade_offers", len(r))


def ask(s: Settlement) -> None:
    """A request for goods I need, to be repaid by a tick (or not at all: a plea)."""
    plans, r = s.plans, s.rows(Action.ASK)
    s.out.add(
        Kind.REQUEST,
        s.local[r],
        s.cp[r],
        decision=r,
        good=plans.ask_good[r],
        amount=plans.ask_amount[r],
        due=plans.repay_by[r],
    )
    s.stats.add("requests", len(r))


def gossip(s: Settlement) -> None:
    """Gossip passes on a claim about a third character, naming where it came from."""
    plans, r = s.plans, s.rows(Action.GOSSIP)
    s.out.add(
        Kind.GOSSIP,
        s.local[r],
        s.cp[r],
        decision=r,
        subject=plans.gossip_subject[r],
        source=plans.gossip_source[r],
        flag=plans.gossip_claim[r],
    )
    s.stats.add("gossip", len(r))


def remember_my_acts(s: Settlement) -> None:
    """I remember whether I cooperated with whom I dealt in person; the acts are counted."""
    chars, local, coop, stats = s.chars, s.local, s.coop, s.stats
    sit = s.batch.situation
    judged = rows_where((coop != 0) & (s.cp >= 0) & (sit != int(Situation.GROUP_CALL)))
    chars.rel_mine[local[judged], s.slot[judged]] = (coop[judged] > 0).astype(np.int8)
    stats.add("cooperative", int((coop > 0).sum()))
    stats.add("defecting", int((coop < 0).sum()))
    role = chars.role[local].astype(np.int64)
    stats.by_role[0] += np.bincount(role[coop > 0], minlength=stats.by_role.shape[1])
    stats.by_role[1] += np.bincount(role[coop < 0], minlength=stats.by_role.shape[1])


def standing(s: Settlement) -> None:
    """My standing moves a tenth of the way towards how I acted (1 cooperating, 0 not)."""
    acted = rows_where(s.coop != 0)
    updates.standing(s.chars.standing, s.local[acted], s.coop[acted] > 0)


def bystanders_see(s: Settlement) -> None:
    """A visible act towards someone is seen, at the observation rate, by one of my group."""
    batch, scenario = s.batch, s.scenario
    seen = rows_where(VISIBLE[s.action] & (s.cp >= 0))
    if len(seen) == 0:
        return
    draw = uniform(
        scenario.seed,
        Stream.OBSERVE,
        batch.actor[seen],
        s.tick,
        batch.situation[seen],
        s.cp[seen],
        batch.ref[seen],
    )
    witnesses_tell(s, seen[draw < scenario.information.observation_rate])


def witnesses_tell(s: Settlement, seen: np.ndarray) -> None:
    """One of the actor's group, drawn at random, is told what it saw (unless it is a party)."""
    if len(seen) == 0:
        return
    batch, population = s.batch, s.scenario.population
    size = population.group_size
    actor, cp = batch.actor[seen], s.cp[seen]
    first = (actor // size) * size
    members = np.minimum(size, population.size - first)
    draw = below(s.scenario.seed, Stream.OBSERVE, members, actor, s.tick, batch.ref[seen], cp, 1)
    witness = first + draw
    ok = (witness != actor) & (witness != cp)
    r = seen[ok]
    act_kind = SEEN_AS[s.action[r]]
    s.out.add(
        Kind.OBSERVATION,
        s.local[r],
        witness[ok],
        subject=s.cp[r],
        ref=act_kind,
        flag=(s.coop[r] > 0).astype(np.int64),
    )


def gave(
    s: Settlement,
    r: np.ndarray,
    good: np.ndarray,
    amount: np.ndarray,
    care: np.ndarray,
    loans: np.ndarray,
) -> None:
    """What I gave puts the other in my debt; a caring gift draws me closer. Gifts are counted."""
    local, slot = s.local[r], s.slot[r]
    scatter.add_at(s.chars.rel_balance, local, slot, (amount * PRICE[good]).astype(np.int32))
    scatter.add_at(s.chars.rel_att, local[care], slot[care], np.float32(0.05))
    s.stats.add("gifts", len(local))
    s.stats.add("care_gifts", int(care.sum()))
    s.stats.add("loans", int(loans.sum()))


def traded(s: Settlement, r: np.ndarray) -> None:
    """A trade made with someone is remembered and counted, with both sides' worth."""
    batch = s.batch
    scatter.add_at(s.chars.rel_trades, s.local[r], s.slot[r], 1)
    s.stats.add("trades", len(r))
    worth = (batch.amount[r] * PRICE[batch.good[r]]).sum() + (
        batch.amount2[r] * PRICE[batch.good2[r]]
    ).sum()
    s.stats.add("trade_volume", int(worth))
