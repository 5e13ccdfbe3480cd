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
    socius dataset RUN...      make training data from runs, labelled with the world's truth
    socius train               fine-tune a LoRA adapter from a dataset, on the CPU
    socius model prepare DIR   make SmolLM2, the project's real small model, ready for vLLM
    socius eval                score minds' emotional intelligence against the world's truth
    socius view RUN            watch a live or recorded world in the browser
    socius interview RUN       ask a character of a run a question, in its voice
    socius survey RUN          put a questionnaire to a sample of a run's characters
    socius experiment SCENARIO treatment and control arms on the same seeds, paired effects

Each command is one module of actors/cli with `HELP`, `DESCRIPTION`, optional `EPILOG`,
`parents()` (the shared flags it takes, from actors/cli/flags.py) and `add_arguments(parser)`,
which sets the function that runs it (`set_defaults(func=...)`). Only the command asked for is
imported, so `socius --help` and a command's `--help` start at once whatever the others need
(Ray, matplotlib, gRPC). Flags become validated values here and are read nowhere else. A user
error prints one line naming what is wrong and how to fix it and exits with code 2; no
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from world.errors import SociusError, UserError

#: command -> (its module, its line in `socius --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("actors.cli.run", "run a world and write its run folder"),
    "resume": ("actors.cli.resume", "continue a stopped run from its last checkpoint"),
    "validate": ("actors.cli.validate", "check a scenario file"),
    "journal": ("actors.cli.journal", "read a run's journal"),
    "traces": ("actors.cli.traces", "read a run's LLM requests and answers"),
    "sweep": ("actors.cli.sweep", "run a grid of scenario variants, repeated, as Ray tasks"),
    "report": ("actors.cli.report", "write an HTML page with plots of a run or a sweep"),
    "loadtest": (
        "actors.cli.loadtest",
        "load-test OpenAI-compatible LLM servers with the traffic of a living world",
    ),
    "serve": (
        "actors.cli.serve",
        "run a world in real time that players and outside agents join over gRPC",
    ),
    "play": ("actors.cli.play", "play a character of a served world from a terminal"),
    "dataset": ("actors.cli.dataset", "make training data from recorded runs"),
    "train": (
        "actors.cli.train",
        "fine-tune a LoRA adapter of a small model on the CPU from a dataset",
    ),
    "model": ("actors.cli.model", "make a language model ready for the characters' minds"),
    "eval": (
        "actors.cli.eval",
        "score minds on reading hidden feelings and judging trust, against the world's truth",
    ),
    "view": ("actors.cli.view", "watch a live or recorded world in the browser"),
    "interview": ("actors.cli.interview", "ask a character of a run a question, in its voice"),
    "survey": ("actors.cli.survey", "put a questionnaire to a sample of a run's characters"),
    "experiment": (
        "actors.cli.experiment",
        "run treatment and control arms on the same seeds and measure paired effects",
    ),
}

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
  socius eval --scenario examples/village.yaml --seeds 101-105 --out evals/v1
  socius dataset runs/v1 runs/v2 --kind reading --test-seeds 2 --out data/reading
  socius train --base models/smollm2 --data data/reading --out adapters/reading --max-steps 200
"""


def command_module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of the command `argv` names, with every command listed; with no argv, the
    whole parser (every command's flags: slower, for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="socius",
        description="Run a living world of characters who promise, trade, gossip, betray and "
        "forgive, and read what happened.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    asked = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for name, (_, line) in COMMANDS.items():
        if argv is not None and name != asked:
            sub.add_parser(name, help=line)
            continue
        module = command_module(name)
        p = sub.add_parser(
            name,
            help=line,
            description=getattr(module, "DESCRIPTION", line),
            epilog=getattr(module, "EPILOG", None),
            formatter_class=(
                argparse.RawDescriptionHelpFormatter
                if hasattr(module, "EPILOG")
                else argparse.HelpFormatter
            ),
            parents=module.parents() if hasattr(module, "parents") else [],
        )
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except UserError as err:
        print(f"socius: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:  # a command with nothing of its own to keep
        print("socius: interrupted", file=sys.stderr)
        return 130
    except SociusError as err:
        print(f"socius: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
