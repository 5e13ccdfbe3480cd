"""`socius survey RUN --questions FILE`: a questionnaire put to a sample of a run's characters."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from actors.cli import flags
from actors.cli.interview import checkpoint_flag, model_target
from actors.lab.interview import Moment
from actors.lab.survey import load_questionnaire, sample_of, survey, write_csv

DESCRIPTION = (
    "Put a questionnaire (YAML: Likert items on trust and feelings, free questions) to a sample "
    "of a run's characters at one of its checkpoints, and write a CSV with one row per "
    "character and item: role, group, mind, the answer and, where the world knows it, the "
    "truth and the gap between what was said and it. llm characters answer through the model "
    "(--llm-endpoint or --llm-engine), the others from their state by a self-report model "
    "(actors/lab/survey.py). Nothing in the run folder changes. `socius report CSV` draws the "
    "answers by group and role."
)
EPILOG = """examples:
  socius survey runs/v7 --questions examples/studies/survey.yaml --sample 100 --out v7.csv
  socius survey runs/v7 --questions examples/studies/survey.yaml --tick 20 --out v7-t20.csv
  socius report v7.csv
"""


def parents() -> list[argparse.ArgumentParser]:
    return [flags.llm_flags(replicas=False), flags.quiet_flag("no progress bar")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run", metavar="RUN", type=flags.fetched_run, help="run folder, or its object store URL"
    )
    p.add_argument(
        "--questions", type=Path, required=True, metavar="FILE", help="the questionnaire (YAML)"
    )
    checkpoint_flag(p)
    p.add_argument(
        "--sample",
        type=flags.positive("--sample"),
        metavar="N",
        help="ask N characters, drawn from the run's seed (the same on any layout; default all)",
    )
    p.add_argument(
        "--out",
        type=flags.local("--out"),
        metavar="CSV",
        help="the CSV to write (default: surveys/RUN-QUESTIONS.csv)",
    )
    p.set_defaults(func=cmd_survey)


def cmd_survey(args: argparse.Namespace) -> int:
    questions = load_questionnaire(args.questions)
    moment = Moment.open(args.run, args.tick)
    target = model_target(args, moment.scenario)
    sample = sample_of(moment, args.sample)
    out = args.out or Path("surveys") / f"{args.run.name}-{args.questions.stem}.csv"
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]survey"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("characters"),
        TimeRemainingColumn(),
        console=console,
        disable=args.quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("survey", total=len(sample))
        rows = survey(
            moment,
            questions,
            sample,
            target,
            report=lambda done, total: bar.update(task, completed=done),
        )
    write_csv(out, rows)
    by_state = sum(1 for r in rows if r["answered_by"] == "state" and r["mind"] == "llm")
    if by_state:
        console.print(
            f"note: {by_state} answers of llm characters came from their state (no "
            f"--llm-endpoint or --llm-engine given)"
        )
    print(
        f"survey: {len(sample)} characters x {len(questions.items)} items at tick "
        f"{moment.tick}: {out}"
    )
    return 0
