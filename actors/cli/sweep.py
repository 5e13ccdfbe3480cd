"""`socius sweep`: run a grid of scenario variants as Ray tasks and write the sweep folder
(actors/lab/sweep_folder.py says what it holds).

Rows are written as runs finish, so Ctrl-C keeps every finished row (and writes stats.csv of
them); the runs still going are cancelled, and the same command with --resume runs them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from actors.cli import flags
from actors.cli.sweep_show import SweepProgress, print_effects, print_table
from actors.cluster.connect import connect
from actors.lab.sweep import Job, Param, plan, reference
from actors.lab.sweep_figures import FIGURES, HEADLINE
from actors.lab.sweep_folder import Outcome, Sweep
from world.errors import UserError
from world.journal_mode import OFF, JournalMode
from world.record import check_new_folder
from world.scenario import Scenario, load_scenario

DESCRIPTION = (
    "Run every combination of the --param values, each --repeats times, as Ray tasks (one CPU "
    "and one whole in-process world each) on this machine or a cluster. Writes a sweep folder: "
    "runs.csv (a row per run: parameters, seed, digest, figures), stats.csv (per grid point: "
    "mean, sd, n and a 95% confidence interval from the t distribution) and every run's folder "
    "under runs/ (without a journal unless --journal says otherwise), and effects.csv and "
    "curves.csv: every grid point against the first (or --compare-to), paired by repeat seed: "
    "the mean difference, its 95% interval and Cohen's d_z, at the end and tick by tick."
)
EPILOG = """examples:
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
  socius sweep examples/studies/scarcity.yaml --param economy.abundance=0.4,1,1.5 \\
      --compare-to economy.abundance=1 --repeats 5 --out sweeps/scarcity
  socius report sweeps/noise

Repeat r of every grid point runs with seed (scenario seed + r); re-run any row alone with
`socius run SCENARIO --seed S` and its parameter values to get the same figures and digest.
"""


def parents() -> list[argparse.ArgumentParser]:
    return [
        flags.address_flag(),
        flags.journal_flag("off: a sweep's figures come from summaries, metrics and checkpoints"),
        flags.quiet_flag("no progress bar or table"),
    ]


def add_arguments(sw: argparse.ArgumentParser) -> None:
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
        type=flags.positive("--repeats"),
        default=3,
        metavar="K",
        help="runs per grid point, with seeds seed, seed+1, ... (default 3; 2 or more for "
        "confidence intervals)",
    )
    folder_flags(sw, "sweep", "sweeps")
    sw.add_argument(
        "--show",
        metavar="FIGURE[,...]",
        help=f"figures the closing table shows (default: the headline ones; for a village "
        f"{','.join(HEADLINE)}); any of runs.csv's: for a village {', '.join(FIGURES)}; "
        f"for a classic game its results, named by their path in summary.json's results "
        f"(good_fraction_late, 'by_strategy.Tit For Tat.total', contributions_last ...)",
    )
    sw.add_argument(
        "--compare-to",
        metavar="POINT",
        help="the grid point effects.csv and curves.csv compare the others with, pair by pair: "
        "its number (runs.csv's point; default 0, the first) or its values, e.g. "
        "economy.abundance=1",
    )
    sw.set_defaults(func=cmd_sweep)


def folder_flags(parser: argparse.ArgumentParser, kind: str, default: str) -> None:
    """--ticks, --out and --resume, as sweeps and experiments take them."""
    parser.add_argument(
        "--ticks", type=flags.positive("--ticks"), help="ticks per run (default: the scenario's)"
    )
    parser.add_argument(
        "--out", type=flags.local("--out"), help=f"{kind} folder (default: {default}/NAME-TIME)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help=f"if --out already holds this same {kind} (stopped with Ctrl-C, say), keep its "
        f"finished runs and run only the rest",
    )


def no_model(base: Scenario, what: str) -> None:
    """Sweeps and experiments run worlds that need no model."""
    if base.thinks_with_model():
        raise UserError(
            f"scenario {base.name} gives characters the llm mind; {what} run worlds that need "
            f"no model (set population.minds without llm)"
        )


def journal_for(args: argparse.Namespace, jobs: list[Job]) -> JournalMode:
    """What the runs' journals keep (--journal; default off), checked against every run."""
    journal = flags.journal_mode(args, OFF)
    for job in jobs:
        problem = journal.problem(job.scenario.population.size)
        if problem:
            raise UserError(problem)
    return journal


def cmd_sweep(args: argparse.Namespace) -> int:
    base = load_scenario(args.scenario).with_overrides(ticks=args.ticks)
    no_model(base, "sweeps")
    params = [Param.parse(text) for text in args.param]
    jobs = plan(base, params, args.repeats)  # every grid point validated before anything runs
    journal = journal_for(args, jobs)
    point = reference(args.compare_to, params, jobs)
    out = args.out or Path("sweeps") / f"{base.name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    sweep = Sweep(out.resolve(), base, params, args.repeats, jobs, journal, point)
    return carry_out(sweep, args, args.compare_to is not None)


def carry_out(sweep: Sweep, args: argparse.Namespace, effects: bool) -> int:
    """Make (or --resume) the folder, run what is left with a progress bar and print the
    closing table (and the effects against the reference, if `effects`); Ctrl-C keeps every
    finished run. Everything is checked before the folder is made."""
    show = sweep.figures.chosen(args.show)  # checked before the folder is made
    connect(args.address)  # a cluster that cannot be reached leaves no folder behind
    out = args.out or sweep.folder
    if args.resume and (out / sweep.SPEC).is_file():
        sweep.reopen()
    else:
        check_new_folder(out)
        sweep.start(args.scenario)
    try:
        with SweepProgress(len(sweep.jobs), args.quiet, done=len(sweep.rows)) as progress:
            outcome = sweep.run(args.address, progress.advance)
    except KeyboardInterrupt:  # before the runs were sent: nothing finished, nothing to cancel
        sweep.write_stats()
        outcome = Outcome(True, [])
    if outcome.interrupted:
        print(
            f"socius: {sweep.kind} stopped; {sweep.folder} keeps the {len(sweep.rows)} "
            f"finished runs of {len(sweep.jobs)} (runs.csv, stats.csv); the same command with "
            f"--resume runs the rest",
            file=sys.stderr,
        )
        return 130
    if not args.quiet:
        show = show or sweep.figures.headline
        print_table(sweep.base.name, sweep.params, sweep.estimates(), show)
        if effects:
            print_effects(sweep.params, sweep.reference, sweep.effects(), show)
    print(f"{sweep.kind} folder: {sweep.folder} ({len(sweep.rows)} runs)")
    if outcome.failures:
        print(
            f"socius: {len(outcome.failures)} of {len(sweep.jobs)} runs failed; first: "
            f"{outcome.failures[0]}",
            file=sys.stderr,
        )
        return 1
    return 0
