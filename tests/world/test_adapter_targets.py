"""Which characters think with which LoRA adapter: the scenario's llm.adapters targets."""

from __future__ import annotations

import numpy as np
import pytest

from world.population import adapter_of, groups_of, roles_of
from world.scenario import ScenarioError, parse_scenario
from world.vocab import ROLE_NAMES


def village(adapters: list[dict]) -> dict:
    return {"name": "t", "seed": 3, "population": {"size": 40, "group_size": 10},
            "llm": {"adapters": adapters}}  # fmt: skip


def test_group_zero_is_a_target_like_any_other_group() -> None:
    scenario = parse_scenario(village([{"name": "first", "group": 0}]))
    ids = np.arange(40, dtype=np.int64)
    groups = groups_of(scenario, ids)
    assert (groups == 0).any() and (groups != 0).any()
    for cid in range(40):
        assert adapter_of(scenario, cid) == ("first" if groups[cid] == 0 else None)


def test_the_first_adapter_that_fits_wins() -> None:
    scenario = parse_scenario(
        village([{"name": "chosen", "characters": [0, 5]}, {"name": "rest", "everyone": True}])
    )
    assert [adapter_of(scenario, c) for c in (0, 1, 5, 39)] == ["chosen", "rest", "chosen", "rest"]


def test_role_targets_the_characters_of_that_role() -> None:
    ids = np.arange(40, dtype=np.int64)
    probe = parse_scenario(village([]))
    role = ROLE_NAMES[int(roles_of(probe, ids)[0])]
    scenario = parse_scenario(village([{"name": "r", "role": role}]))
    roles = roles_of(scenario, ids)
    for cid in range(40):
        assert adapter_of(scenario, cid) == ("r" if ROLE_NAMES[int(roles[cid])] == role else None)


@pytest.mark.parametrize(
    "targets",
    [
        {},
        {"group": 0, "role": "farmer"},
        {"everyone": False},
        {"characters": [1], "everyone": True},
    ],
)
def test_an_adapter_needs_exactly_one_target(targets: dict) -> None:
    with pytest.raises(ScenarioError, match="exactly one of characters, role, group or everyone"):
        parse_scenario(village([{"name": "a", **targets}]))
