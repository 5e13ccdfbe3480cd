"""`socius serve`: a world that runs in real time with players in it, over gRPC.

Ticks start on a clock (`--tick-interval`), or sooner when every player has said it is done; in
a tick, the decisions of played characters wait up to `--player-wait` seconds for their
players, then the characters' own minds decide. Players' acts pass through the same tick,
journal and metrics as everyone's: the run folder is a normal run folder (plus `players.json`,
the service's counts). Shards run in this process (the in-process runtime).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import stat
import time
from pathlib import Path
from types import FrameType
from typing import Any

from actors.hall import Hall
from actors.world_service import OPERATOR, Control, Guard, WorldService, start_server
from protos import world_service_pb2 as wpb
from world.errors import UserError
from world.record import RunRecord, check_new_folder
from world.runtime import LocalRuntime
from world.scenario import Scenario, load_scenario
from world.self_view import self_view


def add_serve_parser(sub: Any, number: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run a world in real time that players and outside agents join over gRPC",
        description="Run a scenario in real time with a gRPC WorldService "
        "(protos/world_service.proto) that players (socius play, or your own program) use to "
        "live as the scenario's playable characters (its players: section). Shards run in "
        "this process (the in-process runtime; Ray is not used). Writes a normal run folder.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file with a players section")
    p.add_argument(
        "--grpc-port",
        type=number("--grpc-port", low=0, high=65535),
        default=50051,
        metavar="PORT",
        help="port of the WorldService (default 50051; 0 picks a free one)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every "
        "interface: then use TLS)",
    )
    p.add_argument(
        "--tick-interval",
        type=number("--tick-interval", float, low=0),
        default=2.0,
        metavar="SECONDS",
        help="seconds between tick starts; a tick starts sooner when every player is done "
        "(default 2; 0: as fast as the players answer)",
    )
    p.add_argument(
        "--player-wait",
        type=number("--player-wait", float, low=0),
        default=30.0,
        metavar="SECONDS",
        help="how long a decision waits for its player before the character's own mind "
        "decides (default 30)",
    )
    p.add_argument("--ticks", type=number("--ticks"), help="ticks to run (default: the scenario's)")
    p.add_argument("--seed", type=number("--seed", low=0), help="seed (default: the scenario's)")
    p.add_argument("--shards", type=number("--shards"), help="shards (default: the scenario's)")
    p.add_argument("--out", type=Path, help="run folder (default: runs/NAME-serve-TIME)")
    p.add_argument(
        "--tokens",
        type=Path,
        metavar="FILE",
        help="JSON tokens file {operator: T, characters: {id: T}}: read if it exists (it must "
        "be readable by its owner only), else written with new tokens, mode 0600 (default: "
        "OUT/tokens.json)",
    )
    p.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve TLS with this certificate")
    p.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    p.add_argument(
        "--rate-limit",
        type=number("--rate-limit", float, low=0, strict=True),
        default=20.0,
        metavar="PER_SECOND",
        help="requests a second each token may make (bursts of twice that; default 20)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=number("--checkpoint-every", low=0),
        default=10,
        metavar="K",
        help="snapshot every K ticks (default 10; 0: off)",
    )
    p.add_argument("--paused", action="store_true", help="start paused (the operator resumes)")
    p.add_argument("--quiet", action="store_true", help="print only the start and the end")


def read_tokens(path: Path, playable: list[int]) -> dict[str, int]:
    """The tokens file as token -> character (OPERATOR for the operator's), checked."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(
            f"--tokens {path}: others can read it (mode {stat.S_IMODE(mode):o}); "
            f"run chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tokens = {str(data["operator"]): OPERATOR}
        for cid, token in dict(data.get("characters", {})).items():
            tokens[str(token)] = int(cid)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError(
            f"--tokens {path}: not a tokens file; expected JSON "
            f'{{"operator": "TOKEN", "characters": {{"ID": "TOKEN", ...}}}}'
        ) from None
    if len(tokens) != 1 + len(dict(data.get("characters", {}))):
        raise UserError(f"--tokens {path}: a token is used twice; give each one its own")
    if any(len(t) < 16 for t in tokens):
        raise UserError(f"--tokens {path}: tokens must be at least 16 characters long")
    stray = sorted(c for c in tokens.values() if c != OPERATOR and c not in playable)
    if stray:
        raise UserError(
            f"--tokens {path}: character {stray[0]} is not playable in this scenario; "
            f"playable: {', '.join(map(str, playable[:20]))}"
        )
    return tokens


def write_tokens(path: Path, playable: list[int]) -> dict[str, int]:
    """New tokens for the operator and every playable character, in a file only its owner
    can read."""
    operator = secrets.token_urlsafe(24)
    characters = {str(c): secrets.token_urlsafe(24) for c in playable}
    data = {"operator": operator, "characters": characters}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    return {operator: OPERATOR, **{t: int(c) for c, t in characters.items()}}


class Clock:
    """The serving loop: when ticks start, and the operator's pause, resume and step."""

    def __init__(self, runtime: LocalRuntime, hall: Hall, interval: float, target: int) -> None:
        self.runtime = runtime
        self.hall = hall
        self.interval = interval
        self.target = target
        self.paused = False
        self.steps = 0  # ticks to run while paused
        self.stop = False
        self.guard: Guard | None = None

    def pause(self) -> None:
        with self.hall.cond:
            self.paused = True
            self.hall.cond.notify_all()

    def resume(self) -> None:
        with self.hall.cond:
            self.paused = False
            self.hall.cond.notify_all()

    def step(self, ticks: int) -> None:
        with self.hall.cond:
            if not self.paused:
                raise RuntimeError("Step runs ticks of a paused world; Pause first")
            self.steps += ticks
            self.hall.cond.notify_all()

    def status(self) -> wpb.WorldStatus:
        with self.hall.cond:
            rt, hall = self.runtime, self.hall
            claimed = hall.claimed()
            return wpb.WorldStatus(
                scenario=rt.scenario.name,
                tick=rt.completed,
                ticks=self.target,
                paused=self.paused,
                ended=hall.ended,
                characters=rt.scenario.population.size,
                seats=[
                    wpb.Seat(
                        character=c,
                        claimed=c in claimed,
                        connected=c in claimed and hall.sessions[c].streams > 0,
                    )
                    for c in sorted(hall.playable)
                ],
                figures={k: float(v) for k, v in rt.last.figures().items()},
                requests=dict(self.guard.counts) if self.guard else {},
            )

    def _may_start(self, since: float) -> bool:
        if self.stop:
            return True
        if self.paused:
            return self.steps > 0
        return time.monotonic() - since >= self.interval or self.hall.all_ready()

    def run(self) -> None:
        """Tick until the target, a stop or Ctrl-C; the hall's lock is held while a tick runs."""
        hall = self.hall
        since = time.monotonic() - self.interval
        with hall.cond:
            while self.runtime.completed < self.target and not self.stop:
                while not self._may_start(since):
                    hall.cond.wait(0.05)
                if self.stop:
                    break
                if self.paused:
                    self.steps -= 1
                since = time.monotonic()
                self.runtime.step()
                hall.tick_ended(self.runtime.completed)


def cmd_serve(args: argparse.Namespace) -> int:
    sc: Scenario = load_scenario(args.scenario).with_overrides(
        ticks=args.ticks, seed=args.seed, shards=args.shards
    )
    if sc.players is None:
        raise UserError(
            f"scenario {args.scenario} has no players section, so nobody can join; add one, "
            f"e.g. `players: {{playable: 3}}` or `players: {{playable: [0, 12]}}`"
        )
    if sc.thinks_with_model():
        raise UserError(
            "socius serve does not run llm minds yet; give population.minds no llm share"
        )
    tls = None
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UserError("give --tls-cert and --tls-key together")
    if args.tls_cert is not None:
        for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
            if not path.is_file():
                raise UserError(f"{flag} {path}: file not found")
        tls = (args.tls_cert.read_bytes(), args.tls_key.read_bytes())
    playable = sc.players.ids(sc.population.size)
    out: Path = args.out or Path("runs") / (
        f"{sc.name}-serve-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    check_new_folder(out)
    token_file: Path = args.tokens or out / "tokens.json"
    supplied = args.tokens is not None and token_file.exists()
    tokens = read_tokens(token_file, playable) if supplied else {}
    n = sc.shards or 1
    record = RunRecord(out, sc, n)
    if not supplied:
        tokens = write_tokens(token_file, playable)
    hall = Hall([c for c in playable if c in set(tokens.values())], args.player_wait, inner=None)
    runtime = LocalRuntime(sc, n, record, args.checkpoint_every, decide=hall)
    runtime.options = {"runtime": "local", "llm": None, "serve": True}
    clock = Clock(runtime, hall, args.tick_interval, sc.ticks)
    clock.paused = args.paused
    guard = Guard(tokens, args.rate_limit)
    clock.guard = guard

    def info(character: int) -> tuple[int, int]:
        shard = runtime.shards[character % n]
        lo = character // n
        return int(shard.chars.role[lo]), int(shard.chars.group[lo])

    service = WorldService(
        hall,
        guard,
        Control(clock.status, clock.pause, clock.resume, clock.step),
        info,
        lambda c: self_view(runtime.shards[c % n], c),
        sc.population.size,
        sc.ticks,
        args.tick_interval,
    )
    try:
        server, port = start_server(
            service, args.host, args.grpc_port, tls, workers=max(16, 2 * len(playable) + 8)
        )
    except RuntimeError as err:
        record.close()
        raise UserError(
            f"--grpc-port {args.grpc_port}: cannot listen on {args.host}:{args.grpc_port} "
            f"({err}); choose a free port, or 0 for any"
        ) from None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        clock.stop = hall.hurry = True

    previous = signal.signal(signal.SIGINT, on_signal)
    print(
        f"serving {sc.name} ({sc.population.size} characters, {len(hall.playable)} playable) on "
        f"{args.host}:{port}{' with TLS' if tls else ''}; tokens in {token_file}; run folder "
        f"{out}{'; paused' if args.paused else ''}",
        flush=True,
    )
    try:
        if args.checkpoint_every:
            runtime.checkpoint()
        clock.run()
        runtime.final_checkpoint()
    finally:
        signal.signal(signal.SIGINT, previous)
        hall.end("the world stopped" if clock.stop else "the world ran all its ticks")
        time.sleep(0.3)  # let the streams deliver the end
        server.stop(grace=1.0).wait()
        result_digest = runtime.digest()
        from world.runtime import RunResult

        result = RunResult(
            runtime.completed, result_digest, runtime.totals, runtime.last, 0.0, clock.stop
        )
        summary = result.summary(sc, n, "local")
        summary["players"] = {
            "playable": sorted(hall.playable),
            "decisions": runtime.totals.c["player_decisions"],
            "answers": runtime.totals.c["player_answers"],
            "defaults": runtime.totals.c["player_defaults"],
            "requests": dict(sorted(guard.counts.items())),
        }
        record.summary(summary)
        (out / "players.json").write_text(json.dumps(summary["players"], indent=1) + "\n")
        record.close()
        runtime.close()
    print(
        f"{out}: {runtime.completed} ticks; players answered "
        f"{summary['players']['answers']} of {summary['players']['decisions']} decisions "
        f"({summary['players']['defaults']} left to their characters' minds); state digest "
        f"{result_digest}",
        flush=True,
    )
    return 130 if clock.stop else 0
