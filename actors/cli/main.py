"""The `socius` command line.

    socius run SCENARIO        run a world and write its run folder
    socius resume RUN          continue a stopped run from its last checkpoint
    socius validate SCENARIO   check a scenario file
    socius journal cat RUN     print a run's envelopes
    socius journal stats RUN   count a run's envelopes
    socius traces export RUN   write a run's LLM requests and answers, with outcomes, as JSONL
    socius sweep SCENARIO      run a grid of scenario variants, repeated, as Ray tasks
    socius report RUN_OR_SWEEP write an HTML page with plots of a run or a sweep
    socius loadtest            load-test OpenAI-compatible LLM servers with a world's traffic
    socius serve SCENARIO      run a world in real time that players join over gRPC
    socius play HOST:PORT      play a character of a served world from a terminal

Flags become a validated `Scenario` here and are read nowhere else. A user error prints one
line naming what is wrong and how to fix it and exits with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from world.errors import SociusError, UserError

EPILOG = """examples:
  socius run examples/village.yaml
  socius run examples/village.yaml --ticks 50 --seed 7 --shards 4 --out runs/v7
  socius run examples/village.yaml --runtime local
  socius run examples/town-10k.yaml --address auto --placement spread
  socius resume runs/v7
  socius validate examples/town-10k.yaml
  socius journal cat runs/v7 --character 12 --limit 20
  socius journal stats runs/v7
  socius run examples/village-llm.yaml --llm-endpoint http://gpu-1:8000,http://gpu-2:8000
  socius run examples/village-llm.yaml --llm-engine models/tiny --runtime local --out runs/l1
  socius run examples/village-llm.yaml --llm-replay runs/l1 --out runs/l1-again
  socius traces export runs/l1 --out l1.jsonl
  socius sweep examples/village.yaml --param information.gossip=false,true --repeats 5
  socius sweep examples/village.yaml --param economy.abundance=0.5,1,2 \\
      --param population.size=100,200 --repeats 3 --ticks 60 --out sweeps/scarcity
  socius report runs/v7
  socius report sweeps/scarcity --out scarcity.html
  socius loadtest --endpoint http://gpu-1:8000 --characters 50,100,200 --slo ttft=500,e2e=4000
  socius loadtest --endpoint http://gpu-1:8000 --replay runs/l1 --rates 5,10,20,40
  socius serve examples/players.yaml --grpc-port 50051 --out runs/p1
  socius play localhost:50051 --token TOKEN
  socius run runs/p1/scenario.yaml --players-replay runs/p1 --out runs/p1-again
"""


def _number(
    name: str, kind: type = int, low: float = 1, high: float | None = None, strict: bool = False
) -> Callable[[str], Any]:
    """An argparse type: a `kind` number in [low, high] (above `low` if `strict`), with a
    message that names the flag and the value."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {what}, not {text!r}") from None
        if (value <= low) if strict else (value < low):
            bound = f"above {low}" if strict else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{name} must be {bound}, not {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{name} must be at most {high}, not {text}")
        return value

    return parse


def _positive(name: str) -> Callable[[str], Any]:
    return _number(name)


def _natural(name: str) -> Callable[[str], Any]:
    return _number(name, low=0)


def _fraction(name: str) -> Callable[[str], Any]:
    return _number(name, float, low=0, strict=True)


def add_llm_flags(p: argparse.ArgumentParser, replicas: bool) -> None:
    """Where the model is (--llm-endpoint, --llm-engine, --llm-replay) and how it is asked;
    `replicas`: the runtime has gateway replicas (Ray)."""
    llm = p.add_mutually_exclusive_group()
    llm.add_argument(
        "--llm-endpoint",
        metavar="URL[,URL...]",
        help="OpenAI-compatible servers (vLLM, Ray Serve LLM ...) that answer for characters "
        "with the llm mind, e.g. http://gpu-1:8000; each character keeps to one of them",
    )
    llm.add_argument(
        "--llm-engine",
        metavar="MODEL_DIR",
        help="run vLLM's engine inside the gateway, on the model in this folder",
    )
    llm.add_argument(
        "--llm-replay",
        metavar="RUN",
        type=Path,
        help="answer from the LLM traces of an earlier run: the same run again, no model",
    )
    p.add_argument(
        "--llm-model",
        help="model name to ask the endpoints for (default: the first they list at /v1/models)",
    )
    if replicas:
        p.add_argument(
            "--llm-replicas",
            type=_positive("--llm-replicas"),
            help="gateway replicas on Ray (default 1; with --llm-engine on a cluster with GPUs, "
            "one per GPU, each holding one)",
        )
    p.add_argument(
        "--llm-concurrency",
        type=_positive("--llm-concurrency"),
        help="requests each gateway replica keeps in flight (default 64)",
    )


def add_runtime_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--runtime",
        choices=["ray", "local"],
        help="where shards run: ray = shard actors on a local Ray instance or a cluster "
        "(default; resume: as the run was); local = every shard in this process (tests, "
        "notebooks, debugging)",
    )
    p.add_argument(
        "--address",
        help="Ray cluster to join: auto (the one started on this machine with `ray start`), "
        "ray://HOST:10001 or HOST:6379; default: start a local Ray instance",
    )
    p.add_argument(
        "--placement",
        choices=["pack", "spread"],
        help="pack shard actors onto few nodes, or spread them over all (default: pack; "
        "resume: as the run was)",
    )
    p.add_argument(
        "--actor-cpus",
        type=_fraction("--actor-cpus"),
        help="CPU each shard actor reserves (default: 0.5, less when there are more actors "
        "than that fits)",
    )
    p.add_argument(
        "--actor-resources",
        metavar="NAME=AMOUNT[,...]",
        help="custom Ray resources each shard actor needs, e.g. socius_worker=1",
    )
    add_llm_flags(p, replicas=True)
    p.add_argument(
        "--metrics-port",
        type=_natural("--metrics-port"),
        metavar="PORT",
        help="serve the run's Prometheus metrics on this port (one scrape target for the "
        "whole run, wherever its shards run; 0 picks a free port)",
    )
    p.add_argument(
        "--metrics-host",
        default="0.0.0.0",
        help="address the metrics server listens on (default 0.0.0.0: every interface)",
    )
    p.add_argument(
        "--metrics-linger",
        type=_number("--metrics-linger", float, low=0),
        default=15.0,
        metavar="SECONDS",
        help="after the run, wait up to this long for one more scrape so the final figures "
        "are collected (default 15; 0: do not wait)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar or table: one line at the end (run folder, ticks, digest)",
    )


