"""`socius eval`: how well minds read hidden feelings and judge whom to trust, scored against
the truth of the worlds the situations come from (actors/lab/eval)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from actors.cli import flags
from actors.drive.launch import endpoint_keys
from actors.lab.eval.evaluation import ItemSet, ask, from_runs, from_worlds, scores, write
from actors.lab.eval.minds import MINDS, REFERENCE, Heuristic, Majority, Mind, Oracle, Random
from actors.lab.eval.model import ModelMind
from inference.connect import Target
from inference.train import check_adapter
from world.errors import UserError
from world.record import check_new_folder
from world.scenario import load_scenario

DESCRIPTION = (
    "Evaluate minds on situations drawn from real worlds, scored against what the world knows "
    "and the characters do not: how the other truly felt (reading), and whether a promise was "
    "then kept (trust calibration). Reference minds show what chance (random), a constant "
    "(majority) and the truth (oracle) score. Writes DIR/eval.json and DIR/items.jsonl; "
    "`socius report DIR` draws them."
)
EPILOG = """examples:
  socius eval --scenario examples/village.yaml --seeds 101-105 --items 300 --out evals/v1
  socius eval --minds heuristic,majority,oracle,llm --scenario examples/village.yaml \\
      --seeds 101-103 --train-seeds 1-3 --items 60 --endpoint http://localhost:8000
  socius eval --minds heuristic,llm --engine models/smollm2 --runs runs/a runs/b --items 40
  socius report evals/v1

Reading: each of five feelings (joy, gratitude, anger, sadness, fear) on four levels (none,
low, some, high): exact accuracy, accuracy within one level, macro-F1. Trust: the probability
a promise is kept: Brier score and log loss (lower is better), and a reliability table. Every
figure comes with a 95% interval by bootstrap over the items.
"""


def parents() -> list[argparse.ArgumentParser]:
    return [flags.quiet_flag("no progress bar or table: one line at the end")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--minds",
        type=flags.comma_list("--minds", _mind, "heuristic,random,majority,oracle"),
        default=list(REFERENCE),
        metavar="MIND[,MIND...]",
        help=f"the minds to evaluate, of {', '.join(MINDS)} (default: "
        f"{','.join(REFERENCE)}; llm needs --endpoint or --engine)",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--scenario", type=Path, help="run this scenario's worlds for the items")
    where.add_argument(
        "--runs",
        type=Path,
        nargs="+",
        metavar="RUN",
        help="take the items from these recorded runs (each run again as it ran)",
    )
    p.add_argument(
        "--seeds",
        type=flags.seeds("--seeds"),
        metavar="SEEDS",
        help="with --scenario: the seeds of the test worlds, e.g. 101-105 (default: the "
        "scenario's seed)",
    )
    p.add_argument(
        "--train-seeds",
        type=flags.seeds("--train-seeds"),
        metavar="SEEDS",
        help="with --scenario: seeds of training worlds, never among --seeds; the majority "
        "baseline is fitted to their items (default: to the test items)",
    )
    p.add_argument(
        "--items",
        type=flags.positive("--items"),
        default=200,
        metavar="N",
        help="items of each kind (reading, trust), drawn the same way for any runtime and "
        "layout (default 200)",
    )
    p.add_argument(
        "--ticks", type=flags.positive("--ticks"), help="with --scenario: ticks of each world"
    )
    p.add_argument(
        "--out", type=flags.local("--out"), help="evaluation folder (default: evals/NAME-TIME)"
    )
    model = p.add_argument_group("the llm mind")
    which = model.add_mutually_exclusive_group()
    which.add_argument(
        "--endpoint",
        type=flags.comma_list("--endpoint", str, "http://gpu-1:8000,http://gpu-2:8000"),
        metavar="URL[,URL...]",
        help="OpenAI-compatible servers (vLLM ...) to ask",
    )
    which.add_argument(
        "--engine", type=Path, metavar="MODEL_DIR", help="vLLM's engine in this process"
    )
    model.add_argument("--model", help="the served model's name (default: the first listed)")
    flags.key_env_flag(model, "--api-key-env", "--endpoint")
    model.add_argument(
        "--adapter",
        type=Path,
        metavar="ADAPTER_DIR",
        help="answer with this LoRA adapter (socius train writes one): the engine loads it; a "
        "server must serve it under the folder's name (--lora-modules NAME=ADAPTER_DIR)",
    )
    model.add_argument(
        "--concurrency",
        type=flags.positive("--concurrency"),
        default=32,
        help="requests in flight (default 32)",
    )
    p.set_defaults(func=evaluate)


def _mind(name: str) -> str:
    if name not in MINDS:
        raise argparse.ArgumentTypeError(
            f"--minds: {name!r} is not a mind; choose among {', '.join(MINDS)}"
        )
    return name


def _target(args: argparse.Namespace) -> Target | None:
    """Where the llm mind's model is (None when llm is not asked for)."""
    if "llm" not in args.minds:
        if args.endpoint or args.engine or args.adapter:
            raise UserError(
                "--endpoint, --engine and --adapter are for the llm mind: add llm to --minds"
            )
        return None
    adapters: tuple[tuple[str, str], ...] = ()
    if args.adapter is not None:
        if args.engine is not None:
            check_adapter(args.engine, args.adapter)
        adapters = ((args.adapter.name, str(args.adapter.resolve())),)
    if args.endpoint:
        keys = endpoint_keys(args.api_key_env, len(args.endpoint), "--api-key-env")
        return Target("openai", tuple(args.endpoint), args.model, concurrency=args.concurrency,
                      flag="--endpoint", adapters=adapters, api_keys=keys,
                      key_flag="--api-key-env")  # fmt: skip
    if args.engine is not None:
        return Target(
            "engine",
            (str(args.engine.resolve()),),
            concurrency=args.concurrency,
            flag="--engine",
            adapters=adapters,
        )
    raise UserError(
        "--minds has llm: say where the model is with --endpoint URL or --engine MODEL_DIR "
        "(`socius model prepare DIR` makes SmolLM2 ready)"
    )


