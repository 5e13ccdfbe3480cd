"""Gathering the decisions of a tick: what each character is called to decide, what is legal,
and what each candidate action would concretely do (which goods, to whom).

Rows come from the inbox (offers, requests, accusations, apologies), from the ledger (promises
falling due), from the group's collection, and from encounters that follow the social
structure: someone already known, a neighbour, a member of one's group, or anyone at the market.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from protos import society_pb2 as pb
from world import economy, memory
from world.acts import N_ACTIONS, SITUATION_ACTIONS, Action, Situation
from world.arrays import Parts, rows_where, side_by_side
from world.characters import Characters
from world.kernels import options, ordering, partners
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
#: What kernels/options.py is told of the situations, actions and boundaries it rules on.
_SITUATIONS = (
    int(Situation.PROMISE_DUE),
    int(Situation.OFFER),
    int(Situation.COUNTER),
    int(Situation.REQUEST),
)
_ACTS = (
    int(Action.BREAK),
    int(Action.ACCEPT),
    int(Action.COUNTER),
    int(Action.GIVE),
    int(Action.PROMISE),
    int(Action.DECLINE),
)
_BITS = (
    int(Boundary.NEVER_BREAKS_PROMISES),
    int(Boundary.NEVER_DEALS_WITH_BETRAYERS),
    int(Boundary.NEVER_REFUSES_A_CHILD),
)
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
        self._parts = Parts()

    def add(
        self,
        situation: Situation,
        local: np.ndarray,
        counterpart: np.ndarray,
        **cols: np.ndarray | int,
    ) -> None:
        if len(local):
            self._parts.add(
                len(local),
                {"situation": int(situation), "local": local, "counterpart": counterpart, **cols},
            )

    def columns(self) -> dict[str, np.ndarray]:
        if not len(self._parts):
            return {f: np.zeros(0, np.int64) for f in _FIELDS}
        cols = {
            f: self._parts.column(f, 0, np.int8 if f == "situation" else np.int64) for f in _FIELDS
        }
        rest = side_by_side(cols["situation"], cols["counterpart"], cols["ref"])
        order = ordering.lexical(cols["local"], rest)
        return {f: v.take(order) for f, v in cols.items()}


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
    rows = rows_where(uniform(seed, Stream.ENCOUNTER, ids, tick) < p)
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
    # the way it meets someone (someone known, a neighbour, a group-mate, anyone) and whom
    met, partner = partners.partner(
        rows,
        me,
        known,
        has_known,
        chars.group,
        np.array([enc.known, enc.neighbours, enc.group, enc.market], np.float64),
        partner_draws.uniform_each((0, 2, 3, 4, 5)),
        int(enc.radius),
        int(scenario.population.group_size),
        int(n_total),
    )
    calls.add(Situation.ENCOUNTER, met, partner)


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
    good, amount, good2, amount2 = cols["good"], cols["amount"], cols["good2"], cols["amount2"]
    seed = scenario.seed
    ids = chars.cid[local].astype(np.int64)
    slot = memory.find(chars, local, np.where(cp >= 0, cp, -2))
    need = economy.need(chars, local)
    a = allowed(chars, tick, open_out, cols, slot, _roles(scenario, cp))
    legal, gain, vulnerable, loan, produces = a.legal, a.gain, a.vulnerable, a.loan, a.produces
    refuses_betrayers = a.refuses_betrayers
    news = np.zeros(m, bool)

    # encounters: what could be given, traded, asked or told
    enc = sit == int(Situation.ENCOUNTER)
    plans = _plans(m, cols, a.counter_amount)
    rows = rows_where(enc)
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
    stuck = options.stuck(legal)
    if len(stuck):
        raise RuntimeError(
            f"no legal action for {len(stuck)} decision(s), first: "
            f"{Situation(int(sit[stuck[0]])).name}; a rule removed every answer"
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


class Allowed(NamedTuple):
    """What each decision row may do (`legal`) and what it knows of its deal and counterpart."""

    legal: np.ndarray  # (rows, N_ACTIONS) bool
    gain: np.ndarray  # offers and counters: the deal's worth to the actor (0 elsewhere)
    vulnerable: np.ndarray  # the counterpart is a child, or was seen in need lately
    refuses_betrayers: np.ndarray  # the counterpart betrayed one who never deals with betrayers
    loan: np.ndarray  # a request to be repaid
    produces: np.ndarray  # the actor produces the good in question
    counter_amount: np.ndarray  # offers: what a counter would offer back


def allowed(
    chars: Characters,
    tick: int,
    open_out: np.ndarray,
    cols: dict[str, np.ndarray],
    slot: np.ndarray,
    cp_role: np.ndarray,
) -> Allowed:
    """The rules on promises due, offers, counters and requests (kernels/options.py) for the
    rows `cols` (Calls.columns), whose counterparts sit in `slot` and have roles `cp_role`."""
    m = len(cols["local"])
    out = Allowed(
        legal=np.empty((m, N_ACTIONS), bool),
        gain=np.empty(m),
        vulnerable=np.empty(m, bool),
        refuses_betrayers=np.empty(m, bool),
        loan=np.empty(m, bool),
        produces=np.empty(m, bool),
        counter_amount=np.empty(m, np.int64),
    )
    options.options(
        chars.goods,
        chars.boundaries,
        chars.role,
        chars.rel_betrayals,
        chars.rel_needy,
        np.ascontiguousarray(open_out, np.int64),
        SITUATION_ACTIONS,
        PRODUCTION,
        PRICE,
        RESERVE64,
        int(tick),
        MAX_OPEN_PROMISES,
        _SITUATIONS,
        _ACTS,
        _BITS,
        int(Role.CHILD),
        cols["situation"],
        cols["local"],
        np.ascontiguousarray(slot, np.int64),
        np.ascontiguousarray(cp_role, np.int64),
        cols["good"],
        cols["amount"],
        cols["good2"],
        cols["amount2"],
        cols["due"],
        *out,
    )
    return out


def _roles(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    out = np.full(len(ids), -1, np.int64)
    ok = ids >= 0
    out[ok] = roles_of(scenario, ids[ok])
    return out


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
        partners.gossip(
            chars.rel_id,
            chars.rel_rep,
            chars.rel_rep_n,
            chars.rel_betrayals,
            chars.rel_rep_src,
            chars.boundaries,
            chars.traits[:, Trait.HONESTY],
            int(Boundary.NEVER_GOSSIPS),
            (int(pb.GOOD), int(pb.BAD), int(pb.BETRAYED)),
            local,
            partner,
            ids,
            uniform(scenario.seed, Stream.CHOICE, ids, tick, 99),
            rows,
            plans.gossip_subject,
            plans.gossip_claim,
            plans.gossip_source,
            legal,
            int(Action.GOSSIP),
            news,
        )
    else:
        legal[rows, Action.GOSSIP] = False
