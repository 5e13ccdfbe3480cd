"""Minds decide for characters in batches: the heuristic mind and the scripted strategies."""

from __future__ import annotations

from world.minds.base import DecisionBatch, Mind, ReadingBatch
from world.minds.heuristic import HeuristicMind
from world.minds.registry import MIND_NAMES, MODEL_MIND
from world.minds.strategies import (
    AlwaysCooperate,
    AlwaysDefect,
    Discriminator,
    Grudger,
    RandomMind,
    TitForTat,
    WinStayLoseShift,
)


class ModelMind(HeuristicMind):
    """A character that thinks with a language model. The model is attached by the runtime
    (inference/); what it does not answer, and every decision of a world run without a model,
    is decided as the heuristic mind decides."""

    name = "llm"


_MINDS: dict[str, type[Mind]] = {
    m.name: m
    for m in (
        HeuristicMind,
        AlwaysCooperate,
        AlwaysDefect,
        TitForTat,
        Grudger,
        WinStayLoseShift,
        RandomMind,
        Discriminator,
        ModelMind,
    )
}
assert tuple(_MINDS) == MIND_NAMES, "registry.MIND_NAMES must list the minds in this order"


def make_minds() -> list[Mind]:
    """One instance of every mind, indexed as MIND_NAMES (the `mind` column of a shard)."""
    return [_MINDS[name]() for name in MIND_NAMES]


__all__ = [
    "MIND_NAMES",
    "MODEL_MIND",
    "DecisionBatch",
    "HeuristicMind",
    "Mind",
    "ModelMind",
    "ReadingBatch",
    "make_minds",
]