_seed = _number("--seed", low=0, high=2**63 - 1)


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
    add_runtime_flags(run)
    run.add_argument(
        "--characters-per-actor",
        type=_positive("--characters-per-actor"),
        help="pack this many characters per shard actor (1: one actor per character); "
        "instead of --shards",
    )
    run.add_argument(
        "--checkpoint-every",
        type=_natural("--checkpoint-every"),
        default=10,
        metavar="K",
        help="snapshot every shard each K ticks (and at tick 0) for resume and recovery; "
        "0 turns checkpoints off (default: 10)",
    )

    run.add_argument(
        "--players-replay",
        metavar="RUN",
        type=Path,
        help="the players of a run served with `socius serve` act again as they did there "
        "(its players.jsonl): the served run again, to its digest, on any runtime; run "
        "RUN/scenario.yaml, with --llm-replay RUN if its characters thought with a model",
    )
    run.add_argument(
        "--resume-if-exists",
        action="store_true",
        help="if --out already holds a run of this same scenario, resume it from its last "
        "checkpoint instead of refusing (for jobs that may be started again)",
    )

    resume = sub.add_parser(
        "resume",
        help="continue a stopped run from its last checkpoint",
        description="Continue a run that was stopped (Ctrl-C, a killed process, a lost "
        "cluster) from its last complete checkpoint, to the end of its scenario. It ends with "
        "the digest the uninterrupted run would have had.",
    )
    resume.add_argument("run", metavar="RUN", type=Path, help="run folder")
    add_runtime_flags(resume)

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

    tr = sub.add_parser(
        "traces",
        help="read a run's LLM requests and answers",
        description="Read what characters asked a language model and what came of it.",
    )
    tsub = tr.add_subparsers(dest="action", required=True, metavar="ACTION")
    exp = tsub.add_parser(
        "export",
        help="write chat-format JSONL, one decision a line, with its outcome",
        description="Write each decision the model made as chat messages (system, user, "
        "assistant) with metadata and the consequences that followed: was the promise kept, "
        "was the offer accepted, how the actor's trust in the other moved.",
    )
    exp.add_argument("run", metavar="RUN", type=Path, help="run folder")
    exp.add_argument("--out", type=Path, help="file to write (default: stdout)")

    from actors.cli.report import add_report_parser
    from actors.cli.sweep import add_sweep_parser

    add_sweep_parser(sub, _positive)
    add_report_parser(sub)
    from actors.cli.loadtest import add_loadtest_parser

    add_loadtest_parser(sub, _number)
    from actors.cli.serve import add_serve_parser

    add_serve_parser(sub, _number)
    from actors.cli.play import add_play_parser

    add_play_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            from actors.cli.run import cmd_run

            return cmd_run(args)
        if args.command == "resume":
            from actors.cli.run import cmd_resume

            return cmd_resume(args)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "journal":
            from actors.cli.journal import cmd_journal

            return cmd_journal(args)
        if args.command == "traces":
            return cmd_traces(args)
        if args.command == "sweep":
            from actors.cli.sweep import cmd_sweep

            return cmd_sweep(args)
        if args.command == "report":
            from actors.cli.report import cmd_report

            return cmd_report(args)
        if args.command == "loadtest":
            from actors.cli.loadtest import cmd_loadtest

            return cmd_loadtest(args)
        if args.command == "serve":
            from actors.cli.serve import cmd_serve

            return cmd_serve(args)
        if args.command == "play":
            from actors.cli.play import cmd_play

            return cmd_play(args)
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
    shards = sc.shards if sc.shards is not None else "auto"
    if sc.classic is not None:
        from actors.lab.report_classic import describe_game

        print(
            f"{args.scenario}: valid. {sc.name}: {describe_game(sc)}; {sc.ticks} ticks, seed "
            f"{sc.seed}, shards {shards}"
        )
        return 0
    print(
        f"{args.scenario}: valid. {sc.name}: {sc.population.size} characters, {sc.ticks} "
        f"ticks, seed {sc.seed}, shards {shards}, norm {sc.norm}, minds "
        + ", ".join(f"{k} {v:g}" for k, v in sc.population.minds.items())
    )
    return 0


def cmd_traces(args: argparse.Namespace) -> int:
    from inference.traces import export

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


if __name__ == "__main__":
    sys.exit(main())
