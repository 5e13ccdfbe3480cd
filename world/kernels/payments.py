"""What each decided act pays out of its actor's goods, funded in row (canonical) order.

An act pays a good and an amount by its kind: a promise kept or a request given pays what was
asked, accepting an offer or a counter pays the goods wanted for it, a counter pays the amount
it offers, a contribution the group's good and amount, a gift or a trade offer what its plan
holds. A payment is funded when what the actor has spent of that good in this call so far,
this payment included and whether or not the earlier ones were funded, is at most what it held
before the call; an act paying nothing is always funded. Funded payments leave the goods.
"""

from __future__ import annotations

import numpy as np

from world.kernels import kernel


@kernel()
def pay(
    goods: np.ndarray,
    acts: tuple[int, int, int, int, int, int, int],
    situations: tuple[int, int],
    pg_good: int,
    pg_amount: int,
    action: np.ndarray,
    sit: np.ndarray,
    local: np.ndarray,
    good: np.ndarray,
    amount: np.ndarray,
    good2: np.ndarray,
    amount2: np.ndarray,
    counter_amount: np.ndarray,
    gift_good: np.ndarray,
    gift_amount: np.ndarray,
    give_good: np.ndarray,
    give_amount: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's (amount paid, funded), the funded amounts taken from `goods` (the amount is 0
    where unfunded). `acts` is (KEEP, ACCEPT, COUNTER, GIVE, CONTRIBUTE, GIFT, OFFER_TRADE);
    `situations` (OFFER, COUNTER)."""
    keep, accept, counter, give, contribute, gift, offer_trade = acts
    offer, countered = situations
    m = len(action)
    pay_good = np.zeros(m, np.int64)
    asked = np.zeros(m, np.int64)
    funded = np.ones(m, np.bool_)
    for i in range(m):
        a = action[i]
        g, n = 0, 0
        if a in (keep, give):
            g, n = good[i], amount[i]
        elif a == accept:
            if sit[i] in (offer, countered):
                g, n = good2[i], amount2[i]
        elif a == counter:
            g, n = good2[i], counter_amount[i]
        elif a == contribute:
            g, n = pg_good, pg_amount
        elif a == gift:
            g, n = gift_good[i], gift_amount[i]
        elif a == offer_trade:
            g, n = give_good[i], give_amount[i]
        pay_good[i], asked[i] = g, n
        if n != 0:
            # what is left of the goods held before the call after every earlier payment asked
            # (funded or not): this one is funded if it fits
            left = np.int64(goods[local[i], g])
            funded[i] = n <= left
            goods[local[i], g] = left - n
    for i in range(m):  # an unfunded payment never left
        if not funded[i]:
            goods[local[i], pay_good[i]] += asked[i]
            asked[i] = 0
    return asked, funded
