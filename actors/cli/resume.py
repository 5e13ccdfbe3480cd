"""`socius resume RUN`: continue a stopped run from its last checkpoint, to its end."""

from __future__ import annotations

import argparse

from actors.cli import flags
from actors.cli.run import resume_folder, runtime_parents

DESCRIPTION = (
    "Continue a run that was stopped (Ctrl-C, a killed process, a lost cluster) from its last "
    "complete checkpoint, to the end of its scenario. It ends with the digest the "
    "uninterrupted run would have had."
)


def parents() -> list[argparse.ArgumentParser]:
    return runtime_parents()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run", metavar="RUN", type=flags.place, help="run folder, or its object store URL"
    )
    p.set_defaults(func=resume)


def resume(args: argparse.Namespace) -> int:
    return resume_folder(args, args.run)
