"""`socius traces export RUN`: what characters asked a language model, and what came of it."""

from __future__ import annotations

import argparse
import sys

from actors.cli import flags
from inference.traces import export
from world.errors import UserError

DESCRIPTION = "Read what characters asked a language model and what came of it."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    exp = sub.add_parser(
        "export",
        help="write chat-format JSONL, one decision a line, with its outcome",
        description="Write each decision the model made as chat messages (system, user, "
        "assistant) with metadata and the consequences that followed: was the promise kept, "
        "was the offer accepted, how the actor's trust in the other moved.",
    )
    exp.add_argument(
        "run", metavar="RUN", type=flags.fetched_run, help="run folder, or its object store URL"
    )
    exp.add_argument("--out", type=flags.local("--out"), help="file to write (default: stdout)")
    exp.set_defaults(func=export_traces)


def export_traces(args: argparse.Namespace) -> int:
    if not args.run.is_dir():
        raise UserError(f"run folder {str(args.run)!r} not found")
    if args.out is None:
        n = export(args.run, sys.stdout)
    else:
        tmp = args.out.with_name(args.out.name + ".part")
        with open(tmp, "w", encoding="utf-8") as f:
            n = export(args.run, f)
        tmp.replace(args.out)
        print(f"{args.out}: {n} decisions", file=sys.stderr)
    return 0
