"""Making and using goods: production by role, food and cloth consumed by need, sickness and
medicine. Hardship is real: a character without food goes hungry and loses health, and a sick
one works at half strength until medicine heals it.
"""

from __future__ import annotations

import numpy as np

from world.characters import Characters
from world.rng import Stream, uniform
from world.scenario import Scenario
from world.stats import TickStats
from world.vocab import N_GOODS, PRODUCTION, Emotion, Good

#: Goods a character keeps for itself before it counts anything as surplus.
RESERVE = np.array([6, 1, 2, 1, 5], np.int32)
SICK = 0.5  # health below this is sickness


def sick(chars: Characters, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    return chars.health[rows] < SICK


def need(chars: Characters, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """How badly each character needs help, 0..1: hunger, an empty larder, untreated sickness."""
    goods = chars.goods[rows]
    short_food = np.clip((3 - goods[:, Good.FOOD]) / 3.0, 0.0, 1.0)
    untreated = (chars.health[rows] < SICK) & (goods[:, Good.MEDICINE] == 0)
    hungry = chars.hunger[rows] > 0
    return np.maximum.reduce([short_food, 0.8 * untreated, 1.0 * hungry]).astype(np.float64)


def live(
    chars: Characters,
    scenario: Scenario,
    tick: int,
    stats: TickStats,
    factor: np.ndarray | None = None,
) -> None:
    """One tick of work, eating, wear and health for every character of the shard; `factor`
    (per row) scales what each one makes (a famine or plenty: world/events.py)."""
    n = len(chars)
    if n == 0:
        return
    seed = scenario.seed
    ids = chars.cid[:n].astype(np.int64)
    goods = chars.goods
    is_sick = chars.health[:n] < SICK
    # work
    expected = PRODUCTION[chars.role[:n]] * scenario.economy.abundance
    expected = expected * (1.0 + 0.25 * (goods[:, Good.TOOLS] > 0))[:, None]
    expected = expected * np.where(is_sick, 0.5, 1.0)[:, None]
    if factor is not None:
        expected = expected * factor[:, None]
    u = uniform(seed, Stream.PRODUCE, ids[:, None], tick, np.arange(N_GOODS)[None, :])
    made = np.floor(expected + u).astype(np.int32)
    goods += made
    stats.produced += made.sum(axis=0)
    worker = expected.sum(axis=1) > 0
    wear = worker & (goods[:, Good.TOOLS] > 0) & (uniform(seed, Stream.WEAR, ids, tick) < 0.05)
    goods[wear, Good.TOOLS] -= 1
    stats.consumed[Good.TOOLS] += int(wear.sum())
    # eating
    fed = goods[:, Good.FOOD] > 0
    goods[fed, Good.FOOD] -= 1
    stats.consumed[Good.FOOD] += int(fed.sum())
    chars.hunger[:n] = np.where(fed, 0, np.minimum(chars.hunger[:n] + 1, 30000))
    chars.health[:n] = np.where(fed, chars.health[:n] + 0.02, chars.health[:n] - 0.08)
    # clothing wears out; without it the cold takes its toll
    worn = uniform(seed, Stream.WEAR, ids, tick, 1) < 0.04
    has_cloth = goods[:, Good.CLOTH] > 0
    goods[worn & has_cloth, Good.CLOTH] -= 1
    stats.consumed[Good.CLOTH] += int((worn & has_cloth).sum())
    chars.health[:n] -= np.where(worn & ~has_cloth, 0.02, 0.0).astype(np.float32)
    # sickness, and medicine
    falls = uniform(seed, Stream.SICKNESS, ids, tick) < scenario.economy.sickness * (
        1.0 + np.minimum(chars.hunger[:n], 5)
    )
    chars.health[:n] -= np.where(falls, 0.3, 0.0).astype(np.float32)
    treat = (chars.health[:n] < SICK) & (goods[:, Good.MEDICINE] > 0)
    goods[treat, Good.MEDICINE] -= 1
    stats.consumed[Good.MEDICINE] += int(treat.sum())
    chars.health[:n] += np.where(treat, 0.35, 0.0).astype(np.float32)
    np.clip(chars.health[:n], 0.0, 1.0, out=chars.health[:n])
    # food beyond the larder's size spoils
    excess = np.maximum(goods[:, Good.FOOD] - scenario.economy.spoil_above, 0)
    spoiled = np.floor(excess * 0.1 + uniform(seed, Stream.SPOIL, ids, tick)).astype(np.int32)
    spoiled = np.minimum(spoiled, excess)
    goods[:, Good.FOOD] -= spoiled
    stats.consumed[Good.FOOD] += int(spoiled.sum())
    # fear follows need
    n_need = need(chars)
    fear = chars.emotion[:n, Emotion.FEAR]
    np.maximum(fear, n_need.astype(np.float32) * 0.8, out=fear)
    stats.add("in_need", int((n_need >= 0.5).sum()))
    stats.add("hungry", int((chars.hunger[:n] > 0).sum()))
    stats.add("sick", int((chars.health[:n] < SICK).sum()))
