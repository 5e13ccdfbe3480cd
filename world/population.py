"""Who the characters are: their self-models, derived from (scenario, seed, id) alone.

Nothing here is stored per run: any shard can compute any character's role, group, traits,
boundaries, name and backstory on demand, so self-models never travel between shards.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from world.minds.registry import MIND_NAMES
from world.rng import Stream, below, normalish, uniform
from world.scenario import Scenario
from world.vocab import (
    BOUNDARY_NAMES,
    N_GOODS,
    N_TRAITS,
    ROLE_NAMES,
    TRAIT_NAMES,
    Good,
    Role,
    Trait,
)

#: Starting goods by role, before the scenario's endowment multiplier.
ENDOWMENT = np.array(
    [
        # food tools cloth medicine coin
        [10, 1, 1, 0, 4],  # farmer
        [5, 3, 1, 0, 8],  # smith
        [5, 1, 4, 0, 6],  # weaver
        [5, 1, 1, 0, 20],  # trader
        [5, 1, 1, 3, 6],  # healer
        [8, 1, 2, 1, 10],  # elder
        [2, 0, 1, 0, 0],  # child
    ],
    np.float64,
)


def roles_of(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    cum = _cumulative(tuple(scenario.population.roles.get(r, 0.0) for r in ROLE_NAMES))
    return _pick(cum, uniform(scenario.seed, Stream.ROLE, ids))


def minds_of(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    """Index into MIND_NAMES of each character's mind."""
    cum = _cumulative(tuple(scenario.population.minds.get(m, 0.0) for m in MIND_NAMES))
    return _pick(cum, uniform(scenario.seed, Stream.MIND, ids))


@functools.lru_cache(maxsize=64)
def _cumulative(shares: tuple[float, ...]) -> tuple[float, ...]:
    """The cumulative shares, normalized (a tick asks the roles of its counterparts: worked
    out once per set of shares, not every tick)."""
    weights = np.array(shares)
    return tuple(np.cumsum(weights / weights.sum()).tolist())


def _pick(cum: Sequence[float], u: np.ndarray) -> np.ndarray:
    """Which of the `len(cum)` kinds each uniform `u` picks (int8): how many of the cumulative
    shares `cum[:-1]` lie at or below it, which is `searchsorted(cum, u, side="right")` capped
    at the last kind. A comparison per kind, not numpy's binary search per draw, whose every
    step mispredicts on unsorted draws (3 against 14 ns a draw)."""
    out = np.zeros(len(u), np.int8)
    for edge in cum[:-1]:
        out += u >= edge
    return out


