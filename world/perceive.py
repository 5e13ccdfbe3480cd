"""Perception: a shard's characters take in the envelopes addressed to them.

Goods arrive, feelings are appraised, trust and reputation move, promises are recorded, and
whatever calls for an answer (an offer, a request, an accusation, an apology) becomes a call for
a decision. Rows are handled in the canonical inbox order; updates that are not simple sums are
applied in rounds so that two envelopes between the same pair act one after the other.
"""

from __future__ import annotations

import numpy as np

from protos import society_pb2 as pb
from world import emotion as emo
from world import memory
from world.acts import PromiseState, Situation
from world.characters import Characters
from world.economy import need as need_of
from world.ledger import Promises
from world.outbox import Outgoing
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
    cooperated: np.ndarray,
    weight: float,
    good_faith: float = 0.5,
) -> None:
    """A counterpart acted towards me: remember its move, add evidence, and judge it first-hand
    (to the one it was done to, cooperating is good and defecting bad, under every norm)."""
    if len(local) == 0:
        return
    coop = np.asarray(cooperated, bool)
    chars.rel_theirs[local, slot] = coop.astype(np.int8)
    np.add.at(chars.rel_pos, (local[coop], slot[coop]), np.float32(good_faith))
    np.add.at(chars.rel_neg, (local[~coop], slot[~coop]), np.float32(good_faith))
    judge(chars, local, slot, np.where(coop, 1.0, -1.0), weight, chars.cid[local])


def judge(
    chars: Characters,
    local: np.ndarray,
    slot: np.ndarray,
    verdict: np.ndarray,
    weight: np.ndarray | float,
    source: np.ndarray,
) -> None:
    """Move each view of a reputation towards +1 (good) or -1 (bad) by `weight`, in rounds."""
    verdict = np.asarray(verdict, np.float32)
    w = np.broadcast_to(np.asarray(weight, np.float32), verdict.shape)
    src = np.broadcast_to(np.asarray(source, np.int32), verdict.shape)
    for rnd in memory.rounds(local.astype(np.int64) * 4096 + slot):
        lo, sl = local[rnd], slot[rnd]
        rep = chars.rel_rep[lo, sl]
        chars.rel_rep[lo, sl] = rep + w[rnd] * (verdict[rnd] - rep)
        chars.rel_rep_n[lo, sl] = np.minimum(chars.rel_rep_n[lo, sl] + 1, 30000)
        chars.rel_rep_src[lo, sl] = src[rnd]


def trust_at(chars: Characters, local: np.ndarray, slot: np.ndarray) -> np.ndarray:
    pos = chars.rel_pos[local, slot]
    neg = chars.rel_neg[local, slot]
    return (pos + 1.0) / (pos + neg + 2.0)


