"""A sweep folder being filled: rows appended as runs finish (so Ctrl-C keeps every finished
one), runs.csv and stats.csv replaced whole at the end, and `reopen` to run only the rest.

    sweep.json      what was swept: scenario, parameters and values, repeats, the seed rule
    scenario.yaml   the base scenario (with --ticks applied)
    runs.csv        one row per finished run: grid point, repeat, seed, parameter values, its
                    run folder, state digest and figures (actors.lab.sweep_figures: a village's
                    figures, or a classic game's results)
    stats.csv       one row per grid point and figure: n, mean, sd, 95% CI (t distribution)
    effects.csv     every grid point against the reference point (the first, or --compare-to),
    curves.csv      paired by repeat: the differences and their intervals (actors/lab/paired.py)
    runs/pNNN-rKK/  the run folder of grid point NNN, repeat KK (read it with `socius report`);
                    without a journal unless the sweep ran with --journal

Each run is a Ray task (actors/lab/sweep_task.py) on this machine or a cluster.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ray
import yaml

from actors.cluster.connect import connect
from actors.lab import paired
from actors.lab.paired import csv_bytes, estimate_cells
from actors.lab.stats import CONFIDENCE, Estimate, Paired
from actors.lab.sweep import Job, Param, Point, points, shown
from actors.lab.sweep_figures import Figures, figures_for
from actors.lab.sweep_task import sweep_task, unpack_folder
from world.errors import UserError
from world.journal_mode import OFF, JournalMode
from world.record import atomic_write
from world.scenario import Scenario, parse_scenario

#: seconds between looks at whether Ctrl-C came, while a sweep waits for its runs
INTERRUPT_WAIT = 0.2


@dataclasses.dataclass
class Outcome:
    """How a sweep's `run` ended: stopped by Ctrl-C, and which runs failed (and why)."""

    interrupted: bool
    failures: list[str]