def evaluate(args: argparse.Namespace) -> int:
    target = _target(args)
    if args.runs is not None:
        for flag in ("seeds", "train_seeds", "ticks"):
            if getattr(args, flag) is not None:
                raise UserError(
                    f"--{flag.replace('_', '-')} is for --scenario; with --runs the worlds "
                    f"are the recorded ones"
                )
        for run in args.runs:
            if not (run / "scenario.yaml").is_file():
                raise UserError(
                    f"--runs: {str(run)!r} is not a run folder (no scenario.yaml); give "
                    f"folders written by socius run"
                )
        name = "runs"
    else:
        scenario = load_scenario(args.scenario).with_overrides(ticks=args.ticks)
        name = scenario.name
        if scenario.classic is not None:
            raise UserError(
                f"scenario {name} plays a classic game: nobody shows a feeling to be read or "
                f"promises anything, so it has no readable situations; give a village scenario"
            )
        seeds = args.seeds or [scenario.seed]
        shared = sorted(set(seeds) & set(args.train_seeds or []))
        if shared:
            raise UserError(
                f"--train-seeds and --seeds share {', '.join(map(str, shared))}: a world that "
                f"trains a mind must not test it; give seeds that do not overlap"
            )
    out = args.out or Path("evals") / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    check_new_folder(out)
    # the model first: one that cannot start or answer stops here, before any world runs
    model = ModelMind(scenario_of(args), target) if target is not None else None
    try:
        with _Bar(args.quiet) as bar:
            if args.runs is not None:
                items = from_runs(args.runs, args.items, bar.report)
                train = None
            else:
                items = from_worlds(scenario, seeds, args.items, report=bar.report)
                train = (
                    from_worlds(scenario, args.train_seeds, args.items, report=bar.report)
                    if args.train_seeds
                    else None
                )
            minds = _minds(args.minds, items, train, model)
            answers = ask(minds, items, bar.report)
    finally:
        if model is not None:
            model.close()
    figures = scores(items, answers)
    spec = {
        "minds_asked": list(args.minds),
        "majority_fitted_on": "train" if train is not None else "test",
        "train_seeds": list(args.train_seeds or []),
        "model": None if target is None else f"{target.kind} {','.join(target.where)}",
        "adapter": None if args.adapter is None else str(args.adapter),
    }
    write(out, items, answers, figures, spec)
    if args.quiet:
        print(f"{out}: {len(items.readings)} reading and {len(items.trust)} trust items, "
              f"{len(minds)} minds")  # fmt: skip
    else:
        print_table(figures)
        print(f"evaluation folder: {out}")
    return 0


def scenario_of(args: argparse.Namespace) -> Any:
    """The scenario the items' worlds ran (its cast names the characters in prompts)."""
    if args.runs is not None:
        return load_scenario(args.runs[0] / "scenario.yaml")
    return load_scenario(args.scenario).with_overrides(ticks=args.ticks)


def _minds(
    names: list[str], items: ItemSet, train: ItemSet | None, model: Mind | None
) -> list[Mind]:
    fit = train or items
    made: dict[str, Mind] = {
        "heuristic": Heuristic(),
        "random": Random(),
        "majority": Majority(fit.readings, fit.trust),
        "oracle": Oracle(),
    }
    out: list[Mind] = []
    for name in names:
        if name == "llm":
            assert model is not None
            out.append(model)
        else:
            out.append(made[name])
    return out


def _cell(f: dict[str, Any]) -> str:
    if f["value"] is None:
        return "–"
    return f"{f['value']:.3f} [{f['low']:.3f}, {f['high']:.3f}]"


def print_table(figures: dict[str, Any]) -> None:
    """Each mind's figures with their 95% intervals."""
    table = Table(title="emotional intelligence, 95% intervals", header_style="bold")
    for column in ("mind", "reading accuracy", "within one", "macro-F1", "trust Brier ↓",
                   "log loss ↓", "valid"):  # fmt: skip
        table.add_column(column, justify="left" if column == "mind" else "right")
    for name, f in figures.items():
        r, t, v = f["reading"], f["trust"], f["validity"]
        table.add_row(
            name,
            _cell(r["accuracy"]),
            _cell(r["within_one"]),
            _cell(r["macro_f1"]),
            _cell(t["brier"]),
            _cell(t["log_loss"]),
            "–" if v["valid_share"]["value"] is None else f"{v['valid_share']['value']:.3f}",
        )
    Console().print(table)


class _Bar:
    """One progress bar: worlds run, then minds asked (and a model's items answered)."""

    def __init__(self, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=quiet,
            transient=True,
        )
        self.task = self.progress.add_task("eval", total=1)

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def report(self, what: str, done: int, total: int) -> None:
        self.progress.update(self.task, description=what, completed=done, total=max(total, 1))
