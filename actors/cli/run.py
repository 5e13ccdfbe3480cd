"""`socius run` and `socius resume`: build a runtime from the flags and drive it to the end.

Without --quiet a run shows a progress bar and ends with a table; with it, one line on stdout.

Ctrl-C stops after the current tick (a last checkpoint is written, exit 130); a second Ctrl-C
stops inside the tick, keeps whole ticks only and writes no checkpoint. Either way
`socius resume RUN` continues from the last checkpoint.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from world.errors import RunFolderError, UserError
from world.record import RunRecord, check_new_folder, latest_checkpoint, load_run_scenario
from world.runtime import LocalRuntime, RunResult, Runtime
from world.scenario import Scenario, load_scenario
from world.stats import LATENCY_BUCKETS, TickStats


class _Stop:
    """Ctrl-C asks the run to stop after the current tick; a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def parse_resources(text: str | None) -> dict[str, float]:
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        name, _, amount = part.partition("=")
        try:
            out[name.strip()] = float(amount)
        except ValueError:
            raise UserError(
                f"--actor-resources: {part!r} is not NAME=AMOUNT (e.g. socius_worker=1)"
            ) from None
        if not name.strip() or out[name.strip()] <= 0:
            raise UserError(f"--actor-resources: {part!r} needs a name and an amount above 0")
    return out


def llm_flags(args: argparse.Namespace) -> dict[str, Any] | None:
    """Where the model is, as --llm-endpoint, --llm-engine or --llm-replay say (paths resolved
    where `socius` runs), or None."""
    if args.llm_endpoint:
        return {"kind": "openai", "where": [u for u in args.llm_endpoint.split(",") if u.strip()]}
    if args.llm_engine:
        return {"kind": "engine", "where": [str(Path(args.llm_engine).resolve())]}
    if args.llm_replay:
        return {"kind": "replay", "where": [str(args.llm_replay.resolve())]}
    return None


def runtime_options(args: argparse.Namespace, saved: dict[str, Any] | None) -> dict[str, Any]:
    """Where and how shards run: the flags, else what the run used before (resume), else the
    defaults. Saved in every checkpoint's manifest."""
    saved = saved or {}

    def pick(flag: Any, name: str, default: Any) -> Any:
        return flag if flag is not None else saved.get(name, default)

    llm = llm_flags(args) or saved.get("llm")
    if llm is not None:
        llm = {
            **llm,
            "model": pick(args.llm_model, "llm_model", llm.get("model")),
            "replicas": pick(args.llm_replicas, "llm_replicas", llm.get("replicas")),
            "concurrency": pick(
                args.llm_concurrency, "llm_concurrency", llm.get("concurrency", 64)
            ),
        }
    players = getattr(args, "players_replay", None)
    return {
        "llm": llm,
        "players_replay": str(players.resolve()) if players else saved.get("players_replay"),
        "runtime": pick(args.runtime, "runtime", "ray"),
        "placement": pick(args.placement, "placement", "pack"),
        "actor_cpus": pick(args.actor_cpus, "actor_cpus", None),
        "actor_resources": parse_resources(args.actor_resources)
        or saved.get("actor_resources", {}),
    }


def build_runtime(
    args: argparse.Namespace,
    sc: Scenario,
    folder: Path,
    shards: int | None,
    checkpoint_every: int,
    resume: bool,
    saved: dict[str, Any] | None = None,
) -> tuple[Runtime, RunRecord]:
    """The runtime the flags ask for, with its run record (created, or reopened to resume)."""
    options = runtime_options(args, saved)
    target = llm_target(sc, options["llm"])
    players = Path(options["players_replay"]) if options["players_replay"] else None
    played = None
    if players is not None:
        from world.player_record import read_players

        played = read_players(players)  # a missing or damaged record stops here, before Ray
    runtime: Runtime
    if options["runtime"] == "local":
        n = shards or sc.shards or 1
        model = None
        if target is not None:  # before the run folder: a model that cannot start leaves none
            from inference.connect import InProcessModel

            model = InProcessModel.of(sc, target, n, folder)
        decide: Any = model
        if players is not None:
            from world.player_record import RecordedPlayers

            decide = RecordedPlayers(players, inner=model, ticks=played)
        record = RunRecord(folder, sc, n, resume=resume)
        runtime = local = LocalRuntime(sc, n, record, checkpoint_every, decide=decide)
        if players is not None:
            for shard in local.shards:
                shard.visits = decide.visits
    else:
        from actors.cluster.connect import Placement, auto_shards, connect
        from actors.cluster.coordinator import RayRuntime
        from actors.cluster.gateway_actor import Gateways

        placement = Placement(
            strategy=options["placement"].upper(),
            cpus=options["actor_cpus"],
            resources=options["actor_resources"],
        )
        resources = connect(args.address)
        n = shards or sc.shards or auto_shards(sc, resources.get("CPU", 1), placement)
        gateways = None
        if target is not None:
            gateways = Gateways.start(sc, target, options["llm"]["replicas"])
        record = RunRecord(folder, sc, n, resume=resume, journals=False)
        try:
            runtime = RayRuntime(
                sc,
                n,
                record,
                checkpoint_every,
                placement,
                llm=gateways,
                players=players,
            )
        except BaseException:
            record.close()
            if gateways is not None:
                gateways.stop()
            raise
    runtime.options = options
    return runtime, record


