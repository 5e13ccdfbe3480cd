"""`socius dataset RUN... --kind reading|decisions|dialogue --out DIR`: training data from
recorded runs, labelled with the world's truth (actors/lab/dataset.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from actors.cli import flags
from actors.lab.dataset import (
    KINDS,
    SPLITS,
    Run,
    check_decisions,
    pairs,
    rows_of,
    sample,
    split_of,
    write_dataset,
)
from world.errors import UserError
from world.record import check_new_folder

DESCRIPTION = (
    "Make a dataset that Hugging Face `datasets` loads (parquet, with a dataset card) from "
    "recorded runs: readings of hidden feelings labelled with the truth (any run), a model's "
    "decisions with their consequences (runs of llm minds), or the dialogue between characters "
    "with both sides' hidden feelings. Splits go by world seed."
)
EPILOG = """examples:
  socius dataset runs/v1 runs/v2 runs/v3 --kind reading --test-seeds 3 --out data/reading
  socius dataset runs/l1 runs/l2 --kind decisions --good --out data/good-decisions
  socius dataset runs/l1 runs/l2 --kind decisions --pairs --out data/pairs
  socius dataset runs/v1 --kind dialogue --max-examples 500 --out data/dialogue

Load it:  datasets.load_dataset("parquet", data_files={"train": "DIR/train.parquet"})
"""


def parents() -> list[argparse.ArgumentParser]:
    return [flags.quiet_flag("no progress bar: one line at the end")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders")
    p.add_argument("--kind", choices=KINDS, required=True, help="what the data is about")
    p.add_argument(
        "--out", type=flags.local("--out"), required=True, help="the dataset's folder (new)"
    )
    p.add_argument(
        "--train-seeds",
        type=flags.seeds("--train-seeds"),
        metavar="SEEDS",
        help="the worlds (by seed) of the train split (default: every run not in --test-seeds)",
    )
    p.add_argument(
        "--test-seeds",
        type=flags.seeds("--test-seeds"),
        metavar="SEEDS",
        help="the worlds (by seed) of the test split (default: none)",
    )
    p.add_argument(
        "--max-examples",
        type=flags.positive("--max-examples"),
        metavar="N",
        help="at most N rows per split, drawn from all of them by a hash of each row's "
        "identity (the same rows every time), kept in order",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--good",
        action="store_true",
        help="decisions: keep only those whose consequences were good (filtered SFT)",
    )
    which.add_argument(
        "--pairs",
        action="store_true",
        help="decisions: pair a good and a bad answer to the same kind of situation "
        "(prompt, chosen, rejected: preference data)",
    )
    p.set_defaults(func=make_dataset)


def make_dataset(args: argparse.Namespace) -> int:
    if (args.good or args.pairs) and args.kind != "decisions":
        raise UserError("--good and --pairs are for --kind decisions")
    if len(set(args.runs)) != len(args.runs):
        raise UserError("a run is given twice; give each run once")
    runs = [Run.of(folder) for folder in args.runs]
    split = split_of(runs, args.train_seeds, args.test_seeds)
    if args.kind == "decisions":  # before anything is shown: what each run lacks
        for run in runs:
            check_decisions(run)
    check_new_folder(args.out)
    rows: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} runs"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=args.quiet,
        transient=True,
    )
    with progress:
        task = progress.add_task("runs", total=len(runs))
        for run in sorted(runs, key=lambda r: (r.seed, str(r.folder))):
            progress.update(task, description=f"{args.kind}: {run.folder.name}")
            made = rows_of(run, args.kind)
            if args.good:
                made = [r for r in made if r["good"] and r["valid"]]
            elif args.pairs:
                made = pairs(made)
            rows[split[str(run.folder)]].extend(made)
            progress.advance(task)
    if args.max_examples is not None:
        rows = {s: sample(r, args.max_examples) for s, r in rows.items()}
    if not any(rows.values()):
        raise UserError(
            f"the runs hold nothing for --kind {args.kind}"
            + (" (no good and bad answers to the same kind of situation)" if args.pairs else "")
        )
    spec = {
        "runs": [[str(r.folder), r.seed] for r in runs],
        "seeds": {s: sorted({r.seed for r in runs if split[str(r.folder)] == s}) for s in SPLITS},
        "filter": "good" if args.good else "pairs" if args.pairs else None,
    }
    summary = write_dataset(args.out, args.kind, rows, spec)
    counts = ", ".join(f"{n} {s}" for s, n in summary["counts"].items() if n)
    print(f"{args.out}: {args.kind} dataset, {counts}")
    if not args.quiet:
        for s, b in summary["balance"].items():
            if b:
                print(f"  {s}: {b}")
    return 0
