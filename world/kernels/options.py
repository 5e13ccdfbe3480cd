"""What each decision row may do, one row at a time: the legal actions of its situation, less
those its boundaries or its larder rule out, with the worth of a trade on offer and what the
row knows of the counterpart (a child, or seen in need lately).

A promise falling due may not be broken by one who never breaks its word. An offer may be
accepted only with the goods wanted in hand, and countered with a fair amount below what was
asked; a counter may be accepted with the goods in hand. A request may be given only from
goods in hand, and promised only by one with few promises open; one who never deals with
betrayers neither accepts, gives nor promises to a betrayer (this comes first: it also
overrides never refusing a child), and one who never refuses a child may neither decline nor
promise what it can give a child now. An encounter's gift, trade, ask and gossip are
`plans.plan_goods`' and `partners.gossip_subject`'s.
"""

from __future__ import annotations

import numpy as np

from world.kernels import kernel


@kernel()
def options(
    goods: np.ndarray,
    boundaries: np.ndarray,
    role: np.ndarray,
    rel_betrayals: np.ndarray,
    rel_needy: np.ndarray,
    open_out: np.ndarray,
    situation_actions: np.ndarray,
    production: np.ndarray,
    price: np.ndarray,
    reserve: np.ndarray,
    tick: int,
    max_open: int,
    situations: tuple[int, int, int, int],
    acts: tuple[int, int, int, int, int, int],
    bits: tuple[int, int, int],
    child: int,
    sit: np.ndarray,
    local: np.ndarray,
    slot: np.ndarray,
    cp_role: np.ndarray,
    good: np.ndarray,
    amount: np.ndarray,
    good2: np.ndarray,
    amount2: np.ndarray,
    due: np.ndarray,
    legal: np.ndarray,
    gain: np.ndarray,
    vulnerable: np.ndarray,
    refuses: np.ndarray,
    loan: np.ndarray,
    produces: np.ndarray,
    counter_amount: np.ndarray,
) -> None:
    """Fill, for each row, `legal` (from `situation_actions`), `gain` (offers and counters),
    `vulnerable`, `refuses` (a betrayer facing one who never deals with betrayers), `loan`
    (requests to be repaid), `produces` and `counter_amount`. `situations` is (PROMISE_DUE,
    OFFER, COUNTER, REQUEST); `acts` (BREAK, ACCEPT, COUNTER, GIVE, PROMISE, DECLINE);
    `bits` the boundaries (never breaks promises, never deals with betrayers,
    never refuses a child). Gains are the float64 arithmetic of the numpy rule this replaced,
    in the same order."""
    s_due, s_offer, s_counter, s_request = situations
    a_break, a_accept, a_counter, a_give, a_promise, a_decline = acts
    b_never_break, b_no_betrayers, b_child = bits
    last_good = production.shape[1] - 1
    for i in range(len(sit)):
        lo, s, kind = local[i], slot[i], sit[i]
        for a in range(legal.shape[1]):
            legal[i, a] = situation_actions[kind, a]
        betrayed = rel_betrayals[lo, s] if s >= 0 else 0
        needy_seen = rel_needy[lo, s] if s >= 0 else -1000
        vulnerable[i] = cp_role[i] == child or needy_seen >= tick - 3
        bounds = np.int64(boundaries[lo])
        refuses[i] = ((bounds >> b_no_betrayers) & 1) == 1 and betrayed > 0
        produces[i] = production[role[lo], min(max(good[i], 0), last_good)] >= 0.3
        gain[i] = 0.0
        loan[i] = False
        counter_amount[i] = 0
        if kind == s_due:  # breaking is off-limits to those who never break their word
            if ((bounds >> b_never_break) & 1) == 1:
                legal[i, a_break] = False
        elif kind in (s_offer, s_counter):  # accept (or counter) only with the goods in hand
            # (a counter offers good/amount and wants good2/amount2: what was first offered)
            have = np.int64(goods[lo, good2[i]])
            legal[i, a_accept] = have >= amount2[i]
            if kind == s_offer:
                fair = max(1, (amount[i] * price[good[i]]) // price[good2[i]])
                counter_amount[i] = min(fair, have)
                legal[i, a_counter] = counter_amount[i] > 0 and counter_amount[i] < amount2[i]
            gain[i] = _trade_gain(
                goods, reserve, price, lo, good[i], amount[i], good2[i], amount2[i]
            )
            if refuses[i]:
                legal[i, a_accept] = False
        elif kind == s_request:  # give what is in hand; promise if few promises are open
            legal[i, a_give] = goods[lo, good[i]] >= amount[i]
            legal[i, a_promise] = open_out[lo] < max_open
            loan[i] = due[i] > 0
            if not loan[i]:
                vulnerable[i] = True
            if refuses[i]:  # first: it overrides never refusing a child who betrayed it
                legal[i, a_give] = False
                legal[i, a_promise] = False
            soft = ((bounds >> b_child) & 1) == 1 and cp_role[i] == child
            if soft and legal[i, a_give]:
                legal[i, a_decline] = False
                legal[i, a_promise] = False


@kernel(inline="always")
def _trade_gain(goods, reserve, price, lo, g_in, a_in, g_out, a_out):  # type: ignore[no-untyped-def]
    """What a deal is worth to the actor: value received (more if it needs the good, less if
    it has plenty) against value paid, relative to the value paid."""
    need_in = np.int64(goods[lo, g_in]) < reserve[g_in]
    plenty_out = np.int64(goods[lo, g_out]) > 2 * reserve[g_out]
    v_in = np.float64(a_in * price[g_in]) * (1.5 if need_in else 0.8)
    v_out = np.float64(a_out * price[g_out]) * (0.7 if plenty_out else 1.0)
    return (v_in - v_out) / max(v_out, 1.0)


@kernel()
def stuck(legal: np.ndarray) -> np.ndarray:
    """The rows of `legal` (rows, actions) with no legal action (what `~legal.any(axis=1)`
    marks, without numpy's reduction over a short axis)."""
    out = np.empty(legal.shape[0], np.int64)
    n = 0
    for i in range(legal.shape[0]):
        free = False
        for a in range(legal.shape[1]):
            if legal[i, a]:
                free = True
                break
        if not free:
            out[n] = i
            n += 1
    return out[:n]
