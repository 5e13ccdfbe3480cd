"""Experiments: a control arm and treatment arms, every arm on the same seeds.

The control arm is the scenario as given. A treatment is a YAML file that changes it: a
top-level `events:` list (the scenario's own event schema) is appended to the scenario's
events, and any other key is a scenario field, dotted (`economy.abundance: 0.4`) or nested
(`economy: {abundance: 0.4}`), as sweeps' --param takes them. An arm is named by its file
(`famine.yaml` -> famine).

Repeat r of every arm runs on seed (scenario seed + r), the rule of sweeps, so arm and control
differ, pair by pair, only by the treatment (common random numbers). An experiment is a sweep
whose one parameter is the arm: the same Ray tasks, run folders, runs.csv (its `arm` column),
stats.csv, resume, and effects.csv and curves.csv of each treatment against the control
(actors/lab/paired.py). Its folder holds experiment.json instead of sweep.json.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from actors.lab.sweep import Job, Param, Point, check_path, repeated
from actors.lab.sweep_folder import Sweep
from world.errors import ScenarioError, UserError
from world.journal_mode import OFF, JournalMode
from world.scenario import Scenario

CONTROL = "control"
ARM = "arm"  # the experiment's one parameter: runs.csv's column naming the arm


@dataclasses.dataclass(frozen=True)
class Arm:
    """One arm: its name, the treatment file it comes from (none for the control), the
    fields it changes and the events it adds."""

    name: str
    source: str | None = None
    changes: tuple[tuple[str, Any], ...] = ()
    events: tuple[Any, ...] = ()

    def spec(self) -> dict[str, Any]:
        return {"file": self.source, "changes": dict(self.changes), "events": list(self.events)}

    def scenario(self, base: Scenario) -> Scenario:
        """The base scenario with this arm's changes and its events after the base's, checked
        as a scenario (a problem is one line naming the treatment file and the field)."""
        what = f"treatment {self.source}"
        for name, _ in self.changes:
            check_path(base, name, what=f"{what},")
        changes = dict(self.changes)
        if self.events:
            changes["events"] = [*(base.model_dump().get("events") or []), *self.events]
        try:
            return base.with_overrides(**changes)
        except ScenarioError as err:
            problem = str(err).removeprefix("scenario overrides: ")
            raise UserError(f"{what}: {problem}") from None


def read_treatment(path: Path) -> Arm:
    """A treatment file as an arm; a missing or malformed file is one line naming it."""
    if not path.is_file():
        raise UserError(
            f"--treatment {str(path)!r} not found; give a YAML file of events: (and/or "
            f"scenario fields such as economy.abundance: 0.4)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"treatment {path}: not readable YAML ({first})") from None
    if not isinstance(data, dict) or not data:
        raise UserError(
            f"treatment {path}: expected a mapping with events: (a list) and/or scenario "
            f"fields (economy.abundance: 0.4), not {type(data).__name__ if data else 'nothing'}"
        )
    events = data.pop("events", None)
    if events is not None and not isinstance(events, list):
        raise UserError(f"treatment {path}: events must be a list of events, not {events!r}")
    changes = _dotted(data)
    for name, value in changes:
        if name == "seed":
            raise UserError(
                f"treatment {path}, seed: every arm runs on the experiment's seeds (that is "
                f"what pairs its runs with the control's); give --seed to the command instead"
            )
        if value is None:
            raise UserError(f"treatment {path}, {name}: give a value")
    if not events and not changes:
        raise UserError(f"treatment {path}: changes nothing (its events: list is empty)")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)
    return Arm(name=name, source=str(path), changes=tuple(changes), events=tuple(events or ()))


def _dotted(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested sections as dotted names: {economy: {abundance: 0.4}} -> economy.abundance."""
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.extend(_dotted(value, f"{name}."))
        else:
            out.append((name, value))
    return out


def arms_of(paths: Sequence[Path]) -> list[Arm]:
    """The control and an arm per treatment file, in the order given; names must differ."""
    arms = [Arm(CONTROL)]
    for path in paths:
        arm = read_treatment(path)
        if arm.name in (a.name for a in arms):
            other = next(a for a in arms if a.name == arm.name)
            raise UserError(
                f"--treatment {path}: an arm is named {arm.name!r} already ("
                f"{other.source or 'the control arm'}); arms are named by their files, rename one"
            )
        arms.append(arm)
    return arms


def plan(base: Scenario, arms: Sequence[Arm], repeats: int) -> list[Job]:
    """Every run of the experiment, each arm's scenario checked before anything runs."""
    if repeats < 2:
        raise UserError(
            f"--repeats {repeats}: an experiment compares arms pair by pair over repeats; "
            f"give at least 2 (better 5 or more)"
        )
    variants = [(Point(i, (arm.name,)), arm.scenario(base)) for i, arm in enumerate(arms)]
    return repeated(variants, repeats, stems=[arm.name for arm in arms])


class Experiment(Sweep):
    """An experiment folder being filled: a sweep over arms, each against the control."""

    SPEC = "experiment.json"

    def __init__(
        self,
        folder: Path,
        base: Scenario,
        arms: Sequence[Arm],
        repeats: int,
        jobs: Sequence[Job],
        journal: JournalMode = OFF,
    ) -> None:
        param = Param(ARM, tuple(arm.name for arm in arms))
        super().__init__(folder, base, [param], repeats, jobs, journal)
        self.arms = list(arms)

    def spec(self, source: str) -> dict[str, Any]:
        return {
            **super().spec(source),
            "arms": {arm.name: arm.spec() for arm in self.arms},
            "control": CONTROL,
            "seed_rule": f"repeat r runs with seed ({self.base.seed} + r) mod 2**63 in every arm",
        }

    def same(self, spec: dict[str, Any]) -> bool:
        arms = {arm.name: arm.spec() for arm in self.arms}
        return spec.get("arms") == arms and spec.get("repeats") == self.repeats

    @property
    def differ(self) -> str:
        return "--seed, --ticks, --treatment or --repeats differ"
