"""`socius serve`: a world that runs in real time with players in it, over gRPC.

Ticks start on a clock (`--tick-interval`), or sooner when every player has said it is done; in
a tick, the decisions of played characters wait up to `--player-wait` seconds for their
players, then the characters' own minds decide. Players' acts pass through the same tick,
journal and metrics as everyone's: the run folder is a normal run folder (plus `players.json`,
the service's counts). Shards run in this process (the in-process runtime), or with
`--runtime ray` as Ray shard actors, the hall (where players meet the world) staying in this
process: each tick the actors prepare it and their minds decide, the hall waits for the
players, and the actors lay their answers over their minds' and settle it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from actors.cli import flags
from actors.cli.flags import loopback
from actors.cluster.connect import connect
from actors.cluster.gateway_actor import Gateways
from actors.drive.launch import llm_target, model_options
from actors.served.serving import ServedWorld, Serving
from inference.connect import InProcessModel
from world.errors import UserError
from world.journal_mode import FULL
from world.record import check_new_folder
from world.scenario import Scenario, load_scenario

DESCRIPTION = (
    "Run a scenario in real time with a gRPC WorldService (protos/world_service.proto) that "
    "players (socius play, or your own program) use to live as the scenario's playable "
    "characters (its players: section). Shards run in this process by default, or as Ray "
    "shard actors with --runtime ray (the players' service stays in this process). Writes a "
    "normal run folder."
)


def parents() -> list[argparse.ArgumentParser]:
    # the model is asked from this process: no gateway replicas
    return [
        flags.world_flags(characters=False),
        flags.address_flag(),
        flags.journal_flag("full"),
        flags.llm_flags(replicas=False),
        flags.metrics_flags(linger=False),
        flags.view_flags(
            "; beyond it the page is served with the same --tls-cert and --tls-key, or --insecure"
        ),
        flags.tls_flags("serve the WorldService and the page over TLS"),
    ]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file with a players section")
    p.add_argument(
        "--runtime",
        choices=["local", "ray"],
        default="local",
        help="where shards run: local = in this process (default); ray = shard actors on a "
        "local Ray instance or the cluster of --address, the hall and the service in this "
        "process",
    )
    p.add_argument(
        "--grpc-port",
        type=flags.port("--grpc-port"),
        default=50051,
        metavar="PORT",
        help="port of the WorldService (default 50051; 0 picks a free one)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every "
        "interface: then give --tls-cert and --tls-key, or --insecure)",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="listen beyond this machine (--host) without TLS: tokens and words then cross the "
        "network in the clear (for a private network you trust)",
    )
    p.add_argument(
        "--tick-interval",
        type=flags.number("--tick-interval", float, low=0),
        default=2.0,
        metavar="SECONDS",
        help="seconds between tick starts; a tick starts sooner when every player is done "
        "(default 2; 0: as fast as the players answer)",
    )
    p.add_argument(
        "--player-wait",
        type=flags.number("--player-wait", float, low=0),
        default=30.0,
        metavar="SECONDS",
        help="how long a decision waits for its player before the character's own mind "
        "decides (default 30)",
    )
    p.add_argument(
        "--out", type=flags.local("--out"), help="run folder (default: runs/NAME-serve-TIME)"
    )
    p.add_argument(
        "--tokens",
        type=Path,
        metavar="FILE",
        help="JSON tokens file {operator: T, characters: {id: T}}: read if it exists (it must "
        "be readable by its owner only), else written with new tokens, mode 0600 (default: "
        "OUT/tokens.json)",
    )
    p.add_argument(
        "--rate-limit",
        type=flags.number("--rate-limit", float, low=0, strict=True),
        default=20.0,
        metavar="PER_SECOND",
        help="requests a second each token may make (bursts of twice that; default 20)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=flags.natural("--checkpoint-every"),
        default=10,
        metavar="K",
        help="snapshot every K ticks (default 10; 0: off)",
    )
    p.add_argument("--paused", action="store_true", help="start paused (the operator resumes)")
    p.set_defaults(func=cmd_serve)


def llm_mind(
    args: argparse.Namespace, sc: Scenario, out: Path
) -> tuple[InProcessModel | None, Gateways | None, dict[str, Any] | None]:
    """The LLM mind the --llm-... flags ask for and where its model is: asked from this
    process, or on Ray from the shard actors through a gateway actor; (None, None, None)
    without a model."""
    llm = model_options(
        args.llm_endpoint,
        args.llm_engine,
        args.llm_replay,
        args.llm_model,
        None,
        args.llm_concurrency,
        args.llm_api_key_env,
    )
    target = llm_target(sc, llm)
    if target is None:
        return None, None, None
    if args.runtime == "ray":
        connect(args.address)
        return None, Gateways.start(sc, target), llm
    return InProcessModel.of(sc, target, sc.shards or 1, out), None, llm


def cmd_serve(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario).with_overrides(
        ticks=args.ticks, seed=args.seed, shards=args.shards
    )
    tls = flags.tls_of(args)
    if tls is None and not loopback(args.host) and not args.insecure:
        raise UserError(
            f"--host {args.host} listens beyond this machine, and without TLS every player's "
            f"token would cross the network in the clear: give --tls-cert and --tls-key, or "
            f"--insecure if the network is yours"
        )
    if tls is None and not loopback(args.view_host) and not args.insecure:
        raise UserError(
            f"--view-host {args.view_host} listens beyond this machine, and without TLS the "
            f"page's tokens would cross the network in the clear: give --tls-cert and "
            f"--tls-key, or --insecure if the network is yours"
        )
    out: Path = args.out or Path("runs") / (
        f"{sc.name}-serve-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    how = Serving(
        host=args.host,
        port=args.grpc_port,
        tick_interval=args.tick_interval,
        player_wait=args.player_wait,
        tokens=args.tokens,
        tls=tls,
        rate_limit=args.rate_limit,
        checkpoint_every=args.checkpoint_every,
        paused=args.paused,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        journal=flags.journal_mode(args, FULL),
        view_port=args.view_port,
        view_host=args.view_host,
        runtime=args.runtime,
        address=args.address,
    )
    check_new_folder(out)
    mind, gateways, model = llm_mind(args, sc, out)
    try:
        world = ServedWorld(sc, out, how, mind, model, gateways)
    except BaseException:
        if mind is not None:
            mind.close()
        if gateways is not None:
            gateways.stop()
        raise

    def on_signal(signum: int, frame: FrameType | None) -> None:
        world.stop()

    previous = signal.signal(signal.SIGINT, on_signal)
    where = "as Ray actors" if args.runtime == "ray" else "in process"
    print(
        f"serving {sc.name} ({sc.population.size} characters, {len(world.hall.playable)} "
        f"playable, {world.runtime.n_shards} shards {where}) "
        f"on {args.host}:{world.port}{' with TLS' if tls else ''}; tokens in "
        f"{world.token_file}; run folder {out}{'; paused' if args.paused else ''}"
        + (f"; metrics on :{world.exporter.port}" if world.exporter is not None else ""),
        flush=True,
    )
    if world.view is not None:
        print(f"view: {world.view.address}", flush=True)
    try:
        world.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        summary = world.close()
    p = summary["players"]
    print(
        f"{out}: {summary['ticks']} ticks; players answered {p['answers']} of "
        f"{p['decisions']} decisions ({p['defaults']} left to their characters' minds); "
        f"state digest {summary['state_digest']}",
        flush=True,
    )
    return 130 if world.clock.stop else 0