def perceive(
    chars: Characters,
    scenario: Scenario,
    n_shards: int,
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
    info = scenario.information
    kind = inbox.kind[:n]
    me = (inbox.recipient[:n] // n_shards).astype(np.int64)
    sender = inbox.sender[:n].astype(np.int64)
    good = inbox.good[:n].astype(np.int64)
    amount = inbox.amount[:n].astype(np.int64)
    flag = inbox.flag[:n].astype(np.int64)
    ref = inbox.ref[:n].astype(np.int64)
    em = chars.emotion
    traits = chars.traits

    # everyone who addressed me is someone I now know (bar the group's bookkeeping)
    personal = ~BOOKKEEPING[kind]
    slot = np.full(n, -1, np.int64)
    rows = np.flatnonzero(personal)
    # how right was my view of the sender's standing, when it came to dealing with them?
    before = memory.find(chars, me[rows], sender[rows])
    judged = before >= 0
    judged[judged] = chars.rel_rep_n[me[rows][judged], before[judged]] > 0
    view_good = chars.rel_rep[me[rows][judged], before[judged]] >= 0
    stats.add("reputation_judged", int(judged.sum()))
    stats.add(
        "reputation_right", int((view_good == (inbox.true_standing[:n][rows][judged] > 0)).sum())
    )
    slot[rows] = memory.ensure(chars, me[rows], sender[rows], tick, found=before)
    np.add.at(chars.rel_meetings, (me[rows], slot[rows]), 1)
    chars.rel_seen[me[rows], slot[rows]] = tick

    # goods that arrive: gifts, kept promises, trade replies, shares
    arrive = BRINGS_GOODS[kind]
    rows = np.flatnonzero(arrive)
    np.add.at(chars.goods, (me[rows], good[rows]), amount[rows].astype(np.int32))

    # gifts
    rows = np.flatnonzero(kind == Kind.GIFT)
    if len(rows):
        lo, sl = me[rows], slot[rows]
        needy = need_of(chars, lo).astype(np.float32)
        emo.appraise(em, lo, Emotion.GRATITUDE, 0.25 + 0.25 * needy)
        emo.appraise(em, lo, Emotion.JOY, 0.15)
        np.add.at(chars.rel_gifts, (lo, sl), 1)
        np.add.at(chars.rel_aff, (lo, sl), np.float32(0.1))
        np.add.at(chars.rel_balance, (lo, sl), -(amount[rows] * PRICE[good[rows]]).astype(np.int32))
        care = (flag[rows] & CARE) > 0
        np.add.at(chars.rel_att, (lo[care], sl[care]), np.float32(0.15))
        record_act(chars, lo, sl, np.ones(len(rows), bool), info.observation_weight, 1.0)
        memory.remember(chars, lo, Kind.GIFT, sender[rows], 0.3 + 0.4 * needy, 1.0, tick)
        # a loan is owed back: the borrower promises repayment by the agreed tick
        loans = rows[(flag[rows] & LOAN) > 0]
        if len(loans):
            due = np.maximum(inbox.due[:n][loans].astype(np.int64), tick + 1)
            h = out.add(
                Kind.PROMISE,
                me[loans],
                sender[loans],
                good=good[loans],
                amount=amount[loans],
                due=due,
                ref=inbox.seq[:n][loans],
                flag=1,
            )
            out.promise(h, me[loans], sender[loans], good[loans], amount[loans], due, tick, 1)
            stats.add("promises_made", len(loans))
            np.add.at(chars.rel_open_out, (me[loans], slot[loans]), 1)

    # promises made to me
    rows = np.flatnonzero(kind == Kind.PROMISE)
    if len(rows):
        owed_to.append(
            promisor=sender[rows],
            seq=inbox.seq[:n][rows],
            promisee=chars.cid[me[rows]],
            good=good[rows],
            amount=amount[rows],
            due=inbox.due[:n][rows].astype(np.int64),
            made=tick - 1,
            state=PromiseState.OPEN,
            repayment=flag[rows] & 1,
        )
        np.add.at(chars.rel_open_in, (me[rows], slot[rows]), 1)

    # promises kept to me
    rows = np.flatnonzero(kind == Kind.PROMISE_KEPT)
    if len(rows):
        lo, sl = me[rows], slot[rows]
        found = owed_to.find(sender[rows], ref[rows])
        hit = found >= 0
        owed_to.move(found[hit], PromiseState.KEPT)
        np.add.at(chars.rel_open_in, (lo[hit], sl[hit]), -1)
        np.add.at(chars.rel_kept, (lo, sl), 1)
        emo.appraise(em, lo, Emotion.JOY, 0.15)
        emo.appraise(em, lo, Emotion.GRATITUDE, 0.1)
        record_act(chars, lo, sl, np.ones(len(rows), bool), info.observation_weight, 1.5)
        memory.remember(chars, lo, Kind.PROMISE_KEPT, sender[rows], 0.4, 1.0, tick)

    # told that I broke a promise: I must decide whether to apologize
    rows = np.flatnonzero(kind == Kind.PROMISE_BROKEN)
    if len(rows):
        emo.appraise(em, me[rows], Emotion.SADNESS, 0.1 * traits[me[rows], Trait.AGREEABLENESS])
        calls.add(
            Situation.ACCUSED,
            me[rows],
            sender[rows],
            ref=ref[rows],
            good=good[rows],
            amount=amount[rows],
        )

    # trade offers wait for my answer; their goods are held in escrow until I give it
    rows = np.flatnonzero(kind == Kind.TRADE_OFFER)
    calls.add(
        Situation.OFFER,
        me[rows],
        sender[rows],
        ref=inbox.seq[:n][rows],
        good=good[rows],
        amount=amount[rows],
        good2=inbox.good2[:n][rows],
        amount2=inbox.amount2[:n][rows],
    )

    # answers to my offers and counters
    rows = np.flatnonzero(kind == Kind.TRADE_REPLY)
    if len(rows):
        status = flag[rows] & 3
        lo, sl = me[rows], slot[rows]
        acc = status == pb.ACCEPT
        a = rows[acc]
        if len(a):
            np.add.at(chars.rel_trades, (lo[acc], sl[acc]), 1)
            got = amount[a] * PRICE[good[a]]
            gave = inbox.amount2[:n][a].astype(np.int64) * PRICE[inbox.good2[:n][a]]
            fair = got * 4 >= gave * 3
            emo.appraise(em, lo[acc], Emotion.JOY, np.where(fair, 0.1, 0.0).astype(np.float32))
            emo.appraise(em, lo[acc], Emotion.ANGER, np.where(fair, 0.0, 0.15).astype(np.float32))
            record_act(chars, lo[acc], sl[acc], fair, info.observation_weight * 0.5)
            np.add.at(chars.rel_balance, (lo[acc], sl[acc]), (gave - got).astype(np.int32))
        rej = status == pb.REJECT
        emo.appraise(em, lo[rej], Emotion.SADNESS, 0.05)
        ctr = rows[(status == pb.COUNTER) & ((flag[rows] & ANSWERS_COUNTER) == 0)]
        calls.add(
            Situation.COUNTER,
            me[ctr],
            sender[ctr],
            ref=inbox.seq[:n][ctr],
            good=inbox.good2[:n][ctr],
            amount=inbox.amount2[:n][ctr],
            good2=good[ctr],
            amount2=amount[ctr],
        )

    # gossip: a claim about a third character, weighed by how much I trust the teller
    rows = np.flatnonzero(kind == Kind.GOSSIP)
    subject = inbox.subject[:n].astype(np.int64)
    rows = rows[subject[rows] != chars.cid[me[rows]]]
    if len(rows):
        lo = me[rows]
        trust = trust_at(chars, lo, slot[rows])
        about = memory.ensure(chars, lo, subject[rows], tick)
        verdict = np.where(flag[rows] == pb.GOOD, 1.0, -1.0)
        judge(
            chars,
            lo,
            about,
            verdict,
            info.gossip_weight * trust,
            inbox.source[:n][rows].astype(np.int64),
        )

    # apologies wait for my answer; they soften anger already
    rows = np.flatnonzero(kind == Kind.APOLOGY)
    if len(rows):
        emo.soothe(em, me[rows], Emotion.ANGER, 0.7)
        calls.add(Situation.APOLOGY, me[rows], sender[rows], ref=ref[rows])

    # forgiveness received
    rows = np.flatnonzero(kind == Kind.FORGIVENESS)
    if len(rows):
        emo.appraise(em, me[rows], Emotion.JOY, 0.2)
        emo.soothe(em, me[rows], Emotion.SADNESS, 0.7)
        np.add.at(chars.rel_aff, (me[rows], slot[rows]), np.float32(0.15))
        record_act(chars, me[rows], slot[rows], np.ones(len(rows), bool), info.observation_weight)

    # words: a friendly word warms, a refusal stings
    rows = np.flatnonzero(kind == Kind.UTTERANCE)
    if len(rows):
        declined = rows[(flag[rows] & 1) > 0]
        chatted = rows[(flag[rows] & 1) == 0]
        shown_joy = emo.unquantize(inbox.shown[:n][chatted, Emotion.JOY])
        np.add.at(chars.rel_aff, (me[chatted], slot[chatted]), 0.03 + 0.05 * shown_joy)
        emo.appraise(em, me[declined], Emotion.SADNESS, 0.1)
        emo.appraise(em, me[declined], Emotion.ANGER, 0.05)
        record_act(
            chars,
            me[declined],
            slot[declined],
            np.zeros(len(declined), bool),
            info.observation_weight,
        )

    # requests wait for my answer; the asker is in need
    rows = np.flatnonzero(kind == Kind.REQUEST)
    if len(rows):
        chars.rel_needy[me[rows], slot[rows]] = np.where(inbox.due[:n][rows] == 0, tick, -1000)
        calls.add(
            Situation.REQUEST,
            me[rows],
            sender[rows],
            ref=inbox.seq[:n][rows],
            good=good[rows],
            amount=amount[rows],
            due=inbox.due[:n][rows],
        )

    # shares of the common project tell me how many contributed
    rows = np.flatnonzero(kind == Kind.SHARE)
    if len(rows):
        lo = me[rows]
        members = np.maximum(inbox.source[:n][rows], 1).astype(np.float32)
        rate = inbox.subject[:n][rows].astype(np.float32) / members
        chars.pg_expect[lo] = 0.7 * chars.pg_expect[lo] + 0.3 * rate
        cheated = (chars.contributed[lo] > 0) & (rate < 0.5)
        emo.appraise(em, lo[cheated], Emotion.ANGER, 0.1)

    # the group's collector pays each member a share of the multiplied pot
    rows = np.flatnonzero(kind == Kind.CONTRIBUTION)
    if len(rows):
        _pay_shares(chars, scenario, tick, me[rows], amount[rows], ref[rows], out, stats)

    # bystanders judge what they saw, under the norm, with their view of the recipient
    rows = np.flatnonzero(kind == Kind.OBSERVATION)
    if len(rows):
        lo = me[rows]
        recipient = inbox.subject[:n][rows].astype(np.int64)
        rslot = memory.find(chars, lo, recipient)
        rview = np.zeros(len(rows), np.float32)
        known = rslot >= 0
        rview[known] = chars.rel_rep[lo[known], rslot[known]]
        rgood = (rview >= 0).astype(np.int64)
        coop = (flag[rows] & 1).astype(np.int64)
        norm = NORM_NAMES.index(scenario.norm)
        verdict = NORM_TABLE[norm, coop, rgood].astype(np.int64)
        err = (
            uniform(
                scenario.seed,
                Stream.ASSESSMENT,
                chars.cid[lo],
                tick,
                sender[rows],
                inbox.seq[:n][rows],
            )
            < scenario.noise.assessment
        )
        verdict = np.where(err, 1 - verdict, verdict)
        judge(
            chars,
            lo,
            slot[rows],
            np.where(verdict == 1, 1.0, -1.0),
            info.observation_weight,
            chars.cid[lo],
        )
    stats.add("observations", len(rows))
    return slot


def _pay_shares(
    chars: Characters,
    scenario: Scenario,
    tick: int,
    collector: np.ndarray,
    amount: np.ndarray,
    round_: np.ndarray,
    out: Outgoing,
    stats: TickStats,
) -> None:
    """Each collector sums its pot, multiplies it, and splits it evenly over its group (the
    first members, in id order, get the indivisible remainder)."""
    pg = scenario.public_goods
    size = scenario.population.group_size
    n_total = scenario.population.size
    good = int(getattr(pb, pg.good.upper()))
    collectors, where = np.unique(collector, return_inverse=True)
    pot = np.bincount(where, weights=amount).astype(np.int64)
    count = np.bincount(where).astype(np.int64)
    rnd = np.zeros(len(collectors), np.int64)
    rnd[where] = round_
    cid = chars.cid[collectors].astype(np.int64)
    first = cid - cid % size
    members = np.minimum(size, n_total - first)
    total = np.floor(pot * pg.multiplier).astype(np.int64)
    stats.produced[good] += int((total - pot).sum())
    row = np.repeat(np.arange(len(collectors)), members)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(members) - members, members)
    each = total[row] // members[row] + (offset < total[row] % members[row])
    out.add(
        Kind.SHARE,
        collectors[row],
        first[row] + offset,
        good=good,
        amount=each,
        ref=rnd[row],
        subject=count[row],
        source=members[row],
    )