def groups_of(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    return (np.asarray(ids, np.int64) // scenario.population.group_size).astype(np.int32)


def traits_of(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    out = np.empty((len(ids), N_TRAITS), np.float32)
    for t, name in enumerate(TRAIT_NAMES):
        spread = scenario.population.traits[name]
        z = normalish(scenario.seed, Stream.TRAIT, ids, t)
        out[:, t] = np.clip(spread.mean + spread.sd * z, 0.0, 1.0)
    return out


def boundaries_of(scenario: Scenario, ids: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(ids), np.uint8)
    for b, name in enumerate(BOUNDARY_NAMES):
        p = scenario.population.boundaries.get(name, 0.0)
        held = uniform(scenario.seed, Stream.BOUNDARY, ids, b) < p
        mask |= held.astype(np.uint8) << b
    return mask


def endowment_of(scenario: Scenario, ids: np.ndarray, roles: np.ndarray) -> np.ndarray:
    base = ENDOWMENT[roles] * scenario.economy.endowment
    u = uniform(scenario.seed, Stream.ENDOWMENT, ids[:, None], np.arange(N_GOODS)[None, :])
    return np.floor(base + u).astype(np.int32)


_FIRST = (
    "a",
    "be",
    "ca",
    "do",
    "e",
    "fi",
    "ga",
    "ha",
    "i",
    "jo",
    "ka",
    "li",
    "ma",
    "no",
    "o",
    "pe",
    "ri",
    "sa",
    "tu",
    "u",
    "ve",
    "wy",
    "ya",
    "ze",
)
_MIDDLE = ("ba", "ren", "li", "mar", "so", "ta", "vin", "la", "dor", "mi", "nel", "ra")
_FAMILY = (
    "Ash",
    "Birch",
    "Brook",
    "Cole",
    "Dale",
    "Fen",
    "Ford",
    "Glen",
    "Hale",
    "Hill",
    "Lake",
    "Marsh",
    "Moor",
    "Reed",
    "Rowe",
    "Stone",
    "Thorn",
    "Vale",
    "Wells",
    "Wood",
)
_CULTURES = ("river", "hill", "forest", "coast", "plain", "marsh", "steppe", "valley")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SelfModel:
    """A character as it sees itself: what an LLM prompt or a player's screen shows."""

    id: int
    name: str
    role: str
    group: int
    culture: str
    traits: dict[str, float]
    boundaries: tuple[str, ...]
    backstory: str
    mind: str


def known_as(scenario: Scenario, cid: int) -> str:
    """How others name character `cid`: "Name (role)"; a negative id is the group. (Cheap:
    only the name and role of `self_model`, for what players and prompts show of others.)"""
    if cid < 0:
        return "your group"
    ids = np.array([cid], np.int64)
    role = Role(int(roles_of(scenario, ids)[0]))
    group = int(groups_of(scenario, ids)[0])
    return f"{_full_name(_name_draws(scenario, cid), group)} ({role.name.lower()})"


def _name_draws(scenario: Scenario, cid: int) -> list[int]:
    return [int(x) for x in below(scenario.seed, Stream.NAME, 1 << 30, cid, np.arange(4))]


def _full_name(k: list[int], group: int) -> str:
    first = (_FIRST[k[0] % len(_FIRST)] + _MIDDLE[k[1] % len(_MIDDLE)]).capitalize()
    return f"{first} {_FAMILY[(group * 7 + k[2] % 3) % len(_FAMILY)]}"


def self_model(scenario: Scenario, cid: int) -> SelfModel:
    ids = np.array([cid], np.int64)
    role = Role(int(roles_of(scenario, ids)[0]))
    group = int(groups_of(scenario, ids)[0])
    culture_ix = group // scenario.population.groups_per_culture
    culture = f"{_CULTURES[culture_ix % len(_CULTURES)]} folk {culture_ix // len(_CULTURES) + 1}"
    traits = {
        n: round(float(v), 3) for n, v in zip(TRAIT_NAMES, traits_of(scenario, ids)[0], strict=True)
    }
    mask = int(boundaries_of(scenario, ids)[0])
    held = tuple(n for b, n in enumerate(BOUNDARY_NAMES) if mask >> b & 1)
    k = _name_draws(scenario, cid)
    name = _full_name(k, group)
    return SelfModel(
        id=cid,
        name=name,
        role=role.name.lower(),
        group=group,
        culture=culture,
        traits=traits,
        boundaries=held,
        backstory=_backstory(name, role, culture, traits, k[3]),
        mind=MIND_NAMES[int(minds_of(scenario, ids)[0])],
    )


def _backstory(name: str, role: Role, culture: str, traits: dict[str, float], k: int) -> str:
    trade = {
        Role.FARMER: "works the fields and feeds more mouths than its own",
        Role.SMITH: "forges the tools everyone's work depends on",
        Role.WEAVER: "weaves the cloth that keeps the village warm",
        Role.TRADER: "carries goods and coin between households",
        Role.HEALER: "brews the medicine the sick come begging for",
        Role.ELDER: "has seen feuds start and end and settles disputes",
        Role.CHILD: "is too young to work and lives on the kindness of others",
    }[role]
    first = name.split()[0]
    honest = traits[TRAIT_NAMES[Trait.HONESTY]]
    temper = "keeps its word" if honest >= 0.6 else "bends its word when it must"
    if traits[TRAIT_NAMES[Trait.VENGEFULNESS]] >= 0.6:
        memory = "does not forget a wrong"
    elif traits[TRAIT_NAMES[Trait.AGREEABLENESS]] >= 0.6:
        memory = "forgives easily"
    else:
        memory = "weighs every slight"
    openness = (
        "wears its heart on its sleeve"
        if traits[TRAIT_NAMES[Trait.EXPRESSIVENESS]] >= 0.5
        else "hides what it feels behind polite words"
    )
    origin = ("grew up", "came as a stranger", "was born in a hard winter")[k % 3]
    return (
        f"{first} {origin} among the {culture} and {trade}. "
        f"{first} {temper}, {memory}, and {openness}."
    )


__all__ = [
    "ENDOWMENT",
    "Good",
    "SelfModel",
    "boundaries_of",
    "endowment_of",
    "groups_of",
    "minds_of",
    "roles_of",
    "self_model",
    "traits_of",
]


def adapter_of(scenario: Scenario, cid: int) -> str | None:
    """The name of the LoRA adapter character `cid` thinks with (the first of llm.adapters
    that fits it), or None: the base model."""
    adapters = scenario.llm.adapters
    if not adapters:
        return None
    ids = np.array([cid], np.int64)
    for a in adapters:
        if a.everyone:
            return a.name
        if a.characters is not None and cid in a.characters:
            return a.name
        if a.role is not None and ROLE_NAMES[int(roles_of(scenario, ids)[0])] == a.role:
            return a.name
        if a.group is not None and int(groups_of(scenario, ids)[0]) == a.group:
            return a.name
    return None