class Sweep:
    """A sweep folder being filled: rows appended as runs finish, stats at the end."""

    SPEC = "sweep.json"  # the file that says what ran (an experiment has its own)

    def __init__(
        self,
        folder: Path,
        base: Scenario,
        params: Sequence[Param],
        repeats: int,
        jobs: Sequence[Job],
        journal: JournalMode = OFF,
        reference: Point | None = None,
    ) -> None:
        """`journal`: what each run's journal keeps (default none: the sweep's figures and
        reports read summaries, metrics.csv and checkpoints); `reference`: the grid point the
        others are compared with, pair by pair (default the first)."""
        self.folder = folder
        self.journal = journal
        self.base = base
        self.params = list(params)
        self.repeats = repeats
        self.jobs = list(jobs)
        self.rows: list[dict[str, Any]] = []
        self.grid = list(points(jobs))
        self.reference = reference if reference is not None else self.grid[0]
        self.todo = list(jobs)  # the runs still to do
        self.failures: list[str] = []
        self.figures: Figures = figures_for(job.scenario for job in jobs if job.repeat == 0)
        self.columns = [
            "point",
            "repeat",
            "seed",
            *(p.name for p in params),
            "run",
            "state_digest",
            *self.figures.names,
        ]

    def spec(self, source: str) -> dict[str, Any]:
        """What the spec file (sweep.json) says."""
        return {
            "scenario": self.base.name,
            "source": str(source),
            "params": {p.name: list(p.values) for p in self.params},
            "repeats": self.repeats,
            "runs": len(self.jobs),
            "journal": str(self.journal),
            "seed_rule": f"repeat r runs with seed ({self.base.seed} + r) mod 2**63 at every "
            f"grid point",
            "confidence": CONFIDENCE,
            "figures": self.figures.meanings,
            "headline": list(self.figures.headline),
            "reference": self.reference.index,
        }

    def same(self, spec: dict[str, Any]) -> bool:
        """The spec file already in the folder is of this same sweep (what --resume needs)."""
        return (
            spec.get("params") == {p.name: list(p.values) for p in self.params}
            and spec.get("repeats") == self.repeats
        )

    def start(self, source: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "scenario.yaml").write_text(self.base.to_yaml(), encoding="utf-8")
        self._write_spec(source)
        with open(self.folder / "runs.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow(self.columns)

    def reopen(self) -> None:
        """Continue the sweep already in the folder: keep its finished rows (their run
        folders), clear the folders of unfinished runs, and leave the rest to do."""
        try:
            spec = json.loads((self.folder / self.SPEC).read_text(encoding="utf-8"))
            ran = parse_scenario(
                yaml.safe_load((self.folder / "scenario.yaml").read_text(encoding="utf-8"))
            )
        except (OSError, ValueError, yaml.YAMLError, UserError):
            raise UserError(
                f"--resume: {self.folder} holds a damaged {self.kind} ({self.SPEC}, "
                f"scenario.yaml); choose another --out"
            ) from None
        if not (ran == self.base and self.same(spec)):
            raise UserError(
                f"--resume: {self.folder} holds another {self.kind} (its scenario, "
                f"{self.differ}); give the same ones, or choose another --out"
            )
        with open(self.folder / "runs.csv", newline="", encoding="utf-8") as f:
            finished = [r for r in csv.DictReader(f) if self._whole(r)]
        self.rows = [{**r, "point": int(r["point"]), "repeat": int(r["repeat"])} for r in finished]
        done = {r["run"] for r in self.rows}
        self.todo = [job for job in self.jobs if job.folder not in done]
        for job in self.todo:
            shutil.rmtree(self.folder / job.folder, ignore_errors=True)
        atomic_write(self.folder / "runs.csv", csv_bytes(self.columns, self.rows))
        self._write_spec(str(spec.get("source", "")))  # the reference may be another

    @property
    def kind(self) -> str:
        return self.SPEC.removesuffix(".json")

    @property
    def differ(self) -> str:
        """What may differ between two sweeps, in the words of the command line."""
        return "--ticks, --param or --repeats differ"

    def _write_spec(self, source: str) -> None:
        atomic_write(self.folder / self.SPEC, json.dumps(self.spec(source), indent=2).encode())

    def _whole(self, row: dict[str, Any]) -> bool:
        """A row written whole: every column there, every one but a figure filled (a figure
        is empty where its run has no such number: a strategy no one played)."""
        figures = set(self.figures.names)
        return all(row.get(c) is not None and (c in figures or row[c] != "") for c in self.columns)

    def run(self, address: str | None, advance: Callable[[str], None]) -> Outcome:
        """Run what is left to do as Ray tasks; `advance` is told each finished grid point's
        label. Ctrl-C cancels the runs still going, keeping every finished row.

        Ctrl-C is held for the whole of it (`held_interrupt`) and looked at between waits,
        never raised: raised inside Ray's submission it can hang the driver, and raised while
        the interpreter runs a callback of its own (an import's lock released) it is printed
        as ignored and lost, and the sweep would go on."""
        connect(address)
        task = ray.remote(num_cpus=1, max_retries=1)(sweep_task)
        node = ray.get_runtime_context().get_node_id()
        pending: dict[Any, Job] = {}
        with held_interrupt() as interrupted:
            for job in self.todo:
                folder = str(self.folder / job.folder)
                pending[task.remote(job.scenario, folder, node, str(self.journal))] = job
            while pending and not interrupted():
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=INTERRUPT_WAIT)
                for ref in ready:
                    job = pending.pop(ref)
                    self._finish(job, ref)
                    advance(job.point.label(self.params))
            stopped = interrupted()
        if stopped:
            for ref in pending:
                ray.cancel(ref, force=True)
        self.write_stats()
        return Outcome(stopped, self.failures)

    def _finish(self, job: Job, ref: Any) -> None:
        try:
            answer = ray.get(ref)
        except ray.exceptions.RayError as err:
            first = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
            self.failures.append(f"{job.folder} ({job.point.label(self.params)}): {first}")
            return
        if "packed" in answer:
            unpack_folder(answer["packed"], self.folder / job.folder)
        summary = answer["summary"]
        row = {
            "point": job.point.index,
            "repeat": job.repeat,
            "seed": job.seed,
            **{p.name: shown(v) for p, v in zip(self.params, job.point.values, strict=True)},
            "run": job.folder,
            "state_digest": summary["state_digest"],
            **self.figures.of(summary),
        }
        self.rows.append(row)
        with open(self.folder / "runs.csv", "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, fieldnames=self.columns).writerow(row)

    def estimates(self) -> list[tuple[Point, dict[str, Estimate]]]:
        """Each grid point with a finished run, and its figures over the repeats."""
        out = []
        for point in points(self.jobs):
            rows = [r for r in self.rows if r["point"] == point.index]
            if rows:
                out.append((point, {f: Estimate.of(_values(rows, f)) for f in self.figures.names}))
        return out

    def write_stats(self) -> None:
        """runs.csv in grid order, stats.csv, effects.csv and curves.csv, each replaced
        whole."""
        self.rows.sort(key=lambda r: (r["point"], r["repeat"]))
        atomic_write(self.folder / "runs.csv", csv_bytes(self.columns, self.rows))
        names = [p.name for p in self.params]
        columns = ["point", *names, "figure", "n", "mean", "sd", "ci_low", "ci_high"]
        rows = [
            {
                "point": point.index,
                **{n: shown(v) for n, v in zip(names, point.values, strict=True)},
                "figure": figure,
                **estimate_cells(est),
            }
            for point, figures in self.estimates()
            for figure, est in figures.items()
        ]
        atomic_write(self.folder / "stats.csv", csv_bytes(columns, rows))
        found = self.effects()
        atomic_write(self.folder / "effects.csv", paired.effects_csv(self.params, found))
        curves = paired.curves(self.folder, self.rows, self.figures, self.grid, self.reference)
        atomic_write(self.folder / "curves.csv", paired.curves_csv(self.params, curves))

    def effects(self) -> list[tuple[Point, str, Paired]]:
        """Every grid point against the reference, paired by repeat, for every figure."""
        return paired.effects(self.rows, self.figures.names, self.grid, self.reference)


def _values(rows: Sequence[dict[str, Any]], figure: str) -> list[float]:
    """A figure's values in these rows (a cell is empty where a run has no such number)."""
    return [float(r[figure]) for r in rows if r.get(figure) not in (None, "")]


@contextmanager
def held_interrupt() -> Iterator[Callable[[], bool]]:
    """Hold Ctrl-C (SIGINT) back while the block runs; yields a function saying whether one
    came, for the block to act on where it is safe. A KeyboardInterrupt raised in the middle of
    submitting Ray tasks can leave the driver unable to cancel them or to shut down (the sweep
    then hangs instead of stopping), so the runs are all submitted, or none, before a Ctrl-C is
    acted on. Off the main thread, where Python delivers no signals, it holds nothing."""
    came: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    try:
        yield lambda: bool(came)
    finally:
        signal.signal(signal.SIGINT, previous)
