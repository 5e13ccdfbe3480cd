"""Sweeps: a grid of scenario variants, each run several times, one whole world per run.

A sweep varies dotted scenario fields (`--param information.gossip=false,true`): the grid is the
cartesian product of the values, in the order given, and each grid point runs `repeats` times.

Seeds. Repeat r (0, 1, ...) of every grid point runs with seed `scenario seed + r` (mod 2**63):
the same seeds at every grid point (common random numbers, so points differ by their parameters
and not by luck of the draw), and any row can be run again alone with
`socius run SCENARIO --seed S` plus its parameter values; it gives the same figures and digest.

Each run is `run_world` (actors/lab/sweep_task.py): the in-process runtime writing an ordinary
run folder through the one driver, exactly as `socius run --runtime local` does, so `socius
report` reads it like any other run.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from world.errors import ScenarioError, UserError
from world.scenario import Scenario

SEED_LIMIT = 2**63


def shown(value: Any) -> str:
    """A parameter value as the command line takes it (true, not True)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclasses.dataclass(frozen=True)
class Param:
    """One swept scenario field and the values it takes, as given on the command line."""

    name: str
    values: tuple[Any, ...]

    @classmethod
    def parse(cls, text: str) -> Param:
        """`name=v1,v2,...`; each value is read as YAML (0.2, 50, true, stern_judging)."""
        name, eq, rest = text.partition("=")
        name = name.strip()
        if not eq or not name or not rest.strip():
            raise UserError(
                f"--param {text!r} is not NAME=V1,V2,... (for example "
                f"--param information.gossip=false,true)"
            )
        values = []
        for part in rest.split(","):
            try:
                value = yaml.safe_load(part.strip()) if part.strip() else None
            except yaml.YAMLError:
                value = part.strip()
            if value is None or isinstance(value, (list, dict)):
                raise UserError(
                    f"--param {name}: {part.strip()!r} is not a value; give numbers, true/false "
                    f"or names separated by commas, for example {name}=0,0.2"
                )
            values.append(value)
        if len(set(map(repr, values))) != len(values):
            raise UserError(f"--param {name}: a value is given twice in {rest!r}")
        return cls(name, tuple(values))


@dataclasses.dataclass(frozen=True)
class Point:
    """One grid point: its index and the value of each parameter."""

    index: int
    values: tuple[Any, ...]

    def label(self, params: Sequence[Param]) -> str:
        return " ".join(f"{p.name}={shown(v)}" for p, v in zip(params, self.values, strict=True))


@dataclasses.dataclass(frozen=True)
class Job:
    """One run of a sweep: a grid point, a repeat, its scenario and its run folder."""

    point: Point
    repeat: int
    scenario: Scenario
    folder: str  # relative to the sweep folder

    @property
    def seed(self) -> int:
        return self.scenario.seed


def repeat_seed(seed: int, repeat: int) -> int:
    """The seed of repeat `repeat` of every grid point (see the module's docstring)."""
    return (seed + repeat) % SEED_LIMIT


def _check_path(base: Scenario, name: str) -> None:
    """Every part of `name` but the last must name a section of the scenario."""
    node: Any = base.model_dump()
    *path, last = name.split(".")
    walked: list[str] = []
    for part in path:
        if not isinstance(node, dict) or part not in node:
            here = ".".join(walked) or "the scenario"
            allowed = ", ".join(k for k, v in node.items() if isinstance(v, dict))
            raise UserError(
                f"--param {name}: {here} has no section {part!r}; sections there: {allowed}"
            )
        node = node[part]
        walked.append(part)
    if not isinstance(node, dict):
        raise UserError(f"--param {name}: {'.'.join(walked)} is a value, not a section")
    if isinstance(node.get(last), dict):
        fields = ", ".join(f"{name}.{k}" for k in node[last])
        raise UserError(f"--param {name}: {name} is a section; sweep one of its fields: {fields}")


def plan(base: Scenario, params: Sequence[Param], repeats: int) -> list[Job]:
    """Every run of the sweep, each scenario validated: a bad name or value is a UserError
    naming the parameter, before anything runs."""
    names = [p.name for p in params]
    for name in names:
        if names.count(name) > 1:
            raise UserError(f"--param {name} is given twice; give all its values in one --param")
        _check_path(base, name)
    for p in params:  # each value alone, so the message names the one at fault
        for value in p.values:
            _variant(base, {p.name: value})
    jobs = []
    for index, values in enumerate(itertools.product(*(p.values for p in params))):
        point = Point(index, tuple(values))
        sc = _variant(base, dict(zip(names, values, strict=True)))
        for r in range(repeats):
            folder = f"runs/p{index:03d}-r{r:02d}"
            jobs.append(Job(point, r, sc.with_overrides(seed=repeat_seed(sc.seed, r)), folder))
    return jobs


def _variant(base: Scenario, values: dict[str, Any]) -> Scenario:
    try:
        return base.with_overrides(**values)
    except ScenarioError as err:
        given = " ".join(f"{k}={shown(v)}" for k, v in values.items())
        problem = str(err).removeprefix("scenario overrides: ")
        raise UserError(f"--param {given}: {problem}") from None


def points(jobs: Sequence[Job]) -> Iterator[Point]:
    """The grid points of a plan, in order."""
    seen: set[int] = set()
    for job in jobs:
        if job.point.index not in seen:
            seen.add(job.point.index)
            yield job.point
