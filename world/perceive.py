"""Perception: a shard's characters take in the envelopes addressed to them.

Goods arrive, feelings are appraised, trust and reputation move, promises are recorded, and
whatever calls for an answer (an offer, a request, an accusation, an apology) becomes a call for
a decision. Rows are handled in the canonical inbox order; updates that are not simple sums are
applied in rounds so that two envelopes between the same pair act one after the other.

`perceive` is the list of rules, one function per kind of envelope, applied in a fixed order
(the order of their updates is part of the world's state, and of its digest).
"""

from __future__ import annotations

import numpy as np

from protos import society_pb2 as pb
from world import emotion as emo
from world import memory
from world.acts import PromiseState, Situation
from world.arrays import each, rows_where
from world.characters import Characters
from world.delivery import Delivery
from world.economy import need as need_of
from world.kernels import scatter, slots, updates
from world.ledger import Promises
from world.outbox import Outgoing
from world.placement import Placement
from world.rng import Stream, uniform
from world.scenario import Scenario
from world.situations import Calls
from world.stats import TickStats
from world.vocab import N_KINDS, NORM_NAMES, NORM_TABLE, PRICE, Emotion, Kind, Trait, among
from world.wire import ANSWERS_COUNTER, CARE, LOAN, Mail

BETRAYAL = int(Kind.PROMISE_BROKEN)  # episode kinds are act kinds
BOOKKEEPING = among(N_KINDS, Kind.CONTRIBUTION, Kind.SHARE)  # not personal acts
BRINGS_GOODS = among(N_KINDS, Kind.GIFT, Kind.PROMISE_KEPT, Kind.TRADE_REPLY, Kind.SHARE)


def record_act(
    chars: Characters,
    local: np.ndarray,
    slot: np.ndarray,
    cooperated: np.ndarray | bool,
    weight: float,
    good_faith: float = 0.5,
) -> None:
    """A counterpart acted towards me: remember its move, add evidence, and judge it first-hand
    (to the one it was done to, cooperating is good and defecting bad, under every norm).
    `cooperated` is a flag a row, or one for them all."""
    n = len(local)
    if n == 0:
        return
    updates.record_act(
        chars.rel_theirs,
        chars.rel_pos,
        chars.rel_neg,
        chars.rel_rep,
        chars.rel_rep_n,
        chars.rel_rep_src,
        chars.cid,
        np.asarray(local, np.int64),
        np.asarray(slot, np.int64),
        each(cooperated, n, np.bool_),
        np.float32(good_faith),
        np.float32(weight),
    )


def judge(
    chars: Characters,
    local: np.ndarray,
    slot: np.ndarray,
    verdict: np.ndarray,
    weight: np.ndarray | float,
    source: np.ndarray,
) -> None:
    """Move each view of a reputation towards +1 (good) or -1 (bad) by `weight`, one row after
    another."""
    n = len(local)
    updates.judge(
        chars.rel_rep,
        chars.rel_rep_n,
        chars.rel_rep_src,
        np.asarray(local, np.int64),
        np.asarray(slot, np.int64),
        each(verdict, n, np.float32),
        each(weight, n, np.float32),
        each(source, n, np.int32),
    )


def trust_at(chars: Characters, local: np.ndarray, slot: np.ndarray) -> np.ndarray:
    pos = chars.rel_pos[local, slot]
    neg = chars.rel_neg[local, slot]
    return (pos + 1.0) / (pos + neg + 2.0)


def perceive(
    chars: Characters,
    scenario: Scenario,
    placement: Placement,
    tick: int,
    inbox: Mail,
    owed: Promises,
    owed_to: Promises,
    out: Outgoing,
    calls: Calls,
    stats: TickStats,
) -> np.ndarray:
    """Take in the inbox (canonically ordered). Returns, per inbox row, the recipient's slot
    for the sender (-1 where none was made), for the readings that follow."""
    n = len(inbox)
    if n == 0:
        return np.zeros(0, np.int64)
    d = Delivery.of(chars, scenario, placement, tick, inbox, owed_to, out, calls, stats)
    meet_the_sender(d)
    goods_arrive(d)
    gifts(d)
    promises_made_to_me(d)
    promises_kept_to_me(d)
    accused_of_breaking(d)
    trade_offers(d)
    trade_replies(d)
    gossip(d)
    apologies(d)
    forgiveness(d)
    words(d)
    requests(d)
    shares(d)
    contributions(d)
    observations(d)
    return d.slot


