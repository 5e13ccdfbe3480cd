"""`socius sweep`: run a grid of scenario variants as Ray tasks and write the sweep folder.

    sweep.json      what was swept: scenario, parameters and values, repeats, the seed rule
    scenario.yaml   the base scenario (with --ticks applied)
    runs.csv        one row per finished run: grid point, repeat, seed, parameter values, its
                    run folder, state digest and figures (actors.sweep.FIGURES)
    stats.csv       one row per grid point and figure: n, mean, sd, 95% CI (t distribution)
    runs/pNNN-rKK/  the run folder of grid point NNN, repeat KK (read it with `socius report`)

Rows are written as runs finish, so Ctrl-C keeps every finished row (and writes stats.csv of
them); the runs still going are cancelled.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from actors.sweep import (
    FIGURES,
    Job,
    Param,
    Point,
    figures_of,
    plan,
    points,
    shown,
    unpack_folder,
)
from actors.sweep_stats import CONFIDENCE, Estimate
from world.errors import UserError
from world.record import atomic_write, check_new_folder
from world.scenario import Scenario, load_scenario

#: Figures the closing table shows (runs.csv and stats.csv hold them all).
HEADLINE = ("cooperation_rate", "mean_trust", "betrayals", "forgiveness", "care_gifts")

SWEEP_EPILOG = """examples:
  socius sweep examples/village.yaml --param information.gossip=false,true --repeats 5
  socius sweep examples/village.yaml --param noise.execution=0,0.05 \\
      --param population.size=50,100 --repeats 3 --ticks 40 --out sweeps/noise
  socius sweep examples/studies/gossip.yaml --param information.gossip=false,true \\
      --param population.traits.honesty.mean=0.4,0.8 --repeats 4 --address auto
  socius report sweeps/noise

