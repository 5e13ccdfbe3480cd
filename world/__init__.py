"""socius' world: the domain model of a living society, free of Ray, HTTP and LLMs.

Start with `Scenario` (what to run), `Shard` (a slice of the world that steps one tick from
inbox to outbox) and `LocalRuntime` (every shard in one process, the reference runtime).
"""

from world.errors import (
    IllegalTransition,
    JournalError,
    RunFolderError,
    ScenarioError,
    SociusError,
    UserError,
)
from world.runtime import LocalRuntime, RunResult
from world.scenario import Scenario, load_scenario
from world.shard import Shard

__all__ = [
    "IllegalTransition",
    "JournalError",
    "LocalRuntime",
    "RunFolderError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Shard",
    "SociusError",
    "UserError",
    "load_scenario",
]