def meet_the_sender(d: Delivery) -> None:
    """Whoever wrote to me (bar bookkeeping) I now know; was my view of their standing right?"""
    chars = d.chars
    rows = rows_where(~BOOKKEEPING[d.kind])
    me, sender = d.me[rows], d.sender[rows]
    before = memory.find(chars, me, sender)
    judged, right = slots.views_right(
        chars.rel_rep_n, chars.rel_rep, me, before, d.true_standing[rows]
    )
    d.stats.add("reputation_judged", judged)
    d.stats.add("reputation_right", right)
    slot = memory.ensure(chars, me, sender, d.tick, found=before)
    d.slot[rows] = slot
    slots.met(chars.rel_meetings, chars.rel_seen, me, slot, d.tick)


def goods_arrive(d: Delivery) -> None:
    """Goods carried by gifts, kept promises, trade replies and shares become mine."""
    rows = rows_where(BRINGS_GOODS[d.kind])
    scatter.add_at(d.chars.goods, d.me[rows], d.good[rows], d.amount[rows].astype(np.int32))


def gifts(d: Delivery) -> None:
    """A gift gladdens (the more, if I am in need), warms, indebts me, and counts as cooperation."""
    rows = d.rows(Kind.GIFT)
    if len(rows) == 0:
        return
    chars, em = d.chars, d.chars.emotion
    lo, sl = d.me[rows], d.slot[rows]
    needy = need_of(chars, lo).astype(np.float32)
    emo.appraise(em, lo, Emotion.GRATITUDE, 0.25 + 0.25 * needy)
    emo.appraise(em, lo, Emotion.JOY, 0.15)
    scatter.add_at(chars.rel_gifts, lo, sl, 1)
    scatter.add_at(chars.rel_aff, lo, sl, np.float32(0.1))
    price = (d.amount[rows] * PRICE[d.good[rows]]).astype(np.int32)
    scatter.add_at(chars.rel_balance, lo, sl, -price)
    care = (d.flag[rows] & CARE) > 0
    scatter.add_at(chars.rel_att, lo[care], sl[care], np.float32(0.15))
    weight = d.scenario.information.observation_weight
    record_act(chars, lo, sl, True, weight, 1.0)
    memory.remember(chars, lo, Kind.GIFT, d.sender[rows], 0.3 + 0.4 * needy, 1.0, d.tick)
    loans_owed_back(d, rows[(d.flag[rows] & LOAN) > 0])


def loans_owed_back(d: Delivery, loans: np.ndarray) -> None:
    """A borrower promises to repay a loan by its agreed tick (at the earliest, the next one)."""
    if len(loans) == 0:
        return
    me, sender, good, amount = d.me[loans], d.sender[loans], d.good[loans], d.amount[loans]
    due = np.maximum(d.due[loans].astype(np.int64), d.tick + 1)
    h = d.out.add(
        Kind.PROMISE,
        me,
        sender,
        good=good,
        amount=amount,
        due=due,
        ref=d.seq[loans],
        flag=1,
    )
    d.out.promise(h, me, sender, good, amount, due, d.tick, 1)
    d.stats.add("promises_made", len(loans))
    scatter.add_at(d.chars.rel_open_out, me, d.slot[loans], 1)


def promises_made_to_me(d: Delivery) -> None:
    """A promise made to me goes into my ledger as open, to be kept or broken by its due tick."""
    rows = d.rows(Kind.PROMISE)
    if len(rows) == 0:
        return
    d.owed_to.append(
        promisor=d.sender[rows],
        seq=d.seq[rows],
        promisee=d.chars.cid[d.me[rows]],
        good=d.good[rows],
        amount=d.amount[rows],
        due=d.due[rows].astype(np.int64),
        made=d.tick - 1,
        state=PromiseState.OPEN,
        repayment=d.flag[rows] & 1,
    )
    scatter.add_at(d.chars.rel_open_in, d.me[rows], d.slot[rows], 1)


def promises_kept_to_me(d: Delivery) -> None:
    """A promise kept to me closes it in my ledger, gladdens me, and counts as cooperation."""
    rows = d.rows(Kind.PROMISE_KEPT)
    if len(rows) == 0:
        return
    chars, em = d.chars, d.chars.emotion
    lo, sl = d.me[rows], d.slot[rows]
    found = d.owed_to.find(d.sender[rows], d.ref[rows])
    hit = found >= 0
    d.owed_to.move(found[hit], PromiseState.KEPT)
    scatter.add_at(chars.rel_open_in, lo[hit], sl[hit], -1)
    scatter.add_at(chars.rel_kept, lo, sl, 1)
    emo.appraise(em, lo, Emotion.JOY, 0.15)
    emo.appraise(em, lo, Emotion.GRATITUDE, 0.1)
    weight = d.scenario.information.observation_weight
    record_act(chars, lo, sl, True, weight, 1.5)
    memory.remember(chars, lo, Kind.PROMISE_KEPT, d.sender[rows], 0.4, 1.0, d.tick)


