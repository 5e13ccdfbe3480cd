"""Players' latency: act-to-acknowledgement time (p50, p99) and ticks per second of a served
world of 1,000 characters with 0, 10 and 100 connected players.

Everything runs on this machine: the served world in this process (the in-process runtime, or
with `--runtime ray` shard actors on a local Ray instance; the gRPC WorldService on
127.0.0.1), the players in another (so they do not share the server's
GIL), each a `Bot` on its own connection that answers every decision at once and says it is
done after each tick, so ticks advance as fast as the players answer (--tick-interval 0).
Latency is measured by the players, from sending an Act to receiving its reply. It prints; it
asserts nothing.

With `--flood`, each level runs twice, quiet and flooded: in the flooded run the first player
also tries to open 50 more Perceive streams (the server holds at most two per token; the one
it may get is closed at once, so its bot keeps its perceptions) and sends Act as fast as one
thread can, at a decision that does not exist. The latency figures are then the other players'
only, and the table gives their p99 flooded over quiet (the target: under 2).

Run: `.venv/bin/python bench/players_latency.py [--ticks 20] [--players 0,10,100] [--flood]
[--runtime local,ray] [--shards K]`; several runtimes alternate, level by level.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np
from machine import cpu  # bench/machine.py

from actors.served.player_client import Bot, Operator, channel
from actors.served.serving import ServedWorld, Serving
from actors.served.tokens import OPERATOR
from world.scenario import parse_scenario


def measure(
    players: int,
    ticks: int,
    size: int,
    folder: Path,
    flood: bool = False,
    runtime: str = "local",
    shards: int = 1,
) -> dict[str, float]:
    sc = parse_scenario(
        {
            "name": f"bench-{players}",
            "seed": 1,
            "ticks": ticks,
            "population": {"size": size},
            "players": {"playable": max(players, 1)},
        }
    ).with_overrides(shards=shards)
    how = Serving(
        tick_interval=0,
        player_wait=60,
        paused=True,
        checkpoint_every=0,
        rate_limit=1e6,
        runtime=runtime,
    )
    world = ServedWorld(sc, folder / f"{runtime}-p{players}{'-flood' if flood else ''}", how)
    runner = threading.Thread(target=world.run, daemon=True)
    runner.start()
    address = f"127.0.0.1:{world.port}"
    tokens = [t for t, c in world.tokens.items() if c != OPERATOR][:players]
    bots = subprocess.Popen(
        [sys.executable, __file__, "--bots", address, *(["--flood"] if flood else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert bots.stdin is not None and bots.stdout is not None
    bots.stdin.write(json.dumps(tokens) + "\n")
    bots.stdin.flush()
    assert bots.stdout.readline().strip() == "joined"
    operator = next(t for t, c in world.tokens.items() if c == OPERATOR)
    t0 = time.perf_counter()
    Operator(channel(address), operator).resume()
    runner.join()
    seconds = time.perf_counter() - t0
    summary = world.close()
    played = json.loads(bots.stdout.read())  # (the rest of what it printed)
    lat = np.array(played["latencies"]) * 1000
    bots.wait(timeout=60)
    return {
        "streams_refused": played["streams_refused"],
        "flood_refused": played["flood_refused"],
        "players": players,
        "ticks_per_s": ticks / seconds,
        "acts": len(lat),
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "defaults": summary["players"]["defaults"],
    }


def play(address: str, flood: bool) -> None:
    """The players' process: join with the tokens read from stdin, play to the world's end
    (the first one flooding, with `flood`), print the acts' latencies (the others', with
    `flood`) and what was refused, as JSON."""
    tokens = json.loads(sys.stdin.readline())
    bots = [Bot(channel(address), t).start() for t in tokens]
    stop = threading.Event()
    counts = {"streams_refused": 0, "flood_refused": 0}
    if flood and bots:
        flooder = bots[0].player
        streams = [flooder.perceive() for _ in range(50)]
        while sum(s.done() for s in streams) < 48:  # at most two per token are held
            time.sleep(0.05)
        time.sleep(0.5)
        counts["streams_refused"] = sum(s.done() for s in streams)
        for s in streams:
            s.cancel()
        time.sleep(1.0)  # the server lets a cancelled stream go (a held one drains perceptions)

        def hammer() -> None:
            while not stop.is_set():
                try:
                    flooder.act("no-such-decision", "give")
                except grpc.RpcError:
                    counts["flood_refused"] += 1

        threading.Thread(target=hammer, daemon=True).start()
    print("joined", flush=True)
    for b in bots:
        b.ended.wait()
    stop.set()
    measured = bots[1:] if flood else bots
    latencies = [x for b in measured for x in b.latencies]
    print(json.dumps({"latencies": latencies, **counts}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--characters", type=int, default=1000)
    parser.add_argument("--players", default="0,10,100")
    parser.add_argument("--flood", action="store_true", help="each level quiet and flooded")
    parser.add_argument(
        "--runtime", default="local", help="comma-separated: local, ray (alternated per level)"
    )
    parser.add_argument("--shards", type=int, default=1, help="shards (Ray: shard actors)")
    parser.add_argument("--bots", metavar="ADDRESS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bots:
        play(args.bots, args.flood)
        return
    print(f"machine: {cpu()}")
    print(
        f"{args.characters} characters, {args.shards} shards, {args.ticks} ticks, players "
        f"answer at once"
    )
    print(
        f"{'runtime':>8} {'players':>8} {'run':>7} {'ticks/s':>9} {'acts':>6} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'defaults':>9} {'refused':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.players.split(",")):
            for runtime in args.runtime.split(","):
                level(args, n, runtime, Path(tmp))
    if args.flood:
        print("refused: streams refused (s) / flood acts refused (a), from the flooding player")


def level(args: argparse.Namespace, n: int, runtime: str, tmp: Path) -> None:
    """One level of players on one runtime (quiet, then flooded with --flood), printed."""
    runs = [False, True] if args.flood and n >= 2 else [False]
    quiet_p99 = float("nan")
    for flooded in runs:
        r = measure(n, args.ticks, args.characters, tmp, flooded, runtime, args.shards)
        refused = f"{r['streams_refused']}s/{r['flood_refused']}a" if flooded else "-"
        line = (
            f"{runtime:>8} {r['players']:>8} {'flood' if flooded else 'quiet':>7} "
            f"{r['ticks_per_s']:>9.1f} {r['acts']:>6} {r['p50_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['defaults']:>9} {refused:>14}"
        )
        if flooded:
            line += f"  others' p99 flooded / quiet: {r['p99_ms'] / quiet_p99:.2f}"
        else:
            quiet_p99 = r["p99_ms"]
        print(line, flush=True)


if __name__ == "__main__":
    main()
