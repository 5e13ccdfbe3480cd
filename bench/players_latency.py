"""Players' latency: act-to-acknowledgement time (p50, p99) and ticks per second of a served
world of 1,000 characters with 0, 10 and 100 connected players.

Everything runs on this machine: the served world in this process (in-process runtime, the
gRPC WorldService on 127.0.0.1), the players in another (so they do not share the server's
GIL), each a `Bot` on its own connection that answers every decision at once and says it is
done after each tick, so ticks advance as fast as the players answer (--tick-interval 0).
Latency is measured by the players, from sending an Act to receiving its reply. It prints; it
asserts nothing.

Run: `.venv/bin/python bench/players_latency.py [--ticks 20] [--players 0,10,100]`.
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

import numpy as np

from actors.served.player_client import Bot, Operator, channel
from actors.served.serving import ServedWorld, Serving
from actors.served.tokens import OPERATOR
from world.scenario import parse_scenario


def measure(players: int, ticks: int, size: int, folder: Path) -> dict[str, float]:
    sc = parse_scenario(
        {
            "name": f"bench-{players}",
            "seed": 1,
            "ticks": ticks,
            "population": {"size": size},
            "players": {"playable": max(players, 1)},
        }
    )
    how = Serving(tick_interval=0, player_wait=60, paused=True, checkpoint_every=0, rate_limit=1e6)
    world = ServedWorld(sc, folder / f"p{players}", how)
    runner = threading.Thread(target=world.run, daemon=True)
    runner.start()
    address = f"127.0.0.1:{world.port}"
    tokens = [t for t, c in world.tokens.items() if c != OPERATOR][:players]
    bots = subprocess.Popen(
        [sys.executable, __file__, "--bots", address],
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
    lat = np.array(json.loads(bots.stdout.read())) * 1000  # (the rest of what it printed)
    bots.wait(timeout=60)
    return {
        "players": players,
        "ticks_per_s": ticks / seconds,
        "acts": len(lat),
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "defaults": summary["players"]["defaults"],
    }


def play(address: str) -> None:
    """The players' process: join with the tokens read from stdin, play to the world's end,
    print every act's latency as JSON."""
    tokens = json.loads(sys.stdin.readline())
    bots = [Bot(channel(address), t).start() for t in tokens]
    print("joined", flush=True)
    for b in bots:
        b.ended.wait()
    print(json.dumps([x for b in bots for x in b.latencies]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--characters", type=int, default=1000)
    parser.add_argument("--players", default="0,10,100")
    parser.add_argument("--bots", metavar="ADDRESS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bots:
        play(args.bots)
        return
    print(f"{args.characters} characters, {args.ticks} ticks, players answer at once")
    print(f"{'players':>8} {'ticks/s':>9} {'acts':>6} {'p50 ms':>8} {'p99 ms':>8} {'defaults':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.players.split(",")):
            r = measure(n, args.ticks, args.characters, Path(tmp))
            print(
                f"{r['players']:>8} {r['ticks_per_s']:>9.1f} {r['acts']:>6} "
                f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['defaults']:>9}"
            )


if __name__ == "__main__":
    main()