def accused_of_breaking(d: Delivery) -> None:
    """Told I broke a promise, I am saddened (if agreeable) and must decide whether to apologize."""
    rows = d.rows(Kind.PROMISE_BROKEN)
    if len(rows) == 0:
        return
    lo = d.me[rows]
    emo.appraise(
        d.chars.emotion, lo, Emotion.SADNESS, 0.1 * d.chars.traits[lo, Trait.AGREEABLENESS]
    )
    d.calls.add(
        Situation.ACCUSED,
        lo,
        d.sender[rows],
        ref=d.ref[rows],
        good=d.good[rows],
        amount=d.amount[rows],
    )


def trade_offers(d: Delivery) -> None:
    """A trade offer waits for my answer; its goods are held in escrow until I give it."""
    rows = d.rows(Kind.TRADE_OFFER)
    d.calls.add(
        Situation.OFFER,
        d.me[rows],
        d.sender[rows],
        ref=d.seq[rows],
        good=d.good[rows],
        amount=d.amount[rows],
        good2=d.good2[rows],
        amount2=d.amount2[rows],
    )


def trade_replies(d: Delivery) -> None:
    """My offer accepted is a trade, rejected it saddens; a counter-offer awaits my answer."""
    rows = d.rows(Kind.TRADE_REPLY)
    if len(rows) == 0:
        return
    status = d.flag[rows] & 3
    lo, sl = d.me[rows], d.slot[rows]
    acc = status == pb.ACCEPT
    trade_accepted(d, rows[acc], lo[acc], sl[acc])
    rej = status == pb.REJECT
    emo.appraise(d.chars.emotion, lo[rej], Emotion.SADNESS, 0.05)
    ctr = rows[(status == pb.COUNTER) & ((d.flag[rows] & ANSWERS_COUNTER) == 0)]
    d.calls.add(
        Situation.COUNTER,
        d.me[ctr],
        d.sender[ctr],
        ref=d.seq[ctr],
        good=d.good2[ctr],
        amount=d.amount2[ctr],
        good2=d.good[ctr],
        amount2=d.amount[ctr],
    )


def trade_accepted(d: Delivery, rows: np.ndarray, lo: np.ndarray, sl: np.ndarray) -> None:
    """A fair trade (got >= 3/4 of what I gave) is cooperation and gladdens; unfair, it angers."""
    if len(rows) == 0:
        return
    chars, em = d.chars, d.chars.emotion
    scatter.add_at(chars.rel_trades, lo, sl, 1)
    got = d.amount[rows] * PRICE[d.good[rows]]
    gave = d.amount2[rows].astype(np.int64) * PRICE[d.good2[rows]]
    fair = got * 4 >= gave * 3
    emo.appraise(em, lo, Emotion.JOY, np.where(fair, 0.1, 0.0).astype(np.float32))
    emo.appraise(em, lo, Emotion.ANGER, np.where(fair, 0.0, 0.15).astype(np.float32))
    record_act(chars, lo, sl, fair, d.scenario.information.observation_weight * 0.5)
    scatter.add_at(chars.rel_balance, lo, sl, (gave - got).astype(np.int32))


def gossip(d: Delivery) -> None:
    """A claim about someone else moves my view of them, weighed by my trust in the teller."""
    rows = d.rows(Kind.GOSSIP)
    subject = d.subject.astype(np.int64)
    rows = rows[subject[rows] != d.chars.cid[d.me[rows]]]  # what is said of me is not weighed
    if len(rows) == 0:
        return
    lo = d.me[rows]
    trust = trust_at(d.chars, lo, d.slot[rows])
    about = memory.ensure(d.chars, lo, subject[rows], d.tick)
    verdict = np.where(d.flag[rows] == pb.GOOD, 1.0, -1.0)
    weight = d.scenario.information.gossip_weight * trust
    judge(d.chars, lo, about, verdict, weight, d.source[rows].astype(np.int64))


def apologies(d: Delivery) -> None:
    """An apology softens my anger already, and waits for my answer."""
    rows = d.rows(Kind.APOLOGY)
    if len(rows) == 0:
        return
    emo.soothe(d.chars.emotion, d.me[rows], Emotion.ANGER, 0.7)
    d.calls.add(Situation.APOLOGY, d.me[rows], d.sender[rows], ref=d.ref[rows])


def forgiveness(d: Delivery) -> None:
    """Forgiveness gladdens, eases sadness, warms me to the forgiver and counts as cooperation."""
    rows = d.rows(Kind.FORGIVENESS)
    if len(rows) == 0:
        return
    chars, em, lo, sl = d.chars, d.chars.emotion, d.me[rows], d.slot[rows]
    emo.appraise(em, lo, Emotion.JOY, 0.2)
    emo.soothe(em, lo, Emotion.SADNESS, 0.7)
    scatter.add_at(chars.rel_aff, lo, sl, np.float32(0.15))
    record_act(chars, lo, sl, True, d.scenario.information.observation_weight)


