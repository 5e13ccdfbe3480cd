"""`kernels/living.py` gives exactly what the numpy economy it replaced gave: the same goods,
health, hunger and fear, the same goods produced and consumed and the same counts, for the
rich and the destitute, the sick with and without medicine, the hungry, the cold, hoarders
whose food spoils, a famine's factor and a world of plenty. The reference is the replaced
numpy code, kept here only as a reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from world import economy
from world.characters import Characters
from world.rng import Stream, uniform
from world.scenario import parse_scenario
from world.stats import TickStats
from world.vocab import N_GOODS, PRODUCTION, Emotion, Good

SICK = economy.SICK


def ref_need(chars: Characters, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    goods = chars.goods[rows]
    short_food = np.clip((3 - goods[:, Good.FOOD]) / 3.0, 0.0, 1.0)
    untreated = (chars.health[rows] < SICK) & (goods[:, Good.MEDICINE] == 0)
    hungry = chars.hunger[rows] > 0
    return np.maximum.reduce([short_food, 0.8 * untreated, 1.0 * hungry]).astype(np.float64)


def ref_live(chars, scenario, tick, stats, factor=None) -> None:  # type: ignore[no-untyped-def]
    n = len(chars)
    seed = scenario.seed
    ids = chars.cid[:n].astype(np.int64)
    goods = chars.goods
    is_sick = chars.health[:n] < SICK
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
    fed = goods[:, Good.FOOD] > 0
    goods[fed, Good.FOOD] -= 1
    stats.consumed[Good.FOOD] += int(fed.sum())
    chars.hunger[:n] = np.where(fed, 0, np.minimum(chars.hunger[:n] + 1, 30000))
    chars.health[:n] = np.where(fed, chars.health[:n] + 0.02, chars.health[:n] - 0.08)
    worn = uniform(seed, Stream.WEAR, ids, tick, 1) < 0.04
    has_cloth = goods[:, Good.CLOTH] > 0
    goods[worn & has_cloth, Good.CLOTH] -= 1
    stats.consumed[Good.CLOTH] += int((worn & has_cloth).sum())
    chars.health[:n] -= np.where(worn & ~has_cloth, 0.02, 0.0).astype(np.float32)
    falls = uniform(seed, Stream.SICKNESS, ids, tick) < scenario.economy.sickness * (
        1.0 + np.minimum(chars.hunger[:n], 5)
    )
    chars.health[:n] -= np.where(falls, 0.3, 0.0).astype(np.float32)
    treat = (chars.health[:n] < SICK) & (goods[:, Good.MEDICINE] > 0)
    goods[treat, Good.MEDICINE] -= 1
    stats.consumed[Good.MEDICINE] += int(treat.sum())
    chars.health[:n] += np.where(treat, 0.35, 0.0).astype(np.float32)
    np.clip(chars.health[:n], 0.0, 1.0, out=chars.health[:n])
    excess = np.maximum(goods[:, Good.FOOD] - scenario.economy.spoil_above, 0)
    spoiled = np.floor(excess * 0.1 + uniform(seed, Stream.SPOIL, ids, tick)).astype(np.int32)
    spoiled = np.minimum(spoiled, excess)
    goods[:, Good.FOOD] -= spoiled
    stats.consumed[Good.FOOD] += int(spoiled.sum())
    n_need = ref_need(chars)
    fear = chars.emotion[:n, Emotion.FEAR]
    np.maximum(fear, n_need.astype(np.float32) * 0.8, out=fear)
    stats.add("in_need", int((n_need >= 0.5).sum()))
    stats.add("hungry", int((chars.hunger[:n] > 0).sum()))
    stats.add("sick", int((chars.health[:n] < SICK).sum()))


def village(n: int, seed: int) -> Characters:
    rng = np.random.default_rng(seed)
    chars = Characters(n, relationships=4)
    chars.cid[:] = rng.permutation(10 * n)[:n]
    chars.role[:] = rng.integers(0, PRODUCTION.shape[0], n)
    chars.goods[:] = rng.integers(0, 8, chars.goods.shape)
    chars.goods[: n // 8] = 0  # destitute: hungry, cold, no medicine
    chars.goods[n // 8 : n // 4, Good.FOOD] = rng.integers(30, 90, n // 4 - n // 8)  # hoarders
    chars.health[:] = rng.random(n).astype(np.float32)
    chars.health[::9] = 1.0
    chars.hunger[:] = rng.integers(0, 8, n) * (rng.random(n) < 0.4)
    chars.emotion[:] = rng.random(chars.emotion.shape).astype(np.float32)
    return chars


@pytest.mark.parametrize(
    ("abundance", "sickness", "famine"), [(1.0, 0.01, False), (0.3, 0.2, True), (3.0, 0.0, False)]
)
def test_live_matches_numpy(abundance: float, sickness: float, famine: bool) -> None:
    n = 2000
    scenario = parse_scenario(
        {
            "name": "living",
            "seed": 4,
            "population": {"size": 10 * n},
            "economy": {"abundance": abundance, "sickness": sickness, "spoil_above": 40},
        }
    )
    a = village(n, 9)
    b = village(n, 9)
    factor = np.random.default_rng(2).random(n) * 1.5 if famine else None
    got, want = TickStats(), TickStats()
    for tick in range(1, 6):  # ticks in a row: the hungry starve on, the sick heal or worsen
        economy.live(a, scenario, tick, got, factor)
        ref_live(b, scenario, tick, want, factor)
        for name in ("goods", "health", "hunger", "emotion"):
            np.testing.assert_array_equal(
                getattr(a, name).view(np.uint8), getattr(b, name).view(np.uint8), err_msg=name
            )
    np.testing.assert_array_equal(got.produced, want.produced)
    np.testing.assert_array_equal(got.consumed, want.consumed)
    assert got.to_dict() == want.to_dict()
    assert want.c["sick"] > 0 and want.c["hungry"] > 0 and want.consumed[Good.FOOD] > 0


def test_need_matches_numpy() -> None:
    chars = village(500, 3)
    np.testing.assert_array_equal(economy.need(chars), ref_need(chars))
    rows = np.array([5, 0, 499, 5, 77])
    np.testing.assert_array_equal(economy.need(chars, rows), ref_need(chars, rows))
    assert economy.need(chars, np.zeros(0, np.int64)).shape == (0,)