Repeat r of every grid point runs with seed (scenario seed + r); re-run any row alone with
`socius run SCENARIO --seed S` and its parameter values to get the same figures and digest.
"""


def add_sweep_parser(sub: Any, positive: Callable[[str], Callable[[str], Any]]) -> None:
    sw = sub.add_parser(
        "sweep",
        help="run a grid of scenario variants, repeated, as Ray tasks",
        description="Run every combination of the --param values, each --repeats times, as "
        "Ray tasks (one CPU and one whole in-process world each) on this machine or a "
        "cluster. Writes a sweep folder: runs.csv (a row per run: parameters, seed, digest, "
        "figures), stats.csv (per grid point: mean, sd, n and a 95% confidence interval "
        "from the t distribution) and every run's folder under runs/.",
        epilog=SWEEP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sw.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    sw.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a dotted scenario field and its values, e.g. information.gossip=false,true, "
        "noise.execution=0,0.05, population.size=50,100, "
        "population.traits.honesty.mean=0.4,0.8; repeat the flag for more fields (the grid "
        "is every combination)",
    )
    sw.add_argument(
        "--repeats",
        type=positive("--repeats"),
        default=3,
        metavar="K",
        help="runs per grid point, with seeds seed, seed+1, ... (default 3; 2 or more for "
        "confidence intervals)",
    )
    sw.add_argument(
        "--ticks", type=positive("--ticks"), help="ticks per run (default: the scenario's)"
    )
    sw.add_argument("--out", type=Path, help="sweep folder (default: sweeps/NAME-TIME)")
    sw.add_argument(
        "--address",
        help="Ray cluster to join: auto (the one started on this machine with `ray start`), "
        "ray://HOST:10001 or HOST:6379; default: start a local Ray instance",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar or table")


def cmd_sweep(args: argparse.Namespace) -> int:
    import datetime as dt

    base = load_scenario(args.scenario).with_overrides(ticks=args.ticks)
    if base.thinks_with_model():
        raise UserError(
            f"scenario {base.name} gives characters the llm mind; sweeps run worlds that need "
            f"no model (set population.minds without llm)"
        )
    params = [Param.parse(text) for text in args.param]
    jobs = plan(base, params, args.repeats)  # every grid point validated before anything runs
    out = args.out or Path("sweeps") / f"{base.name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    check_new_folder(out)
    sweep = Sweep(out.resolve(), base, params, args.repeats, jobs)
    sweep.start(args.scenario)
    return sweep.run(args.address, quiet=args.quiet)


class Sweep:
    """A sweep folder being filled: rows appended as runs finish, stats at the end."""

    def __init__(
        self,
        folder: Path,
        base: Scenario,
        params: Sequence[Param],
        repeats: int,
        jobs: Sequence[Job],
    ) -> None:
        self.folder = folder
        self.base = base
        self.params = list(params)
        self.repeats = repeats
        self.jobs = list(jobs)
        self.rows: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.columns = [
            "point",
            "repeat",
            "seed",
            *(p.name for p in params),
            "run",
            "state_digest",
            *FIGURES,
        ]

    def start(self, source: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "scenario.yaml").write_text(self.base.to_yaml(), encoding="utf-8")
        spec = {
            "scenario": self.base.name,
            "source": str(source),
            "params": {p.name: list(p.values) for p in self.params},
            "repeats": self.repeats,
            "runs": len(self.jobs),
            "seed_rule": f"repeat r runs with seed ({self.base.seed} + r) mod 2**63 at every "
            f"grid point",
            "confidence": CONFIDENCE,
            "figures": {name: meaning for name, (_, _, meaning) in FIGURES.items()},
        }
        atomic_write(self.folder / "sweep.json", json.dumps(spec, indent=2).encode())
        with open(self.folder / "runs.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow(self.columns)

    def run(self, address: str | None, quiet: bool = False) -> int:
        import ray

        from actors.ray_runtime import connect
        from actors.sweep import sweep_task

        connect(address)
        task = ray.remote(num_cpus=1, max_retries=1)(sweep_task)
        node = ray.get_runtime_context().get_node_id()
        pending = {
            task.remote(job.scenario, str(self.folder / job.folder), node): job for job in self.jobs
        }
        progress = SweepProgress(len(self.jobs), quiet)
        try:
            with progress:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    job = pending.pop(ready[0])
                    self._finish(job, ready[0], ray)
                    progress.advance(job.point.label(self.params))
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            self.write_stats()
            print(
                f"socius: sweep stopped; {self.folder} keeps the {len(self.rows)} finished runs "
                f"of {len(self.jobs)} (runs.csv, stats.csv); folders under runs/ that are not in "
                f"runs.csv are unfinished",
                file=sys.stderr,
            )
            return 130
        self.write_stats()
        if not quiet:
            print_table(self)
        print(f"sweep folder: {self.folder} ({len(self.rows)} runs)")
        if self.failures:
            print(
                f"socius: {len(self.failures)} of {len(self.jobs)} runs failed; first: "
                f"{self.failures[0]}",
                file=sys.stderr,
            )
            return 1
        return 0

    def _finish(self, job: Job, ref: Any, ray: Any) -> None:
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
            **figures_of(summary),
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
                out.append((point, {f: Estimate.of([float(r[f]) for r in rows]) for f in FIGURES}))
        return out

    def write_stats(self) -> None:
        """runs.csv in grid order, and stats.csv, both replaced whole."""
        self.rows.sort(key=lambda r: (r["point"], r["repeat"]))
        atomic_write(self.folder / "runs.csv", _csv(self.columns, self.rows))
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
        atomic_write(self.folder / "stats.csv", _csv(columns, rows))


def estimate_cells(est: Estimate) -> dict[str, Any]:
    def fmt(x: float) -> str:
        return "" if math.isnan(x) else repr(round(x, 9))

    return {
        "n": est.n,
        "mean": fmt(est.mean),
        "sd": fmt(est.sd),
        "ci_low": fmt(est.ci_low),
        "ci_high": fmt(est.ci_high),
    }


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


class SweepProgress:
    """A bar of finished runs, naming the last grid point that finished."""

    def __init__(self, total: int, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]runs"),
            MofNCompleteColumn(),
            BarColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}"),
            console=Console(stderr=True),
            disable=quiet,
        )
        self._task = self._progress.add_task("sweep", total=total, last="")

    def __enter__(self) -> SweepProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def advance(self, label: str) -> None:
        self._progress.update(self._task, advance=1, last=label)


def print_table(sweep: Sweep) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{sweep.base.name}: mean ± 95% CI half-width over repeats",
        header_style="bold",
    )
    for p in sweep.params:
        table.add_column(p.name)
    table.add_column("n", justify="right")
    for figure in HEADLINE:
        table.add_column(figure, justify="right")
    for point, figures in sweep.estimates():
        cells = [shown(v) for v in point.values]
        cells.append(str(figures[HEADLINE[0]].n))
        for figure in HEADLINE:
            est = figures[figure]
            half = "" if math.isnan(est.half_width) else f" ± {est.half_width:.3g}"
            cells.append(f"{est.mean:.3g}{half}")
        table.add_row(*cells)
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(table)
