"""A tick of work, eating, wear and health for every character, in one pass (the rules are
`world/economy.py`'s; the random draws come in, drawn there from the characters' streams).
Floats are computed as numpy computed them before: production in float64, health in float32.
"""

from __future__ import annotations

import numpy as np

from world.kernels import kernel

_F32_FED = np.float32(0.02)
_F32_STARVED = np.float32(0.08)
_F32_COLD = np.float32(0.02)
_F32_FALL = np.float32(0.3)
_F32_CURE = np.float32(0.35)
_F32_FEAR = np.float32(0.8)
_F32_ZERO = np.float32(0.0)
_F32_ONE = np.float32(1.0)


@kernel(inline="always")
def _need(food, medicine, health, hunger, sick):  # type: ignore[no-untyped-def]
    """How badly one character needs help, 0..1 (float64): hunger, an empty larder,
    untreated sickness."""
    short_food = min(max((3 - np.int64(food)) / 3.0, 0.0), 1.0)
    untreated = 0.8 if (health < sick and medicine == 0) else 0.0
    hungry = 1.0 if hunger > 0 else 0.0
    return max(short_food, untreated, hungry)


@kernel()
def needs(
    goods: np.ndarray,
    health: np.ndarray,
    hunger: np.ndarray,
    rows: np.ndarray,
    food: int,
    medicine: int,
    sick: float,
) -> np.ndarray:
    """The need of each character of `rows` (float64)."""
    out = np.empty(len(rows), np.float64)
    for i in range(len(rows)):
        r = rows[i]
        out[i] = _need(goods[r, food], goods[r, medicine], health[r], hunger[r], sick)
    return out


@kernel()
def live(
    goods: np.ndarray,
    health: np.ndarray,
    hunger: np.ndarray,
    fear: np.ndarray,
    expected_by_role: np.ndarray,
    role: np.ndarray,
    factor: np.ndarray,
    made_draw: np.ndarray,
    tool_draw: np.ndarray,
    cloth_draw: np.ndarray,
    sick_draw: np.ndarray,
    spoil_draw: np.ndarray,
    goods_index: np.ndarray,
    sick: float,
    sickness: float,
    spoil_above: int,
    produced: np.ndarray,
    consumed: np.ndarray,
) -> tuple[int, int, int]:
    """Each character works (expected output: its role's, more with tools, half when sick,
    times `factor`; made: floor(expected + draw), `made_draw` a row a good), wears a tool
    (5%), eats (or goes hungry and weak), wears out clothes (4%; without any the cold harms
    it), may fall sick (more when hungry), takes medicine when sick, loses 10% of the food
    beyond `spoil_above`, and fears as much as it needs. `goods_index` is (food, tools, cloth,
    medicine). Adds what is made to `produced` and what is used or lost to `consumed`; returns
    the counts in need (>= 0.5), hungry and sick."""
    food, tools, cloth, medicine = goods_index[0], goods_index[1], goods_index[2], goods_index[3]
    width = goods.shape[1]
    in_need, hungry, ill = 0, 0, 0
    for i in range(len(role)):
        is_sick = health[i] < sick
        boost = 1.0 + 0.25 * (1.0 if goods[i, tools] > 0 else 0.0)
        strength = 0.5 if is_sick else 1.0
        worker = False
        for g in range(width):
            expected = expected_by_role[role[i], g] * boost * strength * factor[i]
            made = np.int32(np.floor(expected + made_draw[g, i]))
            goods[i, g] += made
            produced[g] += made
            worker = worker or expected > 0
        if worker and goods[i, tools] > 0 and tool_draw[i] < 0.05:
            goods[i, tools] -= 1
            consumed[tools] += 1
        h = health[i]
        if goods[i, food] > 0:
            goods[i, food] -= 1
            consumed[food] += 1
            hunger[i] = 0
            h = h + _F32_FED
        else:
            hunger[i] = min(hunger[i] + 1, 30000)
            h = h - _F32_STARVED
        if cloth_draw[i] < 0.04:
            if goods[i, cloth] > 0:
                goods[i, cloth] -= 1
                consumed[cloth] += 1
            else:
                h = h - _F32_COLD
        if sick_draw[i] < sickness * (1.0 + min(hunger[i], 5)):
            h = h - _F32_FALL
        if h < sick and goods[i, medicine] > 0:
            goods[i, medicine] -= 1
            consumed[medicine] += 1
            h = h + _F32_CURE
        health[i] = min(max(h, _F32_ZERO), _F32_ONE)
        excess = max(goods[i, food] - spoil_above, 0)
        spoiled = min(np.int32(np.floor(excess * 0.1 + spoil_draw[i])), excess)
        goods[i, food] -= spoiled
        consumed[food] += spoiled
        need = _need(goods[i, food], goods[i, medicine], health[i], hunger[i], sick)
        fear[i] = max(fear[i], np.float32(need) * _F32_FEAR)
        in_need += need >= 0.5
        hungry += hunger[i] > 0
        ill += health[i] < sick
    return in_need, hungry, ill