def llm_target(sc: Scenario, llm: dict[str, Any] | None) -> Any:
    """Where the model is (an `inference.connect.Target`), checked against the scenario."""
    if llm is None:
        if sc.thinks_with_model():
            raise UserError(
                f"scenario {sc.name} gives characters the llm mind; say where the model is: "
                f"--llm-endpoint URL[,URL...], --llm-engine MODEL_DIR or --llm-replay RUN"
            )
        return None
    if not sc.thinks_with_model():
        raise UserError(
            f"no character of scenario {sc.name} thinks with a model (population.minds has no "
            f"llm share); drop the --llm-... flag or give the llm mind a share"
        )
    from inference.connect import Target

    if llm["kind"] == "replay":
        from inference.traces import check_traces

        check_traces(Path(llm["where"][0]))
    return Target(
        llm["kind"], tuple(llm["where"]), model=llm.get("model"), concurrency=llm["concurrency"]
    )


def cmd_run(args: argparse.Namespace) -> int:
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
        from math import ceil

        shards = ceil(sc.population.size / args.characters_per_actor)
    out = args.out or Path("runs") / (
        f"{sc.name}-seed{sc.seed}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    if args.resume_if_exists and out.is_dir() and any(out.iterdir()):
        ran = load_run_scenario(out)
        if ran != sc:
            raise UserError(
                f"--resume-if-exists: {str(out)!r} holds a run of another scenario (or other "
                f"--ticks, --seed, --characters or --shards); choose another --out"
            )
        return resume_folder(args, out)
    check_new_folder(out)  # before starting Ray
    runtime, record = build_runtime(args, sc, out, shards, args.checkpoint_every, resume=False)
    return drive(runtime, record, sc, out, args)


def cmd_resume(args: argparse.Namespace) -> int:
    return resume_folder(args, args.run)


def resume_folder(args: argparse.Namespace, folder: Path) -> int:
    """Continue the run in `folder` from its last complete checkpoint."""
    sc = load_run_scenario(folder)
    manifest = latest_checkpoint(folder)
    if manifest is None:
        raise RunFolderError(
            f"{str(folder)!r} has no complete checkpoint to resume from (the run had "
            f"checkpoints off, or stopped before its first one); start it again with socius run"
        )
    if manifest["tick"] >= sc.ticks:
        print(f"socius: {folder} already ran all {sc.ticks} ticks; nothing to resume")
        return 0
    every = int(manifest.get("checkpoint_every", 10))
    runtime, record = build_runtime(
        args, sc, folder, int(manifest["n_shards"]), every, True, manifest.get("options")
    )
    try:
        runtime.restore(manifest)
    except BaseException:
        runtime.close()
        record.close()
        raise
    if not args.quiet:
        print(f"resuming {folder} at tick {manifest['tick']} of {sc.ticks}", file=sys.stderr)
    return drive(runtime, record, sc, folder, args)


def start_exporter(args: argparse.Namespace, runtime: Runtime) -> Any:
    """The run's Prometheus exporter, if --metrics-port asks for one (None otherwise)."""
    if args.metrics_port is None:
        return None
    from actors.drive.exporter import RunExporter

    exporter = RunExporter(args.metrics_port, args.metrics_host, runtime.name)
    exporter.update(runtime.completed, runtime.totals, runtime.last, None, runtime.checkpoints, 0)
    return exporter


def drive(
    runtime: Runtime, record: RunRecord, sc: Scenario, out: Path, args: argparse.Namespace
) -> int:
    from actors.cli.progress import RunProgress, print_figures

    quiet = args.quiet
    try:
        exporter = start_exporter(args, runtime)
    except BaseException:
        record.close()
        runtime.close()
        raise
    stop = _Stop()
    previous = signal.signal(signal.SIGINT, stop)
    progress = RunProgress(sc.ticks, quiet=quiet, start=runtime.completed)
    thinks = runtime.options.get("llm") is not None

    def on_tick(tick: int, stats: TickStats, seconds: float) -> None:
        progress.tick(tick, stats, seconds)
        if exporter is not None:
            exporter.update(
                tick,
                runtime.totals,
                stats,
                seconds,
                runtime.checkpoints,
                runtime.recoveries,
                runtime.inference_stats() if thinks else None,
            )

    try:
        with progress:
            result = runtime.run(on_tick=on_tick, should_stop=lambda: stop.requested)
        runtime.final_checkpoint()
        if exporter is not None:  # the last figures, then one more scrape to collect them
            exporter.update(
                runtime.completed,
                runtime.totals,
                runtime.last,
                None,
                runtime.checkpoints,
                runtime.recoveries,
            )
    except KeyboardInterrupt:
        # a second Ctrl-C: stop inside the tick, keep only whole ticks, write no checkpoint
        record.rewind()
        record.summary(interrupted_summary(runtime))
        record.close()
        runtime.close()
        print(
            f"socius: interrupted during tick {runtime.completed + 1}; the run folder {out} "
            f"holds ticks 1..{runtime.completed} (no checkpoint of the unfinished tick); "
            f"`socius resume {out}` continues from the last checkpoint",
            file=sys.stderr,
        )
        return 130
    except BaseException:
        record.rewind()
        record.close()
        runtime.close()
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    summary = result.summary(sc, runtime.n_shards, runtime.name)
    llm = runtime.options.get("llm")
    if llm is not None:
        summary["llm"] = {
            "target": f"{llm['kind']} {','.join(llm['where'])}",
            **result.totals.llm_figures(),
            "latency_buckets": list(LATENCY_BUCKETS),
            "latency_histogram": result.totals.latency.tolist(),
            "ttft_histogram": result.totals.ttft.tolist(),
            "gateway": runtime.inference_stats(),
        }
    record.summary(summary)
    record.close()
    runtime.close()
    if exporter is not None:
        if args.metrics_linger > 0 and not exporter.wait_for_scrape(args.metrics_linger):
            print(
                f"socius: no scrape of :{exporter.port} came within --metrics-linger "
                f"{args.metrics_linger:g} s of the end; the record holds the final figures",
                file=sys.stderr,
            )
        exporter.close()
    if quiet:  # one line for logs (a RayJob's, say): where the run is and how it ended
        print(
            f"{out}: {result.ticks} ticks of {sc.population.size} characters on "
            f"{runtime.name} ({runtime.n_shards} shards), {result.recoveries} recoveries, "
            f"state digest {result.state_digest}"
        )
    else:
        print_figures(result, out)
        if "results" in summary:
            print_results(summary["results"])
    if result.stopped_early:
        print(
            f"socius: stopped at tick {result.ticks} of {sc.ticks}; the run folder {out} "
            f"holds everything up to there; `socius resume {out}` continues it",
            file=sys.stderr,
        )
        return 130
    return 0


def interrupted_summary(runtime: Runtime) -> dict[str, Any]:
    """The summary of a run stopped inside a tick: its whole ticks' figures, no digest (the
    shards' state is half-way through a tick)."""
    result = RunResult(
        runtime.completed,
        "",
        runtime.totals,
        runtime.last,
        0.0,
        True,
        runtime.recoveries,
        runtime.checkpoints,
    )
    summary = result.summary(runtime.scenario, runtime.n_shards, runtime.name)
    summary["state_digest"] = None
    summary["interrupted"] = "inside a tick"
    return summary


def print_results(results: dict[str, Any]) -> None:
    """A classic game's results (summary.json's `results`) as tables: the game's own figures,
    then one row per strategy (per role in the trust game)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    head = Table(title=f"{results['kind']} results", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    for key, value in results.items():
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
