"""`socius report RUN_OR_SWEEP`: one HTML page with PNG plots of a run or a sweep."""

from __future__ import annotations

import argparse
from pathlib import Path

from actors.cli import flags
from actors.lab.report import write_report
from actors.lab.report_survey import survey_report, surveys_in
from world.errors import UserError

DESCRIPTION = (
    "Write one HTML page with PNG plots. For a run: cooperation, trust and betrayals over time, "
    "trust and wealth at the end, and the trust network at the end coloured by role; for a "
    "classic game (a scenario with classic:), what the game reports: its results and plots of "
    "its kind. For a sweep: each figure against each parameter, with 95% confidence intervals, "
    "and each grid point against the first, paired by seed. For an experiment: each treatment's "
    "paired effects with 95% intervals, and the difference from the control over time."
)
EPILOG = """examples:
  socius report runs/v7                      writes runs/v7/report.html and runs/v7/report_files/
  socius report sweeps/gossip --out gossip.html   writes gossip.html and gossip_files/

The page and its PNGs form one folder-relative set: copy them together.
"""


def add_arguments(rp: argparse.ArgumentParser) -> None:
    rp.add_argument(
        "folder",
        metavar="RUN_OR_SWEEP",
        type=flags.fetched_run,
        help="run, sweep or evaluation folder, or its object store URL; or a survey's CSV "
        "(or a folder of them)",
    )
    rp.add_argument(
        "--out",
        type=flags.local("--out"),
        help="HTML file to write (default: FOLDER/report.html); the plots go in a folder beside it",
    )
    rp.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    if surveys_in(folder) and not (folder / "scenario.yaml").is_file():
        print(f"report: {survey_report(folder, args.out)}")
        return 0
    if not folder.is_dir():
        raise UserError(f"{str(folder)!r} is not a folder; give a run folder or a sweep folder")
    if (folder / "sweep.json").is_file():
        kind = "sweep"
    elif (folder / "experiment.json").is_file():
        kind = "experiment"
    elif (folder / "eval.json").is_file():
        kind = "eval"
    elif (folder / "scenario.yaml").is_file() and (folder / "metrics.csv").is_file():
        kind = "run"
    else:
        raise UserError(
            f"{str(folder)!r} is neither a run folder (scenario.yaml, metrics.csv: `socius "
            f"run` writes one), a sweep folder (sweep.json: `socius sweep` writes one), an "
            f"experiment folder (experiment.json: `socius experiment` writes one) nor an "
            f"evaluation folder (eval.json: `socius eval` writes one)"
        )
    page = write_report(folder, kind, args.out)
    print(f"report: {page}")
    return 0