def words(d: Delivery) -> None:
    """A friendly word warms (the more joy shown, the more); a refusal stings, as a defection."""
    rows = d.rows(Kind.UTTERANCE)
    if len(rows) == 0:
        return
    chars, em = d.chars, d.chars.emotion
    declined = rows[(d.flag[rows] & 1) > 0]
    chatted = rows[(d.flag[rows] & 1) == 0]
    shown_joy = emo.unquantize(d.shown[chatted, Emotion.JOY])
    scatter.add_at(chars.rel_aff, d.me[chatted], d.slot[chatted], 0.03 + 0.05 * shown_joy)
    emo.appraise(em, d.me[declined], Emotion.SADNESS, 0.1)
    emo.appraise(em, d.me[declined], Emotion.ANGER, 0.05)
    record_act(
        chars,
        d.me[declined],
        d.slot[declined],
        False,
        d.scenario.information.observation_weight,
    )


def requests(d: Delivery) -> None:
    """A request waits for my answer; a plea (nothing to repay) marks the asker as in need."""
    rows = d.rows(Kind.REQUEST)
    if len(rows) == 0:
        return
    d.chars.rel_needy[d.me[rows], d.slot[rows]] = np.where(d.due[rows] == 0, d.tick, -1000)
    d.calls.add(
        Situation.REQUEST,
        d.me[rows],
        d.sender[rows],
        ref=d.seq[rows],
        good=d.good[rows],
        amount=d.amount[rows],
        due=d.due[rows],
    )


def shares(d: Delivery) -> None:
    """A share tells how many gave: my expectation follows; if I gave and few did, I am angered."""
    rows = d.rows(Kind.SHARE)
    if len(rows) == 0:
        return
    chars, lo = d.chars, d.me[rows]
    members = np.maximum(d.source[rows], 1).astype(np.float32)
    rate = d.subject[rows].astype(np.float32) / members
    chars.pg_expect[lo] = 0.7 * chars.pg_expect[lo] + 0.3 * rate
    cheated = (chars.contributed[lo] > 0) & (rate < 0.5)
    emo.appraise(chars.emotion, lo[cheated], Emotion.ANGER, 0.1)


def contributions(d: Delivery) -> None:
    """A collector multiplies its pot and splits it evenly over its group."""
    rows = d.rows(Kind.CONTRIBUTION)
    if len(rows) == 0:
        return
    pg, population = d.scenario.public_goods, d.scenario.population
    size = population.group_size
    good = int(getattr(pb, pg.good.upper()))
    collectors, where = np.unique(d.me[rows], return_inverse=True)
    pot = np.bincount(where, weights=d.amount[rows]).astype(np.int64)
    count = np.bincount(where).astype(np.int64)
    rnd = np.zeros(len(collectors), np.int64)
    rnd[where] = d.ref[rows]
    cid = d.chars.cid[collectors].astype(np.int64)
    first = cid - cid % size
    members = np.minimum(size, population.size - first)
    total = np.floor(pot * pg.multiplier).astype(np.int64)
    d.stats.produced[good] += int((total - pot).sum())
    row = np.repeat(np.arange(len(collectors)), members)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(members) - members, members)
    # the first members, in id order, get the indivisible remainder
    each = total[row] // members[row] + (offset < total[row] % members[row])
    d.out.add(
        Kind.SHARE,
        collectors[row],
        first[row] + offset,
        good=good,
        amount=each,
        ref=rnd[row],
        subject=count[row],
        source=members[row],
    )


def observations(d: Delivery) -> None:
    """A bystander judges what it saw under the norm, by the act and its view of the recipient."""
    rows = d.rows(Kind.OBSERVATION)
    if len(rows):
        chars, scenario, lo = d.chars, d.scenario, d.me[rows]
        recipient = d.subject[rows].astype(np.int64)
        rslot = memory.find(chars, lo, recipient)
        rview = np.zeros(len(rows), np.float32)
        known = rslot >= 0
        rview[known] = chars.rel_rep[lo[known], rslot[known]]
        rgood = (rview >= 0).astype(np.int64)
        coop = (d.flag[rows] & 1).astype(np.int64)
        norm = NORM_NAMES.index(scenario.norm)
        verdict = NORM_TABLE[norm, coop, rgood].astype(np.int64)
        # now and then a bystander misjudges (assessment noise)
        err = (
            uniform(
                scenario.seed, Stream.ASSESSMENT, chars.cid[lo], d.tick, d.sender[rows], d.seq[rows]
            )
            < scenario.noise.assessment
        )
        verdict = np.where(err, 1 - verdict, verdict)
        weight = scenario.information.observation_weight
        judge(chars, lo, d.slot[rows], np.where(verdict == 1, 1.0, -1.0), weight, chars.cid[lo])
    d.stats.add("observations", len(rows))
