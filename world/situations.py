"""Gathering the decisions of a tick: what each character is called to decide, what is legal,
and what each candidate action would concretely do (which goods, to whom).

Rows come from the inbox (offers, requests, accusations, apologies), from the ledger (promises
falling due), from the group's collection, and from encounters that follow the social
structure: someone already known, a neighbour, a member of one's group, or anyone at the market.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from protos import society_pb2 as pb
from world import economy, memory
from world.acts import SITUATION_ACTIONS, Action, Situation
from world.characters import Characters
from world.kernels import ordering, partners, slots
from world.kernels.plans import plan_goods
from world.minds.base import DecisionBatch
from world.population import roles_of
from world.rng import Draws, Stream, uniform
from world.scenario import Scenario
from world.vocab import PRICE, PRODUCTION, Boundary, Good, Role, Trait

PROMISE_DELAY = 3  # a promise answering a request falls due this many ticks later
LOAN_TERM = 8  # a loan is owed back this many ticks after it is asked for
RESERVE64 = economy.RESERVE.astype(np.int64)
MAX_OPEN_PROMISES = 3
_FIELDS = (
    "situation",
    "local",
    "counterpart",
    "ref",
    "good",
    "amount",
    "good2",
    "amount2",
    "due",
    "flag",
)


class Calls:
    """The decisions gathered so far this tick, as parts of columns."""

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        situation: Situation,
        local: np.ndarray,
        counterpart: np.ndarray,
        **cols: np.ndarray | int,
    ) -> None:
        n = len(local)
        if n == 0:
            return
        part: dict[str, np.ndarray] = {
            "situation": np.full(n, int(situation), np.int8),
            "local": np.asarray(local, np.int64),
            "counterpart": np.asarray(counterpart, np.int64),
        }
        for name in _FIELDS[3:]:
            v = cols.get(name, 0)
            part[name] = np.full(n, v, np.int64) if np.ndim(v) == 0 else np.asarray(v, np.int64)
        self._parts.append(part)

    def columns(self) -> dict[str, np.ndarray]:
        if not self._parts:
            return {f: np.zeros(0, np.int64) for f in _FIELDS}
        cols = {f: np.concatenate([p[f] for p in self._parts]) for f in _FIELDS}
        rest = np.stack((cols["situation"], cols["counterpart"], cols["ref"]), axis=1)
        order = ordering.lexical(cols["local"], rest.astype(np.int64, copy=False))
        return {f: v[order] for f, v in cols.items()}


@dataclasses.dataclass
class Plans:
    """What each row's candidate actions would do, decided by the world's rules."""

    gift_good: np.ndarray
    gift_amount: np.ndarray
    care: np.ndarray
    give_good: np.ndarray  # OFFER_TRADE: goods offered
    give_amount: np.ndarray
    want_good: np.ndarray  # OFFER_TRADE: goods wanted
    want_amount: np.ndarray
    ask_good: np.ndarray
    ask_amount: np.ndarray
    repay_by: np.ndarray
    gossip_subject: np.ndarray
    gossip_claim: np.ndarray
    gossip_source: np.ndarray
    counter_amount: np.ndarray  # OFFER: units of the wanted good offered back
    due: np.ndarray  # the row's own due/repay-by column
    flag: np.ndarray


def encounters(
    chars: Characters, scenario: Scenario, n_total: int, tick: int, calls: Calls
) -> None:
    """Who meets whom this tick, following the social structure."""
    n = len(chars)
    if n == 0:
        return
    enc = scenario.encounters
    seed = scenario.seed
    ids = chars.cid[:n].astype(np.int64)
    p = np.clip(enc.rate * (0.5 + chars.traits[:n, Trait.SOCIABILITY]), 0.0, 1.0)
    rows = np.flatnonzero(uniform(seed, Stream.ENCOUNTER, ids, tick) < p)
    if len(rows) == 0:
        return
    me = ids[rows]
    partner_draws = Draws(seed, Stream.PARTNER, me, tick)
    # someone known, the closer the likelier
    known, has_known = partners.known_partner(
        chars.rel_id,
        chars.rel_att,
        chars.rel_aff,
        chars.rel_meetings,
        rows,
        partner_draws.uniform(1),
    )
    weights = np.zeros((len(rows), 4))
    weights[:, 0] = enc.known * has_known
    weights[:, 1] = enc.neighbours
    weights[:, 2] = enc.group
    weights[:, 3] = enc.market
    total = weights.sum(axis=1)
    total = np.where(total > 0, total, 1.0)
    cum = np.cumsum(weights, axis=1) / total[:, None]
    way = (partner_draws.uniform(0)[:, None] >= cum).sum(axis=1)
    way = np.minimum(way, 3)
    # a neighbour
    offset = 1 + partner_draws.below(enc.radius, 2)
    sign = np.where(partner_draws.uniform(3) < 0.5, -1, 1)
    neighbour = (me + sign * offset) % n_total
    # a member of the group
    size = scenario.population.group_size
    first = chars.group[rows].astype(np.int64) * size  # the group it belongs to now (exile)
    members = np.maximum(np.minimum(size, n_total - first), 1)
    mate = first + partner_draws.below(members, 4)
    # anyone
    anyone = partner_draws.below(n_total, 5)
    partner = np.select([way == 0, way == 1, way == 2], [known, neighbour, mate], anyone)
    keep = (partner != me) & (partner >= 0) & (partner < n_total)  # (a group not yet joined)
    calls.add(Situation.ENCOUNTER, rows[keep], partner[keep])


def build(
    chars: Characters,
    scenario: Scenario,
    tick: int,
    calls: Calls,
    open_out: np.ndarray,
) -> tuple[DecisionBatch, Plans]:
    """The tick's DecisionBatch (rows in canonical order) and the plans behind its actions.

    `open_out` is the number of open promises each local character has made.
    """
    cols = calls.columns()
    m = len(cols["local"])
    local, cp, sit = cols["local"], cols["counterpart"], cols["situation"]
    seed = scenario.seed
    ids = chars.cid[local].astype(np.int64)
    slot = memory.find(chars, local, np.where(cp >= 0, cp, -2))
    legal = SITUATION_ACTIONS[sit].copy()
    goods = chars.goods[local].astype(np.int64)
    need = economy.need(chars, local)
    cp_role = _roles(scenario, cp)
    betrayed = slots.gather(chars.rel_betrayals, local, slot, 0.0)
    needy_seen = slots.gather(chars.rel_needy, local, slot, -1000.0)
    vulnerable = (cp_role == Role.CHILD) | (needy_seen >= tick - 3)
    bounds = chars.boundaries[local]
    refuses_betrayers = ((bounds >> Boundary.NEVER_DEALS_WITH_BETRAYERS) & 1).astype(bool) & (
        betrayed > 0
    )
    good, amount = cols["good"], cols["amount"]
    good2, amount2 = cols["good2"], cols["amount2"]
    gain = np.zeros(m)
    produces = PRODUCTION[chars.role[local], np.clip(good, 0, 4)] >= 0.3
    loan = np.zeros(m, bool)
    news = np.zeros(m, bool)

    # promise due: breaking is off-limits to those who never break their word
    due = sit == Situation.PROMISE_DUE
    never_break = ((bounds >> Boundary.NEVER_BREAKS_PROMISES) & 1).astype(bool)
    legal[due & never_break, Action.BREAK] = False

    # trade offers: accept or counter only with the goods wanted in hand
    offer = sit == Situation.OFFER
    counter_amount = np.zeros(m, np.int64)
    rows = np.flatnonzero(offer)
    if len(rows):
        have = goods[rows, good2[rows]]
        legal[rows, Action.ACCEPT] = have >= amount2[rows]
        fair = np.maximum(1, (amount[rows] * PRICE[good[rows]]) // PRICE[good2[rows]])
        counter_amount[rows] = np.minimum(fair, have)
        legal[rows, Action.COUNTER] = (counter_amount[rows] > 0) & (
            counter_amount[rows] < amount2[rows]
        )
        gain[rows] = _trade_gain(
            chars, local[rows], good[rows], amount[rows], good2[rows], amount2[rows]
        )
    countered = sit == Situation.COUNTER
    rows = np.flatnonzero(countered)
    if len(rows):
        # a counter offers good/amount and wants good2/amount2 (what I first offered)
        legal[rows, Action.ACCEPT] = goods[rows, good2[rows]] >= amount2[rows]
        gain[rows] = _trade_gain(
            chars, local[rows], good[rows], amount[rows], good2[rows], amount2[rows]
        )
    legal[(offer | countered) & refuses_betrayers, Action.ACCEPT] = False

    # requests: give what is asked if it is in hand; promise it if few promises are open
    req = sit == Situation.REQUEST
    rows = np.flatnonzero(req)
    if len(rows):
        legal[rows, Action.GIVE] = goods[rows, good[rows]] >= amount[rows]
        legal[rows, Action.PROMISE] = open_out[local[rows]] < MAX_OPEN_PROMISES
        loan[rows] = cols["due"][rows] > 0
        vulnerable[rows] |= ~loan[rows]
        # a betrayer gets nothing from one who never deals with betrayers (this boundary
        # comes first: it also overrides never refusing a child who betrayed it)
        legal[rows[refuses_betrayers[rows]], Action.GIVE] = False
        legal[rows[refuses_betrayers[rows]], Action.PROMISE] = False
        child = cp_role[rows] == Role.CHILD
        soft = ((bounds[rows] >> Boundary.NEVER_REFUSES_A_CHILD) & 1).astype(bool) & child
        legal[rows[soft & legal[rows, Action.GIVE]], Action.DECLINE] = False
        legal[rows[soft & legal[rows, Action.GIVE]], Action.PROMISE] = False

    # encounters: what could be given, traded, asked or told
    enc = sit == Situation.ENCOUNTER
    plans = _plans(m, cols, counter_amount)
    rows = np.flatnonzero(enc)
    if len(rows):
        _plan_encounters(
            chars,
            scenario,
            tick,
            local[rows],
            ids[rows],
            cp[rows],
            vulnerable[rows],
            need[rows],
            plans,
            rows,
            legal,
            news,
            gain,
        )
        legal[rows[refuses_betrayers[rows]], Action.GIFT] = False
        legal[rows[refuses_betrayers[rows]], Action.OFFER_TRADE] = False

    # nobody is left without a choice: the situation's last action pays nothing and is always
    # there (boundaries above only remove an answer when another one stays legal)
    stuck = ~legal.any(axis=1)
    if stuck.any():
        raise RuntimeError(
            f"no legal action for {int(stuck.sum())} decision(s), first: "
            f"{Situation(int(sit[stuck][0])).name}; a rule removed every answer"
        )
    batch = DecisionBatch(
        tick=tick,
        seed=seed,
        situation=sit,
        local=local,
        actor=ids,
        counterpart=cp,
        slot=slot,
        ref=cols["ref"],
        legal=legal,
        gain=gain,
        need=need,
        vulnerable=vulnerable,
        loan=loan,
        news=news,
        produces=produces,
        good=good,
        amount=amount,
        good2=good2,
        amount2=amount2,
        chars=chars,
    )
    return batch, plans


def _roles(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    out = np.full(len(ids), -1, np.int64)
    ok = ids >= 0
    out[ok] = roles_of(scenario, ids[ok])
    return out


def _trade_gain(
    chars: Characters,
    local: np.ndarray,
    g_in: np.ndarray,
    a_in: np.ndarray,
    g_out: np.ndarray,
    a_out: np.ndarray,
) -> np.ndarray:
    """What a deal is worth to the actor: value received (more if it needs the good, less if it
    has plenty) against value paid, relative to the value paid."""
    have = chars.goods[local].astype(np.int64)
    need_in = have[np.arange(len(local)), g_in] < economy.RESERVE[g_in]
    plenty_out = have[np.arange(len(local)), g_out] > 2 * economy.RESERVE[g_out]
    v_in = a_in * PRICE[g_in] * np.where(need_in, 1.5, 0.8)
    v_out = a_out * PRICE[g_out] * np.where(plenty_out, 0.7, 1.0)
    return (v_in - v_out) / np.maximum(v_out, 1)


def _plans(m: int, cols: dict[str, np.ndarray], counter_amount: np.ndarray) -> Plans:
    z = np.zeros(m, np.int64)
    return Plans(
        gift_good=z.copy(),
        gift_amount=z.copy(),
        care=np.zeros(m, bool),
        give_good=z.copy(),
        give_amount=z.copy(),
        want_good=z.copy(),
        want_amount=z.copy(),
        ask_good=z.copy(),
        ask_amount=z.copy(),
        repay_by=z.copy(),
        gossip_subject=np.full(m, -1, np.int64),
        gossip_claim=z.copy(),
        gossip_source=z.copy(),
        counter_amount=counter_amount,
        due=cols["due"],
        flag=cols["flag"],
    )


def _plan_encounters(
    chars,
    scenario,
    tick,
    local,
    ids,
    partner,
    vulnerable,
    need,
    plans,
    rows,
    legal,
    news,
    gain,
) -> None:
    # the gift, the trade and the ask this encounter could be (kernels/plans.py)
    plan_goods(
        chars.goods,
        chars.health,
        chars.hunger,
        chars.role,
        chars.traits[:, Trait.HONESTY],
        RESERVE64,
        PRICE,
        economy.SICK,
        int(Role.CHILD),
        int(Good.FOOD),
        int(Good.MEDICINE),
        int(Good.COIN),
        np.ascontiguousarray(local, np.int64),
        np.ascontiguousarray(rows, np.int64),
        np.ascontiguousarray(vulnerable, np.bool_),
        np.ascontiguousarray(need, np.float64),
        tick + LOAN_TERM,
        plans.gift_good,
        plans.gift_amount,
        plans.care,
        plans.give_good,
        plans.give_amount,
        plans.want_good,
        plans.want_amount,
        plans.ask_good,
        plans.ask_amount,
        plans.repay_by,
        legal,
        (int(Action.GIFT), int(Action.OFFER_TRADE), int(Action.ASK)),
        gain,
    )
    # gossip: the strongest view held of someone other than the partner
    if scenario.information.gossip:
        pick, strength = partners.gossip_subject(
            chars.rel_id, chars.rel_rep, chars.rel_rep_n, chars.rel_betrayals, local, partner
        )
        has = strength >= 0.3
        silent = ((chars.boundaries[local] >> Boundary.NEVER_GOSSIPS) & 1).astype(bool)
        subject = chars.rel_id[local, pick]
        view = chars.rel_rep[local, pick]
        betrayal = chars.rel_betrayals[local, pick] > 0
        claim = np.where(betrayal, pb.BETRAYED, np.where(view >= 0, pb.GOOD, pb.BAD))
        # a liar sometimes tells the opposite
        honest = chars.traits[local, Trait.HONESTY].astype(np.float64)
        liar = (
            uniform(scenario.seed, Stream.CHOICE, ids, tick, 99)
            < 0.5 * np.maximum(0.35 - honest, 0) / 0.35
        )
        claim = np.where(liar, np.where(claim == pb.GOOD, pb.BAD, pb.GOOD), claim)
        source = chars.rel_rep_src[local, pick]
        plans.gossip_subject[rows] = np.where(has, subject, -1)
        plans.gossip_claim[rows] = claim
        plans.gossip_source[rows] = np.where(source >= 0, source, ids)
        legal[rows, Action.GOSSIP] = has & ~silent
        news[rows] = has & ~silent
    else:
        legal[rows, Action.GOSSIP] = False
