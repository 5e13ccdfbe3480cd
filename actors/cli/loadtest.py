"""`socius loadtest`: drive OpenAI-compatible LLM servers with the traffic of a living world and
measure them as vLLM's serving benchmark does.

Closed loop (default): a live world of N characters whose ticks wait for the answers.
Open loop (`--replay RUN`): a recorded run's requests at chosen mean rates.
Each level is one measurement; several levels (`--characters a,b,c` or `--rates a,b,c`) make a
sweep, with a latency-against-load plot and the level of best goodput.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from actors.cli import flags
from actors.cli.flags import number
from actors.cluster.connect import connect
from actors.cluster.loadgen import RayPool
from actors.drive.launch import endpoint_keys
from inference.connect import Target
from inference.loadtest.drive import Measurement
from inference.loadtest.figures import Slo
from inference.loadtest.live import LiveFigures
from inference.loadtest.pool import LocalPool
from inference.loadtest.report import plot, print_table, write_json
from inference.loadtest.workload import Knobs, closed_world, recorded, schedule
from world.errors import UserError
from world.scenario import Language, load_scenario

DESCRIPTION = __doc__
EPILOG = """examples:
  socius loadtest --endpoint http://localhost:8000
  socius loadtest --endpoint http://gpu-1:8000,http://gpu-2:8000 --characters 50,100,200,400 \\
      --ticks 8 --slo ttft=500,tpot=50,e2e=4000 --generators 2 --out loadtests/two-gpus
  socius loadtest --endpoint http://gpu-1:8000 --replay runs/l1 --rates 5,10,20,40 \\
      --arrivals poisson --metrics-port 9300

