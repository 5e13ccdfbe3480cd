"""`socius sweep`: run a grid of scenario variants as Ray tasks and write the sweep folder.

    sweep.json      what was swept: scenario, parameters and values, repeats, the seed rule
    scenario.yaml   the base scenario (with --ticks applied)
    runs.csv        one row per finished run: grid point, repeat, seed, parameter values, its
                    run folder, state digest and figures (actors.lab.sweep_figures: a village's
                    figures, or a classic game's results)
    stats.csv       one row per grid point and figure: n, mean, sd, 95% CI (t distribution)
    runs/pNNN-rKK/  the run folder of grid point NNN, repeat KK (read it with `socius report`)

Rows are written as runs finish, so Ctrl-C keeps every finished row (and writes stats.csv of
them); the runs still going are cancelled, and the same command with --resume runs them.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from actors.cli.sweep_show import SweepProgress, print_table
from actors.lab.stats import CONFIDENCE, Estimate
from actors.lab.sweep import Job, Param, Point, plan, points, shown, unpack_folder
from actors.lab.sweep_figures import FIGURES, HEADLINE, Figures, figures_for
from world.errors import UserError
from world.record import atomic_write, check_new_folder
from world.scenario import Scenario, load_scenario, parse_scenario

SWEEP_EPILOG = """examples:
  socius sweep examples/village.yaml --param information.gossip=false,true --repeats 5
  socius sweep examples/village.yaml --param noise.execution=0,0.05 \\
      --param population.size=50,100 --repeats 3 --ticks 40 --out sweeps/noise
  socius sweep examples/studies/gossip.yaml --param information.gossip=false,true \\
      --param population.traits.honesty.mean=0.4,0.8 --repeats 4 --address auto
  socius sweep examples/village.yaml --param noise.execution=0,0.05 \\
      --param population.size=50,100 --repeats 3 --ticks 40 --out sweeps/noise --resume
  socius sweep examples/studies/scarcity.yaml --param economy.abundance=0.4,1 \\
      --show care_gifts,hungry,in_need
  socius sweep examples/classic/donation.yaml --param classic.reputation=public,private \\
      --param classic.rounds=60 --repeats 2 --show good_fraction_late,cooperation_rate
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
    sw.add_argument(
        "--resume",
        action="store_true",
        help="if --out already holds this same sweep (stopped with Ctrl-C, say), keep its "
        "finished runs and run only the rest",
    )
    sw.add_argument(
        "--show",
        metavar="FIGURE[,...]",
        help=f"figures the closing table shows (default: the headline ones; for a village "
        f"{','.join(HEADLINE)}); any of runs.csv's: for a village {', '.join(FIGURES)}; "
        f"for a classic game its results, named by their path in summary.json's results "
        f"(good_fraction_late, 'by_strategy.Tit For Tat.total', contributions_last ...)",
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
    sweep = Sweep(out.resolve(), base, params, args.repeats, jobs)
    show = sweep.figures.chosen(args.show)  # checked before the folder is made
    if args.resume and (out / "sweep.json").is_file():
        sweep.reopen()
    else:
        check_new_folder(out)
        sweep.start(args.scenario)
    return sweep.run(args.address, quiet=args.quiet, show=show)


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
            "figures": self.figures.meanings,
            "headline": list(self.figures.headline),
        }
        atomic_write(self.folder / "sweep.json", json.dumps(spec, indent=2).encode())
        with open(self.folder / "runs.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow(self.columns)

    def reopen(self) -> None:
        """Continue the sweep already in the folder: keep its finished rows (their run
        folders), clear the folders of unfinished runs, and leave the rest to do."""
        try:
            spec = json.loads((self.folder / "sweep.json").read_text(encoding="utf-8"))
            ran = parse_scenario(
                yaml.safe_load((self.folder / "scenario.yaml").read_text(encoding="utf-8"))
            )
        except (OSError, ValueError, yaml.YAMLError, UserError):
            raise UserError(
                f"--resume: {self.folder} holds a damaged sweep (sweep.json, scenario.yaml); "
                f"choose another --out"
            ) from None
        same = (
            ran == self.base
            and spec.get("params") == {p.name: list(p.values) for p in self.params}
            and spec.get("repeats") == self.repeats
        )
        if not same:
            raise UserError(
                f"--resume: {self.folder} holds another sweep (its scenario, --ticks, --param "
                f"or --repeats differ); give the same ones, or choose another --out"
            )
        with open(self.folder / "runs.csv", newline="", encoding="utf-8") as f:
            finished = [r for r in csv.DictReader(f) if self._whole(r)]
        self.rows = [{**r, "point": int(r["point"]), "repeat": int(r["repeat"])} for r in finished]
        done = {r["run"] for r in self.rows}
        self.todo = [job for job in self.jobs if job.folder not in done]
        for job in self.todo:
            shutil.rmtree(self.folder / job.folder, ignore_errors=True)
        atomic_write(self.folder / "runs.csv", _csv(self.columns, self.rows))

    def _whole(self, row: dict[str, Any]) -> bool:
        """A row written whole: every column there, every one but a figure filled (a figure
        is empty where its run has no such number: a strategy no one played)."""
        figures = set(self.figures.names)
        return all(row.get(c) is not None and (c in figures or row[c] != "") for c in self.columns)

    def run(self, address: str | None, quiet: bool = False, show: Sequence[str] = ()) -> int:
        import ray

        from actors.cluster.connect import connect
        from actors.lab.sweep import sweep_task

        connect(address)
        task = ray.remote(num_cpus=1, max_retries=1)(sweep_task)
        node = ray.get_runtime_context().get_node_id()
        pending = {
            task.remote(job.scenario, str(self.folder / job.folder), node): job for job in self.todo
        }
        progress = SweepProgress(len(self.jobs), quiet, done=len(self.rows))
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
                f"of {len(self.jobs)} (runs.csv, stats.csv); the same command with --resume "
                f"runs the rest",
                file=sys.stderr,
            )
            return 130
        self.write_stats()
        if not quiet:
            print_table(
                self.base.name, self.params, self.estimates(), show or self.figures.headline
            )
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


def _values(rows: Sequence[dict[str, Any]], figure: str) -> list[float]:
    """A figure's values in these rows (a cell is empty where a run has no such number)."""
    return [float(r[figure]) for r in rows if r.get(figure) not in (None, "")]


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
