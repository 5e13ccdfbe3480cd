"""`socius experiment`: a control arm and treatment arms on the same seeds, as Ray tasks, and
the paired effects of each treatment (actors/lab/experiment.py says what an arm is;
actors/lab/paired.py what effects.csv and curves.csv hold).

Like a sweep, rows are written as runs finish, Ctrl-C keeps every finished one, and the same
command with --resume runs the rest.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from actors.cli import flags
from actors.cli.sweep import carry_out, folder_flags, journal_for, no_model
from actors.lab.experiment import Experiment, arms_of, plan
from actors.lab.sweep_figures import FIGURES, HEADLINE
from world.scenario import load_scenario

DESCRIPTION = (
    "Run a control arm (the scenario as given) and one arm per --treatment file, each --repeats "
    "times on the same seeds (repeat r on seed + r in every arm: common random numbers), as Ray "
    "tasks like a sweep. Writes an experiment folder: runs.csv (a row per arm and repeat: seed, "
    "digest, figures), stats.csv (per arm: mean and 95% interval), effects.csv (per treatment "
    "and figure: the mean paired difference treatment - control, its 95% paired t interval, "
    "Cohen's d_z and the paired t test's p), curves.csv (the difference tick by tick, with its "
    "95% band) and every run's folder under runs/. `socius report` draws it."
)
EPILOG = """A treatment file is YAML: an events: list (appended to the scenario's events) and/or
scenario fields, dotted or nested, as sweeps' --param names them:

  # examples/studies/lean-years.yaml
  economy.abundance: 0.5

examples:
  socius experiment examples/studies/scarcity.yaml --treatment examples/studies/lean-years.yaml \\
      --repeats 5 --ticks 60 --out experiments/lean
  socius experiment examples/village.yaml --treatment a.yaml --treatment b.yaml --repeats 8 \\
      --seed 100 --address auto --out experiments/ab
  socius report experiments/lean
"""


def parents() -> list[argparse.ArgumentParser]:
    return [
        flags.address_flag(),
        flags.journal_flag("off: an experiment's figures come from summaries and metrics"),
        flags.quiet_flag("no progress bar or tables"),
    ]


def add_arguments(ex: argparse.ArgumentParser) -> None:
    ex.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file: the control arm")
    ex.add_argument(
        "--treatment",
        action="append",
        required=True,
        type=Path,
        metavar="FILE",
        help="a YAML file of events: and/or scenario fields that makes one treatment arm, "
        "named by the file; repeat the flag for more arms",
    )
    ex.add_argument(
        "--repeats",
        type=flags.positive("--repeats"),
        default=5,
        metavar="K",
        help="runs per arm, on seeds seed, seed+1, ... in every arm (default 5; at least 2)",
    )
    ex.add_argument(
        "--seed", type=flags.seed(), help="the seed of repeat 0 (default: the scenario's)"
    )
    folder_flags(ex, "experiment", "experiments")
    ex.add_argument(
        "--show",
        metavar="FIGURE[,...]",
        help=f"figures the closing tables show (default {','.join(HEADLINE)}); any of "
        f"runs.csv's: {', '.join(FIGURES)}",
    )
    ex.set_defaults(func=cmd_experiment)


def cmd_experiment(args: argparse.Namespace) -> int:
    base = load_scenario(args.scenario).with_overrides(ticks=args.ticks, seed=args.seed)
    no_model(base, "experiments")
    arms = arms_of(args.treatment)
    jobs = plan(base, arms, args.repeats)  # every arm validated before anything runs
    journal = journal_for(args, jobs)
    out = args.out or Path("experiments") / f"{base.name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    experiment = Experiment(out.resolve(), base, arms, args.repeats, jobs, journal)
    return carry_out(experiment, args, effects=True)
