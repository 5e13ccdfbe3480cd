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


def check_path(base: Scenario, name: str, what: str = "--param") -> None:
    """Every part of `name` but the last must name a section of the scenario; a problem is a
    UserError starting `{what} {name}: `."""
    node: Any = base.model_dump()
    *path, last = name.split(".")
    walked: list[str] = []
    for part in path:
        if not isinstance(node, dict) or part not in node:
            here = ".".join(walked) or "the scenario"
            allowed = ", ".join(k for k, v in node.items() if isinstance(v, dict))
            raise UserError(
                f"{what} {name}: {here} has no section {part!r}; sections there: {allowed}"
            )
        node = node[part]
        walked.append(part)
    if not isinstance(node, dict):
        raise UserError(f"{what} {name}: {'.'.join(walked)} is a value, not a section")
    if isinstance(node.get(last), dict):
        fields = ", ".join(f"{name}.{k}" for k in node[last])
        raise UserError(f"{what} {name}: {name} is a section; change one of its fields: {fields}")


def plan(base: Scenario, params: Sequence[Param], repeats: int) -> list[Job]:
    """Every run of the sweep, each scenario validated: a bad name or value is a UserError
    naming the parameter, before anything runs."""
    names = [p.name for p in params]
    for name in names:
        if names.count(name) > 1:
            raise UserError(f"--param {name} is given twice; give all its values in one --param")
        check_path(base, name)
    for p in params:  # each value alone, so the message names the one at fault
        for value in p.values:
            _variant(base, {p.name: value})
    variants = [
        (Point(index, tuple(values)), _variant(base, dict(zip(names, values, strict=True))))
        for index, values in enumerate(itertools.product(*(p.values for p in params)))
    ]
    return repeated(variants, repeats)


def repeated(
    variants: Sequence[tuple[Point, Scenario]], repeats: int, stems: Sequence[str] = ()
) -> list[Job]:
    """Every run of these variants: each `repeats` times, repeat r on the seed of the rule
    (the same at every point), into `runs/STEM-rKK` (STEM: `stems[i]`, or pNNN)."""
    jobs = []
    for i, (point, sc) in enumerate(variants):
        stem = stems[i] if stems else f"p{point.index:03d}"
        for r in range(repeats):
            seeded = sc.with_overrides(seed=repeat_seed(sc.seed, r))
            jobs.append(Job(point, r, seeded, f"runs/{stem}-r{r:02d}"))
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


def reference(text: str | None, params: Sequence[Param], jobs: Sequence[Job]) -> Point:
    """The grid point `--compare-to` names: its number (0 is the first), or its values as
    `name=value,...` (enough of them to pick one point); the first point without one."""
    grid = list(points(jobs))
    if text is None:
        return grid[0]
    if text.strip().isdigit():
        index = int(text)
        if index >= len(grid):
            raise UserError(
                f"--compare-to {text}: the grid points are 0..{len(grid) - 1} (runs.csv's point)"
            )
        return grid[index]
    names = [p.name for p in params]
    wanted: dict[str, str] = {}
    for part in text.split(","):
        name, eq, value = part.partition("=")
        if not eq or name.strip() not in names:
            raise UserError(
                f"--compare-to {text}: give a grid point's number or its values as "
                f"NAME=VALUE,... with NAME one of {', '.join(names)}"
            )
        wanted[name.strip()] = value.strip()
    found = [
        pt for pt in grid if all(shown(pt.values[names.index(n)]) == v for n, v in wanted.items())
    ]
    if len(found) != 1:
        labels = "; ".join(pt.label(params) for pt in grid)
        which = "no grid point has" if not found else f"{len(found)} grid points have"
        raise UserError(f"--compare-to {text}: {which} these values; the points: {labels}")
    return found[0]
