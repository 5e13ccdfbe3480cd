"""What an encounter could concretely be, one row at a time: the gift (food for the vulnerable
when there is food to spare, else the most valuable spare good, at most 2), the trade (the most
valuable spare good for the good most needed, priced by the character's honesty) and the ask
(the good most needed; a plea, or a loan to repay). The gossip a row could carry is
`partners.gossip_subject`'s."""

from __future__ import annotations

import numpy as np

from world.kernels import kernel


@kernel()
def plan_goods(
    goods: np.ndarray,
    health: np.ndarray,
    hunger: np.ndarray,
    role: np.ndarray,
    honesty: np.ndarray,
    reserve: np.ndarray,
    price: np.ndarray,
    sick_below: float,
    child: int,
    food: int,
    medicine: int,
    coin: int,
    local: np.ndarray,
    rows: np.ndarray,
    vulnerable: np.ndarray,
    need: np.ndarray,
    repay_at: int,
    gift_good: np.ndarray,
    gift_amount: np.ndarray,
    care: np.ndarray,
    give_good: np.ndarray,
    give_amount: np.ndarray,
    want_good: np.ndarray,
    want_amount: np.ndarray,
    ask_good: np.ndarray,
    ask_amount: np.ndarray,
    repay_by: np.ndarray,
    legal: np.ndarray,
    acts: tuple[int, int, int],
    gain: np.ndarray,
) -> None:
    """For each encounter row `rows[i]` of character `local[i]`, fill the plan columns at
    `rows[i]`, whether a gift, a trade and an ask (`acts`) are legal, and the trade's gain
    (a row's ask is due back at `repay_at` unless it is a plea).
    Ties go to the first good, as numpy's argmax gives them; the trade's price is the float64
    arithmetic of the numpy rule it replaced, in the same order."""
    a_gift, a_trade, a_ask = acts
    n_goods = goods.shape[1]
    for i in range(len(local)):
        lo, r = local[i], rows[i]
        # the most valuable spare good
        best, best_value = 0, -1
        for g in range(n_goods):
            value = max(goods[lo, g] - reserve[g], 0) * price[g]
            if value > best_value:
                best, best_value = g, value
        spare_best = max(goods[lo, best] - reserve[best], 0)
        # a gift
        g = food if vulnerable[i] and goods[lo, food] - reserve[food] > 0 else best
        amount = min(max(goods[lo, g] - reserve[g], 0), 2)
        gift_good[r], gift_amount[r], care[r] = g, amount, vulnerable[i]
        legal[r, a_gift] = amount > 0
        # the good most needed (medicine when sick without it, food counts double, never coin)
        sick = health[lo] < sick_below
        want, want_lack = 0, -1.0
        for g in range(n_goods):
            lack = float(max(reserve[g] - goods[lo, g], 0))
            if g == medicine and sick and goods[lo, medicine] == 0:
                lack += 3.0
            if g == food:
                lack *= 2.0
            if g == coin:
                lack = 0.0
            if lack > want_lack:
                want, want_lack = g, lack
        # a trade
        units = 3 if want == food else 1
        greed = 0.4 * (1.0 - np.float64(honesty[lo]))
        raw = np.floor(np.float64(units * price[want]) * (1.0 - greed) / price[best] + 0.5)
        give = min(max(float(raw), 1.0), float(spare_best))
        ok = spare_best > 0 and best != want and goods[lo, want] < reserve[want]
        give_good[r], give_amount[r] = best, int(give)
        want_good[r], want_amount[r] = want, units
        legal[r, a_trade] = ok
        gain[r] = 0.5 if ok else 0.0
        # asking for help: a plea when sick, hungry or a child, else a loan
        ask_good[r], ask_amount[r] = want, 2 if want == food else 1
        plea = role[lo] == child or hunger[lo] > 0 or sick
        repay_by[r] = 0 if plea else repay_at
        legal[r, a_ask] = need[i] >= 0.3
