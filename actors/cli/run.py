"""`socius run SCENARIO` and `socius resume RUN`: build a runtime from the flags and drive it to
the end.

Without --quiet a run shows a progress bar and ends with a table (a village's figures, or a
classic game's results); with it, one line on stdout.

A classic game cut short by --ticks runs, and its results describe the rounds it played:
summary.json marks it `stopped_early` and a line on stderr says so (exit 0: the run did all it
was asked).

Ctrl-C stops after the current tick (a last checkpoint is written, exit 130); a second Ctrl-C
stops inside the tick, keeps whole ticks only and writes no checkpoint. Either way
`socius resume RUN` continues from the last checkpoint.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.table import Table

from actors.cli import flags
from actors.cli.progress import RunProgress, journal_row, print_figures
from actors.drive.driver import Driver, game_finished
from actors.drive.exporter import RunExporter
from actors.drive.launch import Launch, build_runtime, model_options
from actors.served.view.live import LiveView, ViewPlace, open_run_view, until_stopped
from world.errors import RunFolderError, UserError
from world.journal_mode import FULL, read_kept
from world.record import (
    SUMMARY,
    RunRecord,
    check_new_folder,
    latest_checkpoint,
    load_run_scenario,
)
from world.runtime import RunResult, Runtime
from world.scenario import load_scenario
from world.store import Store

DESCRIPTION = (
    "Run a scenario and write its run folder (scenario.yaml, summary.json, metrics.csv, "
    "journal/, checkpoints/)."
)


def runtime_parents(replicas: bool = True) -> list[argparse.ArgumentParser]:
    """The flags of every command that runs a world on a runtime: where, with which model,
    with which metrics, how loudly."""
    return [
        flags.runtime_flags(),
        flags.address_flag(),
        flags.llm_flags(replicas=replicas),
        flags.metrics_flags(),
        flags.quiet_flag(
            "no progress bar or table: one line at the end (run folder, ticks, digest)"
        ),
    ]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument(
        "--out",
        type=flags.place,
        metavar="FOLDER_OR_URL",
        help="run folder (default: runs/NAME-seedS-TIME), or an object store: s3://BUCKET/PREFIX "
        "(credentials and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
        "AWS_ENDPOINT_URL; the run stages in a local folder and uploads at each checkpoint "
        "and at the end)",
    )
    p.add_argument(
        "--characters-per-actor",
        type=flags.positive("--characters-per-actor"),
        help="pack this many characters per shard actor (1: one actor per character); "
        "instead of --shards",
    )
    p.add_argument(
        "--checkpoint-every",
        type=flags.natural("--checkpoint-every"),
        default=10,
        metavar="K",
        help="snapshot every shard each K ticks (and at tick 0) for resume and recovery; "
        "0 turns checkpoints off (default: 10)",
    )
    p.add_argument(
        "--players-replay",
        metavar="RUN",
        type=Path,
        help="the players of a run served with `socius serve` act again as they did there "
        "(its players.jsonl): the served run again, to its digest, on any runtime; run "
        "RUN/scenario.yaml, with --llm-replay RUN if its characters thought with a model",
    )
    p.add_argument(
        "--resume-if-exists",
        action="store_true",
        help="if --out already holds a run of this same scenario, resume it from its last "
        "checkpoint instead of refusing (for jobs that may be started again)",
    )
    p.set_defaults(func=run)


def parents() -> list[argparse.ArgumentParser]:
    return [
        flags.world_flags(),
        flags.journal_flag("full"),
        *runtime_parents(),
        flags.view_flags("; beyond it give --tls-cert and --tls-key"),
        flags.tls_flags("serve the page over TLS (https)"),
    ]


def launch_of(args: argparse.Namespace, saved: dict[str, Any] | None = None) -> Launch:
    """How to start the run: the flags, else what the run used before (resume), else the
    defaults."""
    saved = saved or {}

    def pick(flag: Any, name: str, default: Any) -> Any:
        return flag if flag is not None else saved.get(name, default)

    llm = model_options(
        args.llm_endpoint, args.llm_engine, args.llm_replay, None, None, None
    ) or saved.get("llm")
    if llm is not None:
        llm = {
            **llm,
            "model": pick(args.llm_model, "llm_model", llm.get("model")),
            "replicas": pick(args.llm_replicas, "llm_replicas", llm.get("replicas")),
            "concurrency": pick(
                args.llm_concurrency, "llm_concurrency", llm.get("concurrency", 64)
            ),
        }
        if llm["kind"] == "openai" and args.llm_api_key_env is not None:
            llm["key_env"] = args.llm_api_key_env
    players = getattr(args, "players_replay", None)
    return Launch(
        journal=flags.journal_mode(args, FULL),
        runtime=pick(args.runtime, "runtime", "ray"),
        address=args.address,
        placement=pick(args.placement, "placement", "pack"),
        actor_cpus=pick(args.actor_cpus, "actor_cpus", None),
        actor_resources=args.actor_resources or saved.get("actor_resources", {}),
        tick_timeout=(pick(args.tick_timeout, "tick_timeout", None) or None),
        llm=llm,
        players_replay=str(players.resolve()) if players else saved.get("players_replay"),
    )


def run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario)
    sc = sc.with_overrides(
        ticks=args.ticks,
        seed=args.seed,
        shards=args.shards,
        **{"population.size": args.characters},
    )
    shards = sc.shards
    if args.characters_per_actor is not None:
        if args.shards is not None:
            raise UserError("give --shards or --characters-per-actor, not both")
        shards = math.ceil(sc.population.size / args.characters_per_actor)
    if args.view_port is not None:
        check_view(args)
    problem = flags.journal_mode(args, FULL).problem(sc.population.size)
    if problem:
        raise UserError(problem)
    store = Store(
        args.out
        or Path("runs") / f"{sc.name}-seed{sc.seed}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    if args.resume_if_exists and holds_a_run(store):
        out = store.fetch()
        ran = load_run_scenario(out)
        if ran != sc:
            raise UserError(
                f"--resume-if-exists: {str(out)!r} holds a run of another scenario (or other "
                f"--ticks, --seed, --characters or --shards); choose another --out"
            )
        kept = read_kept(out).mode
        asked = flags.journal_mode(args, kept)
        if asked != kept:
            raise UserError(
                f"--resume-if-exists: {str(out)!r} holds a run whose journal keeps {kept}, not "
                f"{asked}; a run keeps one journal mode (drop --journal, or choose another --out)"
            )
        return resume_folder(args, store)
    store.check(new=True)  # before starting Ray
    out = store.fresh()
    check_new_folder(out)
    runtime, record = build_runtime(
        launch_of(args), sc, out, shards, args.checkpoint_every, resume=False, store=store
    )
    return drive(runtime, record, out, args)


def holds_a_run(store: Store) -> bool:
    """Whether `store` already holds files of a run (to resume)."""
    if not store.remote:
        return store.local.is_dir() and any(store.local.iterdir())
    try:
        store.check(new=False)
    except RunFolderError:
        return False
    return True


def resume_folder(args: argparse.Namespace, where: Store | Path | str) -> int:
    """Continue the run at `where` (a folder or an object store) from its last complete
    checkpoint."""
    store = where if isinstance(where, Store) else Store(where)
    if store.remote and not store.local.joinpath("scenario.yaml").exists():
        store.fetch()
    folder = store.local
    sc = load_run_scenario(folder)
    manifest = latest_checkpoint(folder)
    if manifest is None:
        raise RunFolderError(
            f"{str(store)!r} has no complete checkpoint to resume from (the run had "
            f"checkpoints off, or stopped before its first one); start it again with socius run"
        )
    # (a run killed after its last checkpoint, before its summary, resumes to write it)
    if manifest["tick"] >= sc.ticks and (folder / SUMMARY).exists():
        print(f"socius: {store} already ran all {sc.ticks} ticks; nothing to resume")
        return 0
    every = int(manifest.get("checkpoint_every", 10))
    launch = launch_of(args, manifest.get("options"))
    runtime, record = build_runtime(
        launch, sc, folder, int(manifest["n_shards"]), every, resume=True, store=store
    )
    try:
        runtime.restore(manifest)
    except BaseException:
        runtime.close()
        record.close()
        raise
    if not args.quiet:
        print(f"resuming {store} at tick {manifest['tick']} of {sc.ticks}", file=sys.stderr)
    return drive(runtime, record, folder, args)


def check_view(args: argparse.Namespace) -> None:
    """--view-port serves the page on this machine, or beyond it over TLS only; it runs the
    world in process unless --runtime ray is given (then the page reads copies of the shard
    actors' states, fetched once per tick)."""
    if args.runtime is None:
        args.runtime = "local"
    args.view_tls = flags.tls_of(args)
    if args.view_tls is None and not flags.loopback(args.view_host):
        raise UserError(
            f"--view-host {args.view_host} listens beyond this machine, and without TLS the "
            f"page's tokens and the world's hidden feelings would cross the network in the "
            f"clear: give --tls-cert and --tls-key, or use 127.0.0.1"
        )


def linger(view: LiveView) -> None:
    """Keep a finished run's page open until Ctrl-C (or SIGTERM)."""
    view.watch.end("the run ended")
    print(
        f"socius: the run ended; its page stays open at {view.address} until Ctrl-C",
        file=sys.stderr,
        flush=True,
    )
    try:
        until_stopped()
    finally:
        view.server.close()


class _Stop:
    """Ctrl-C asks the run to stop after the current tick; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def drive(runtime: Runtime, record: RunRecord, out: Path, args: argparse.Namespace) -> int:
    """Drive the run to its end (or Ctrl-C) and say how it went."""
    sc = runtime.scenario
    out = Path(out)
    # where the run is, as people name it: the store's URL, or the folder
    shown = record.store.url if record.store is not None else str(out)
    view: LiveView | None = None
    try:
        exporter = (
            RunExporter(args.metrics_port, args.metrics_host, runtime.name)
            if args.metrics_port is not None
            else None
        )
        if getattr(args, "view_port", None) is not None:
            view = open_run_view(
                runtime, out, ViewPlace(args.view_port, args.view_host, args.view_tls)
            )
            print(f"view: {view.address}", file=sys.stderr, flush=True)
        driver = Driver(
            runtime,
            record,
            exporter,
            RunProgress(sc.ticks, quiet=args.quiet, start=runtime.completed),
            watchers=[view.watch.ticked] if view is not None else None,
        )
    except BaseException:
        if view is not None:
            view.server.close()
        record.close()
        runtime.close()
        raise
    stop = _Stop()
    previous = signal.signal(signal.SIGINT, stop)
    try:
        result = driver.run(should_stop=lambda: stop.requested)
    except KeyboardInterrupt:  # a second Ctrl-C: only whole ticks, no checkpoint
        driver.abort(interrupted=True)
        print(
            f"socius: interrupted during tick {runtime.completed + 1}; the run folder {shown} "
            f"holds ticks 1..{runtime.completed} (no checkpoint of the unfinished tick); "
            f"`socius resume {shown}` continues from the last checkpoint",
            file=sys.stderr,
        )
        return 130
    except BaseException:
        driver.abort()
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        if view is not None and stop.requested:
            view.close("the run was stopped")
    summary = driver.finish(result)
    if not driver.close_exporter(args.metrics_linger):
        assert exporter is not None
        print(
            f"socius: no scrape of :{exporter.port} came within --metrics-linger "
            f"{args.metrics_linger:g} s of the end; the record holds the final figures",
            file=sys.stderr,
        )
    if args.quiet:  # one line for logs (a RayJob's, say): where the run is and how it ended
        print(
            f"{shown}: {result.ticks} ticks of {sc.population.size} characters on "
            f"{runtime.name} ({runtime.n_shards} shards), {result.recoveries} recoveries, "
            f"state digest {result.state_digest}"
        )
    elif "results" in summary:
        print_game(result, summary, out, shown)
    else:
        print_figures(result, out, shown)
    if result.stopped_early:
        print(
            f"socius: stopped at tick {result.ticks} of {sc.ticks}; the run folder {shown} "
            f"holds everything up to there; `socius resume {shown}` continues it",
            file=sys.stderr,
        )
        return 130
    if not game_finished(summary):
        print(
            f"socius: {summary['results']['note']} (summary.json: stopped_early)",
            file=sys.stderr,
        )
    if view is not None:
        linger(view)
    return 0


def print_game(
    result: RunResult, summary: dict[str, Any], folder: Path, shown: str | None = None
) -> None:
    """The closing table of a classic run: the run in a few rows, then the game's results
    (not the village's figures, which a classic game does not have). `shown`: where the run
    is, as people name it (default: the folder)."""
    results = summary["results"]
    table = Table(title=f"after {result.ticks} ticks", show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("characters", f"{summary['characters']:,}")
    table.add_row("envelopes (all ticks)", f"{summary['totals']['envelopes']:,}")
    table.add_row(*journal_row(folder, summary["totals"]["envelopes"]))
    table.add_row("seconds", f"{result.seconds:.2f}")
    table.add_row("state digest", result.state_digest[:16] + "…")
    Console(file=sys.stdout).print(table)
    print_results(results)
    print(f"run folder: {shown or folder}")


def played_row(results: dict[str, Any]) -> str:
    """How far the game went, in a few words: "60 of 400 (stopped early)"."""
    played = results["played"]
    late = f", {played['late_rounds']} in the second half" if "late_rounds" in played else ""
    end = "" if played["finished"] else " (stopped early)"
    return f"{played['rounds']} of {played['of']}{late}{end}"


def print_results(results: dict[str, Any]) -> None:
    """A classic game's results (summary.json's `results`) as tables: how far the game went,
    the game's own figures (with the note of a game that did not finish), then one row per
    strategy (per role in the trust game)."""
    console = Console(file=sys.stdout)
    head = Table(title=f"{results['kind']} results", show_header=False, caption=results.get("note"))
    head.add_column("figure")
    head.add_column("value", justify="right")
    if "played" in results:
        unit = {"ipd": "turns", "evolution": "generations"}.get(results["kind"], "rounds")
        head.add_row(f"{unit} played", played_row(results))
    for key, value in results.items():
        if key == "note":
            continue
        if value is None and key in ("fixation_generation", "winner"):
            value = "none"
        if isinstance(value, float | int | str) and not isinstance(value, bool):
            head.add_row(
                key.replace("_", " "), f"{value:g}" if isinstance(value, float) else str(value)
            )
        elif isinstance(value, list) and value and isinstance(value[0], float):
            head.add_row(key.replace("_", " "), " ".join(f"{v:.2f}" for v in value))
    console.print(head)
    for side in ("by_strategy", "investors", "trustees"):
        rows: dict[str, dict[str, Any]] = results.get(side, {})
        if not rows:
            continue
        order = results.get("ranking", list(rows)) if side == "by_strategy" else list(rows)
        table = Table(title=side.replace("_", " "), header_style="bold")
        columns = list(next(iter(rows.values())))
        table.add_column("strategy")
        for c in columns:
            table.add_column(c.replace("_", " "), justify="right")
        for name in order:
            table.add_row(name, *(f"{rows[name][c]:g}" for c in columns))
        console.print(table)
    if "per_generation" in results:
        print_shares(results["per_generation"]["shares"])


def print_shares(shares: dict[str, list[float]], columns: int = 7) -> None:
    """An evolution's shares of each strategy over the generations, at `columns` generations
    spread from the first to the last reached."""
    reached = len(next(iter(shares.values())))
    picks = sorted({round(k * (reached - 1) / (columns - 1)) for k in range(columns)})
    table = Table(title="shares over generations", header_style="bold")
    table.add_column("strategy", no_wrap=True)
    for g in picks:
        table.add_column(f"g {g}", justify="right")
    for name, series in shares.items():
        table.add_row(name, *(f"{series[g]:.2f}" for g in picks))
    Console(file=sys.stdout).print(table)
