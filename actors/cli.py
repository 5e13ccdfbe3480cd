"""The `socius` command line.

    socius run SCENARIO        run a world and write its run folder
    socius validate SCENARIO   check a scenario file
    socius journal cat RUN     print a run's envelopes
    socius journal stats RUN   count a run's envelopes

Flags become a validated `Scenario` here and are read nowhere else. A user error prints one
line naming what is wrong and how to fix it and exits with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from world.errors import SociusError, UserError

if TYPE_CHECKING:
    from world.runtime import LocalRuntime

EPILOG = """examples:
  socius run examples/village.yaml
  socius run examples/village.yaml --ticks 50 --seed 7 --shards 4 --out runs/v7
  socius validate examples/town-10k.yaml
  socius journal cat runs/v7 --character 12 --limit 20
  socius journal stats runs/v7
"""


def _positive(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, not {text!r}"
            ) from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be at least 1, not {value}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, not {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"seed must be in 0 .. 2**63-1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="socius",
        description="Run a living world of characters who promise, trade, gossip, betray and "
        "forgive, and read what happened.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a world and write its run folder",
        description="Run a scenario and write its run folder (scenario.yaml, "
        "summary.json, metrics.csv, journal/, checkpoints/).",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    run.add_argument(
        "--ticks", type=_positive("--ticks"), help="ticks to run (default: the scenario's)"
    )
    run.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    run.add_argument(
        "--characters",
        type=_positive("--characters"),
        help="population size (default: the scenario's)",
    )
    run.add_argument(
        "--shards",
        type=_positive("--shards"),
        help="shards to split the characters into (default: the scenario's)",
    )
    run.add_argument("--out", type=Path, help="run folder (default: runs/NAME-seedS-TIME)")
    run.add_argument(
        "--runtime",
        choices=["local"],
        default="local",
        help="where shards run: local = in this process",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or table")

    val = sub.add_parser(
        "validate",
        help="check a scenario file",
        description="Check a scenario file and print what it would run.",
    )
    val.add_argument("scenario", metavar="SCENARIO")

    jr = sub.add_parser(
        "journal", help="read a run's journal", description="Read the envelopes a run recorded."
    )
    jsub = jr.add_subparsers(dest="action", required=True, metavar="ACTION")
    cat = jsub.add_parser("cat", help="print envelopes, one a line")
    cat.add_argument("run", metavar="RUN", type=Path, help="run folder")
    cat.add_argument("--tick", type=int, help="only this tick (when sent)")
    cat.add_argument("--character", type=int, help="only envelopes from or to this character")
    cat.add_argument("--kind", help="only this kind (gift, promise, gossip ...)")
    cat.add_argument("--limit", type=_positive("--limit"), help="stop after this many")
    cat.add_argument("--json", action="store_true", help="one JSON object a line")
    stats = jsub.add_parser("stats", help="count envelopes by kind and tick")
    stats.add_argument("run", metavar="RUN", type=Path, help="run folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "journal":
            from actors.journal_cli import cmd_journal

            return cmd_journal(args)
    except UserError as err:
        print(f"socius: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:
        return 0
    except SociusError as err:
        print(f"socius: {err}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command!r}")
    return 2


def cmd_validate(args: argparse.Namespace) -> int:
    from world.scenario import load_scenario

    sc = load_scenario(args.scenario)
    print(
        f"{args.scenario}: valid. {sc.name}: {sc.population.size} characters, {sc.ticks} "
        f"ticks, seed {sc.seed}, {sc.shards} shard(s), norm {sc.norm}, minds "
        + ", ".join(f"{k} {v:g}" for k, v in sc.population.minds.items())
    )
    return 0


class _Stop:
    """Ctrl-C asks the run to stop after the current tick; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def cmd_run(args: argparse.Namespace) -> int:
    from actors.progress import RunProgress, print_figures
    from world.record import RunRecord
    from world.runtime import LocalRuntime
    from world.scenario import load_scenario

    sc = load_scenario(args.scenario)
    sc = sc.with_overrides(
        **{
            "ticks": args.ticks,
            "seed": args.seed,
            "shards": args.shards,
            "population.size": args.characters,
        }
    )
    out = args.out or Path("runs") / (
        f"{sc.name}-seed{sc.seed}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    record = RunRecord(out, sc, sc.shards)
    runtime = LocalRuntime(sc, sc.shards, record)
    stop = _Stop()
    previous = signal.signal(signal.SIGINT, stop)
    progress = RunProgress(sc.ticks, quiet=args.quiet)
    try:
        with progress:
            result = runtime.run(
                sc.ticks, on_tick=progress.tick, should_stop=lambda: stop.requested
            )
    except KeyboardInterrupt:
        # a second Ctrl-C: stop inside the tick, keep only whole ticks, write no checkpoint
        record.rewind()
        record.summary(interrupted_summary(runtime))
        record.close()
        print(
            f"socius: interrupted during tick {runtime.completed + 1}; the run folder {out} "
            f"holds ticks 1..{runtime.completed} (no checkpoint of the unfinished tick)",
            file=sys.stderr,
        )
        return 130
    except BaseException:
        record.rewind()
        record.close()
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    runtime.snapshot()
    record.summary(result.summary(sc, runtime.n_shards, runtime.name))
    record.close()
    if not args.quiet:
        print_figures(result, out)
    if result.stopped_early:
        print(
            f"socius: stopped at tick {result.ticks} of {sc.ticks}; the run folder {out} "
            f"holds everything up to there",
            file=sys.stderr,
        )
        return 130
    return 0


def interrupted_summary(runtime: LocalRuntime) -> dict[str, object]:
    """The summary of a run stopped inside a tick: its whole ticks' figures, no digest (the
    shards' state is half-way through a tick)."""
    from world.runtime import RunResult

    result = RunResult(runtime.completed, "", runtime.totals, runtime.last, 0.0, True)
    summary = result.summary(runtime.scenario, runtime.n_shards, runtime.name)
    summary["state_digest"] = None
    summary["interrupted"] = "inside a tick"
    return summary


if __name__ == "__main__":
    sys.exit(main())