Every request sent ends as ok, error or timeout. Figures follow vLLM's `vllm bench serve`:
TTFT, TPOT, ITL and E2E (mean, median, p90, p99, in ms), request and token throughput, and
goodput under the SLOs. The output folder holds loadtest.json, each level's samples.jsonl
(one line per request) and, for a sweep, latency.png. A closed-loop level's folder is itself a
recorded run: replay it open loop with --replay OUT/characters-N.
"""


def _level(name: str, kind: type, low: float) -> Callable[[str], Any]:
    """One level of a sweep: a finite number of at least `low`."""

    def parse(text: str) -> Any:
        v = kind(text)  # a ValueError names the item (flags.comma_list)
        if not v >= low or (isinstance(v, float) and not math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"{name}: each level must be at least {low}")
        return v

    return parse


def _levels(name: str, kind: type, low: float) -> Callable[[str], list[Any]]:
    """Levels separated by commas (each once), in increasing order."""
    items = flags.comma_list(name, _level(name, kind, low), "10,20,40")

    def parse(text: str) -> list[Any]:
        return sorted(items(text))

    return parse


def parents() -> list[argparse.ArgumentParser]:
    return [flags.quiet_flag("no progress bar")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--endpoint",
        required=True,
        type=flags.comma_list("--endpoint", str, "http://gpu-1:8000,http://gpu-2:8000"),
        metavar="URL[,URL...]",
        help="OpenAI-compatible servers (vLLM ...); each character's requests go to one of them",
    )
    p.add_argument("--model", help="the served model's name (default: the first /v1/models lists)")
    flags.key_env_flag(p, "--api-key-env", "--endpoint")
    closed = p.add_argument_group("closed loop (default): a live world waiting for its answers")
    closed.add_argument(
        "--characters",
        type=_levels("--characters", int, 2),
        metavar="N[,N...]",
        help="characters in the world; several make a sweep (default 60)",
    )
    closed.add_argument(
        "--ticks", type=number("--ticks"), default=8, help="ticks per level (default 8)"
    )
    closed.add_argument(
        "--scenario",
        type=Path,
        help="the world to use (its size and llm settings are set by these flags; default: a "
        "village)",
    )
    closed.add_argument(
        "--share",
        type=number("--share", float, low=0, strict=True, high=1),
        default=1.0,
        help="share of the characters' decisions sent to the model (default 1: all)",
    )
    closed.add_argument("--seed", type=flags.seed(), default=1, help="default 1")
    opened = p.add_argument_group("open loop: a recorded run's requests at a chosen rate")
    opened.add_argument(
        "--replay",
        type=Path,
        metavar="RUN",
        help="a run folder with LLM traces (a run, or a closed-loop level of an earlier test)",
    )
    opened.add_argument(
        "--rates",
        type=_levels("--rates", float, 0.001),
        metavar="R[,R...]",
        help="mean requests per second; several make a sweep (default 4)",
    )
    opened.add_argument(
        "--arrivals",
        choices=["poisson", "ticks"],
        default="poisson",
        help="poisson: independent arrivals; ticks: each recorded tick's requests at once, as "
        "the run asked them (default poisson)",
    )
    opened.add_argument(
        "--requests",
        type=number("--requests"),
        help="send only the first N recorded requests (default: all)",
    )
    shape = p.add_argument_group("the requests")
    shape.add_argument(
        "--max-tokens",
        type=number("--max-tokens", low=16, high=4096),
        help="answer length limit (default: the scenario's, 96)",
    )
    shape.add_argument(
        "--memories",
        type=number("--memories", low=0, high=32),
        help="episodes recalled into each prompt: the prompt's length (closed loop; default 3)",
    )
    shape.add_argument(
        "--lore",
        type=number("--lore", low=0, high=20_000),
        default=0,
        metavar="WORDS",
        help="words of the world's lore in every prompt's rules: a longer prefix that all "
        "requests share (closed loop; default 0)",
    )
    shape.add_argument(
        "--history",
        type=number("--history", low=0, high=20_000),
        default=0,
        metavar="WORDS",
        help="words of each character's history in its prompt: a longer prefix per character "
        "(closed loop; default 0)",
    )
    shape.add_argument(
        "--words",
        type=number("--words", low=0, high=1000),
        help="characters an utterance may have (default 120)",
    )
    shape.add_argument(
        "--structured",
        choices=["on", "off"],
        default="on",
        help="ask for the answer's JSON schema as structured output (default on)",
    )
    how = p.add_argument_group("how the load is sent and judged")
    how.add_argument(
        "--generators",
        type=number("--generators", low=0, high=1024),
        default=1,
        help="Ray actors sending the load (0: this process, no Ray; default 1)",
    )
    how.add_argument(
        "--generator-cpus",
        type=number("--generator-cpus", float, low=0),
        default=1.0,
        help="CPU each generator actor reserves (default 1)",
    )
    how.add_argument(
        "--address",
        help="the Ray cluster for the generators (default: a local Ray instance)",
    )
    how.add_argument(
        "--max-concurrency",
        type=number("--max-concurrency"),
        help="requests in flight at most, over all generators (default: no limit)",
    )
    how.add_argument(
        "--timeout",
        type=number("--timeout", float, low=0, strict=True),
        default=60.0,
        help="seconds a request may take before it counts as a timeout (default 60)",
    )
    how.add_argument(
        "--slo",
        metavar="ttft=MS,tpot=MS,e2e=MS",
        help="service-level objectives for goodput (any subset)",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--out", type=flags.local("--out"), help="output folder (default loadtests/<time>)"
    )
    out.add_argument(
        "--metrics-port",
        type=flags.port("--metrics-port"),
        help="serve the live figures for Prometheus on this port",
    )
    out.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address the live figures listen on (default 127.0.0.1, this machine only; "
        "0.0.0.0 for a Prometheus elsewhere)",
    )
    p.set_defaults(func=cmd_loadtest)


def _check(args: argparse.Namespace) -> None:
    if args.replay is None:
        if args.rates is not None:
            raise UserError("--rates sets open-loop levels: give --replay RUN as well")
        if args.requests is not None or args.arrivals != "poisson":
            raise UserError("--requests and --arrivals are for the open loop: add --replay RUN")
    else:
        if args.characters is not None or args.scenario is not None:
            raise UserError(
                "--characters and --scenario are for the closed loop; with --replay the "
                "world is the recorded one (leave them out, or leave out --replay)"
            )
        if args.memories is not None or args.lore or args.history:
            raise UserError(
                "--memories, --lore and --history shape a live world's prompts; with --replay "
                "the prompts are the recorded ones"
            )
    out: Path | None = args.out
    if out is not None and (out / "loadtest.json").exists():
        raise UserError(f"--out {out}: it already holds a load test; choose another folder")


def cmd_loadtest(args: argparse.Namespace) -> int:
    _check(args)
    slo = Slo.parse(args.slo)
    urls = tuple(args.endpoint)
    base = load_scenario(args.scenario) if args.scenario else None
    records: list[dict[str, Any]] = []
    if args.replay is not None:
        run_scenario, records = recorded(args.replay)
        if args.requests is not None:
            records = records[: args.requests]
        llm = run_scenario.llm
    else:
        llm = base.llm if base else Language()
    knobs = Knobs(
        share=args.share,
        max_tokens=args.max_tokens or llm.max_tokens,
        memories=args.memories if args.memories is not None else llm.memories,
        lore=args.lore,
        history=args.history,
        words=args.words if args.words is not None else llm.words,
        structured=args.structured == "on",
    )
    k = max(args.generators, 1)
    per = -(-args.max_concurrency // k) if args.max_concurrency else 100_000
    target = Target(
        "openai",
        urls,
        args.model,
        concurrency=per,
        structured=knobs.structured,
        flag="--endpoint",
        api_keys=endpoint_keys(args.api_key_env, len(urls), "--api-key-env"),
        key_flag="--api-key-env",
    )
    out: Path = args.out or Path("loadtests") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    pool = _pool(args, target)
    live = None
    levels: list[dict[str, Any]] = []
    try:
        context = pool.start()
        out.mkdir(parents=True, exist_ok=True)
        if args.metrics_port is not None:
            live = LiveFigures(args.metrics_port, args.metrics_host)
        with _Bar(args.quiet) as bar:
            m = Measurement(pool, out, slo, live, bar.update)
            m.context_length = context
            if args.replay is not None:
                for rate in args.rates or [4.0]:
                    bar.level(f"{rate:g} req/s", len(records))
                    plan = schedule(run_scenario, records, rate, args.arrivals, args.seed, knobs)
                    levels.append(m.open(plan, rate, args.arrivals))
                    write_json(out, _settings(args, knobs, slo), levels)
            else:
                for n in args.characters or [60]:
                    sc = closed_world(n, knobs, args.seed, args.timeout, base)
                    bar.level(f"{n} characters", args.ticks)
                    levels.append(m.closed(sc, args.ticks))
                    write_json(out, _settings(args, knobs, slo), levels)
    except KeyboardInterrupt:
        print("socius: stopped; the finished levels are kept", file=sys.stderr)
        if levels:
            print_table(levels, out)
        return 130
    finally:
        if live is not None:
            live.close()
        pool.close()
    if len(levels) > 1:
        plot(out, levels)
    print_table(levels, out)
    return 0


def _pool(args: argparse.Namespace, target: Any) -> Any:
    if args.generators == 0:
        return LocalPool(target, args.timeout)
    connect(args.address)
    return RayPool(target, args.timeout, args.generators, args.generator_cpus)


def _settings(args: argparse.Namespace, knobs: Any, slo: Any) -> dict[str, Any]:
    return {
        "endpoints": list(args.endpoint),
        "model": args.model,
        "mode": "open" if args.replay is not None else "closed",
        "replay": None if args.replay is None else str(args.replay),
        "arrivals": args.arrivals if args.replay is not None else None,
        "ticks": args.ticks if args.replay is None else None,
        "share": knobs.share,
        "max_tokens": knobs.max_tokens,
        "memories": knobs.memories,
        "lore": knobs.lore,
        "history": knobs.history,
        "words": knobs.words,
        "structured": knobs.structured,
        "generators": args.generators,
        "max_concurrency": args.max_concurrency,
        "timeout_s": args.timeout,
        "seed": args.seed,
        "slo_ms": slo.asked(),
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


class _Bar:
    """A progress bar per level: ticks (closed loop) or requests answered (open loop)."""

    def __init__(self, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[ok]} ok {task.fields[bad]} failed"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=quiet,
        )
        self.task: Any = None

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def level(self, name: str, total: int) -> None:
        self.task = self.progress.add_task(name, total=total, ok=0, bad=0)

    def update(self, done: int, total: int, samples: list[Any]) -> None:
        ok = sum(1 for s in samples if s.outcome == "ok")
        self.progress.update(self.task, completed=done, ok=ok, bad=len(samples) - ok)
