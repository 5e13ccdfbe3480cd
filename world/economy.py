"""Making and using goods: production by role, food and cloth consumed by need, sickness and
medicine. Hardship is real: a character without food goes hungry and loses health, and a sick
one works at half strength until medicine heals it.
"""

from __future__ import annotations

import numpy as np

from world.characters import Characters
from world.kernels import living
from world.rng import Draws, Stream, uniform
from world.scenario import Scenario
from world.stats import TickStats
from world.vocab import N_GOODS, PRODUCTION, Emotion, Good

#: Goods a character keeps for itself before it counts anything as surplus.
RESERVE = np.array([6, 1, 2, 1, 5], np.int32)
SICK = 0.5  # health below this is sickness


def sick(chars: Characters, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    return chars.health[rows] < SICK


def need(chars: Characters, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """How badly each character needs help, 0..1: hunger, an empty larder, untreated sickness
    (the larger of: food short of 3, as a share of 3; 0.8 if sick without medicine; 1 if
    hungry)."""
    at = np.arange(len(chars))[rows] if isinstance(rows, slice) else rows
    return living.needs(
        chars.goods,
        chars.health,
        chars.hunger,
        np.ascontiguousarray(at, np.int64),
        int(Good.FOOD),
        int(Good.MEDICINE),
        SICK,
    )


#: The goods `living.live` uses by name: food, tools, cloth, medicine.
_LIVING_GOODS = np.array([Good.FOOD, Good.TOOLS, Good.CLOTH, Good.MEDICINE], np.int64)


def live(
    chars: Characters,
    scenario: Scenario,
    tick: int,
    stats: TickStats,
    factor: np.ndarray | None = None,
) -> None:
    """One tick of work, eating, wear and health for every character of the shard; `factor`
    (per row) scales what each one makes (a famine or plenty: world/events.py).

    Work: a role's expected output (PRODUCTION, times the scenario's abundance), a quarter more
    with tools, half when sick; made is floor(expected + a uniform draw). A worker's tool wears
    out 5% of ticks. Eating takes one food (health +0.02), or the character goes hungry (health
    -0.08). Clothes wear out 4% of ticks; without any, the cold costs 0.02 health. Falling sick
    (the scenario's chance, times 1 + hunger up to 5) costs 0.3; a sick character with medicine
    takes one (+0.35). Food beyond `spoil_above` spoils, 10% a tick. Fear rises to 0.8 of need.
    """
    n = len(chars)
    if n == 0:
        return
    seed = scenario.seed
    ids = chars.cid[:n].astype(np.int64)
    wear = Draws(seed, Stream.WEAR, ids, tick)
    produce = Draws(seed, Stream.PRODUCE, ids, tick)
    in_need, hungry, sick = living.live(
        chars.goods,
        chars.health,
        chars.hunger,
        chars.emotion[:, Emotion.FEAR],
        PRODUCTION * scenario.economy.abundance,
        chars.role,
        np.ones(n) if factor is None else np.ascontiguousarray(factor, np.float64),
        produce.uniform_each(range(N_GOODS)),
        wear.uniform(),
        wear.uniform(1),
        uniform(seed, Stream.SICKNESS, ids, tick),
        uniform(seed, Stream.SPOIL, ids, tick),
        _LIVING_GOODS,
        SICK,
        scenario.economy.sickness,
        scenario.economy.spoil_above,
        stats.produced,
        stats.consumed,
    )
    stats.add("in_need", in_need)
    stats.add("hungry", hungry)
    stats.add("sick", sick)
