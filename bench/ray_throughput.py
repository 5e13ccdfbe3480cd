"""Ray runtime against the in-process runtime, and packed shards against one actor per character.

Prints, on this machine:
  A. at 10,000 characters: character-ticks/s and envelopes/s of the in-process runtime (one
     process) and of the Ray runtime (shard actors on a local Ray instance), side by side, and
     the ratio per core used. "Cores used" is measured, not assumed: the CPU seconds that the
     driver (which on one machine is the post and steps shard 0 itself), every shard actor's
     process and the nodes' post actors spent during the measured ticks, also printed by role
     in ms per tick (of a shard actor's, what its steps took on the threads that ran them apart
     from the rest, which is Ray's), to show where Ray's extra CPU goes; and the same layouts
     stepped in one process, one shard after another, to tell what splitting the world costs
     from what Ray adds.
     Target: the Ray runtime reaches at least 0.7 of the in-process throughput per core used.
  B. at 200 characters: packed shards against one Ray actor per character.
     Target: packed is at least 50 times faster.
  C. part A's ratio again, from alternated blocks: an in-process world and a Ray world live
     side by side and step in turns, a block of ticks each, so that the machine's swings in
     pace (20% and more within minutes here) fall on both alike; the ratio of each pair of
     blocks, and their median, judged against the same target as A.

    .venv/bin/python bench/ray_throughput.py [--characters 10000] [--literal 200] [--ticks 20]
        [--parts A,B,C] [--blocks 6] [--block-ticks 20]

Figures only: nothing is asserted. Starting 200 actors takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from machine import cpu_model  # bench/machine.py

from actors.cluster.connect import connect
from actors.cluster.coordinator import RayRuntime
from world.runtime import LocalRuntime, Runtime
from world.scenario import Scenario, parse_scenario

CLK = os.sysconf("SC_CLK_TCK")


def _seconds(stat: str) -> float:
    """User plus system CPU seconds from a /proc stat line."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds of these processes so far (Linux /proc)."""
    total = 0.0
    for pid in pids:
        try:
            total += _seconds(Path(f"/proc/{pid}/stat").read_text())
        except OSError:
            continue
    return total


def scenario(size: int, seed: int) -> Scenario:
    return parse_scenario(
        {"name": "bench", "seed": seed, "population": {"size": size}, "encounters": {"rate": 1.0}},
        source="bench",
    )


def measure(rt: Runtime, roles: dict[str, list[int]], warmup: int, ticks: int) -> dict[str, Any]:
    """Time `ticks` steps after `warmup`; CPU is counted for the processes of every role
    (driver, shard actors, posts), and of a shard actor's process apart, the CPU its steps took
    on the threads that ran them (`worked`, which each actor counts): the rest is Ray's."""
    for _ in range(warmup):
        rt.step()
    # a full collection now, so that a run measured after another in this process does not pay
    # for the garbage the earlier one left (a gen-2 collection of it cost the driver ~2 ms a
    # tick over 60 ticks)
    gc.collect()
    envelopes = 0
    worked0 = _worked(rt)  # (a call to each actor: before the measured ticks, not in them)
    c0, t0 = {r: cpu_seconds(g) for r, g in roles.items()}, time.perf_counter()
    for _ in range(ticks):
        envelopes += rt.step().c["envelopes"]
    wall = time.perf_counter() - t0
    by_role = {r: (cpu_seconds(g) - c0[r]) * 1e3 / ticks for r, g in roles.items()}
    worked = _worked(rt)
    stepping = {r: (worked[r] - worked0[r]) * 1e3 / ticks for r in worked}
    cpu = sum(by_role.values()) * ticks / 1e3
    size = rt.scenario.population.size
    return {
        "runtime": rt.name,
        "shards": rt.n_shards,
        "characters": size,
        "ticks": ticks,
        "seconds": wall,
        "cpu_seconds": cpu,
        "cores_used": cpu / wall,
        "char_ticks_per_s": size * ticks / wall,
        "envelopes_per_s": envelopes / wall,
        "char_ticks_per_cpu_s": size * ticks / cpu,
        "cpu_ms_per_tick": by_role,
        "stepping_ms_per_tick": stepping,
    }


def _worked(rt: Runtime) -> dict[str, float]:
    """CPU seconds the shards' steps took so far on the threads that ran them, by role: the
    shard actors', and the driver's for the shard it hosts (none in process)."""
    worked = {"driver": 0.0, "shard actors": 0.0}
    if isinstance(rt, RayRuntime):
        for w in rt.where():
            role = "driver" if w["pid"] == os.getpid() else "shard actors"
            worked[role] += w.get("worked", 0.0)  # (0 from a version before it)
    return worked


def roles_of(rt: Runtime) -> dict[str, list[int]]:
    """The processes whose CPU a run costs, by role: this one (the driver, with the shard it
    hosts on one machine, or the whole world in process), and on Ray the shard actors' and the
    nodes' posts'."""
    roles = {"driver": [os.getpid()]}
    if isinstance(rt, RayRuntime):
        pids = rt.pids()  # the shards', then the nodes' posts
        actors = [p for p in pids[: rt.n_shards] if p != os.getpid()]
        roles["shard actors"], roles["posts"] = actors, pids[rt.n_shards :]
    return roles


def local(size: int, seed: int, warmup: int, ticks: int, shards: int = 1) -> dict[str, Any]:
    rt = LocalRuntime(scenario(size, seed), shards)
    return measure(rt, roles_of(rt), warmup, ticks)


def on_ray(size: int, shards: int, seed: int, warmup: int, ticks: int) -> dict[str, Any]:
    start = time.perf_counter()
    rt = RayRuntime(scenario(size, seed), shards)
    roles = roles_of(rt)
    started = time.perf_counter() - start
    try:
        row = measure(rt, roles, warmup, ticks)
    finally:
        rt.close()
    return {**row, "startup_seconds": started}


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    cells = [
        ("runtime", "{runtime}"),
        ("shards (actors)", "{shards}"),
        ("characters", "{characters:,}"),
        ("measured ticks", "{ticks}"),
        ("seconds", "{seconds:.2f}"),
        ("cores used (CPU s / wall s)", "{cores_used:.2f}"),
        ("character-ticks / s", "{char_ticks_per_s:,.0f}"),
        ("envelopes / s", "{envelopes_per_s:,.0f}"),
        ("character-ticks / CPU-second", "{char_ticks_per_cpu_s:,.0f}"),
    ]
    width = max(len(c) for c, _ in cells)
    for label, fmt in cells:
        print(f"  {label:<{width}}" + "".join(f"{fmt.format(**r):>16}" for r in rows))


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--characters", type=int, default=10_000, help="part A size (10,000)")
    p.add_argument("--literal", type=int, default=200, help="part B size (200)")
    p.add_argument("--ticks", type=int, default=20, help="measured ticks in part A (20)")
    p.add_argument("--literal-ticks", type=int, default=5, help="measured ticks in part B (5)")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured ticks first (2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--parts", default="A,B,C", help="which parts to run (A,B,C)")
    p.add_argument("--blocks", type=int, default=6, help="pairs of blocks in part C (6)")
    p.add_argument("--block-ticks", type=int, default=20, help="ticks in a block of C (20)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()

    cpus = int(connect()["CPU"])
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs, "
        f"Ray sees {cpus}; Python {platform.python_version()}"
    )
    figures: dict[str, Any] = {}
    if "A" in args.parts:
        figures["A"] = part_a(args, cpus)
    if "B" in args.parts:
        figures["B"] = part_b(args, cpus)
    if "C" in args.parts:
        figures["C"] = part_c(args, cpus)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def part_a(args: argparse.Namespace, cpus: int) -> list[dict[str, Any]]:
    a_local = local(args.characters, args.seed, args.warmup, args.ticks)
    a_ray = [
        on_ray(args.characters, k, args.seed, args.warmup, args.ticks)
        for k in sorted({cpus, 2 * cpus})
    ]
    # the same layouts in one process, one shard after another: what splitting the world
    # costs, apart from what Ray adds to it
    a_split = {
        r["shards"]: local(args.characters, args.seed, args.warmup, args.ticks, r["shards"])
        for r in a_ray
    }
    table(f"A. {args.characters:,} characters", [a_local, *a_ray])
    print("  target: Ray reaches at least 0.7 of the in-process throughput per core used")
    for r in a_ray:
        ratio = r["char_ticks_per_cpu_s"] / a_local["char_ticks_per_cpu_s"]
        wall = r["char_ticks_per_s"] / a_local["char_ticks_per_s"]
        print(
            f"    {r['shards']} shards: per CPU-second {ratio:.2f} of in-process "
            f"({'PASS' if ratio >= 0.7 else 'MISS'}); wall-clock {wall:.2f}x"
        )
    print("  where the CPU went, ms per tick (in process: the one process)")
    one = a_local["cpu_ms_per_tick"]["driver"]
    print(f"    in process: {one:.1f}")
    for r in a_ray:
        ms = r["cpu_ms_per_tick"]
        actors, stepping = ms["shard actors"], r["stepping_ms_per_tick"]
        split = a_split[r["shards"]]["cpu_ms_per_tick"]["driver"]
        hosted = stepping["driver"]
        driver = f"{ms['driver']:.1f}" + (f" (stepping its shard {hosted:.1f})" if hosted else "")
        mine = stepping["shard actors"]
        print(
            f"    {r['shards']} shards on Ray: driver {driver}, shard actors {actors:.1f} "
            f"(stepping {mine:.1f}, Ray's threads {actors - mine:.1f}), posts {ms['posts']:.1f}"
        )
        print(
            f"    {r['shards']} shards in process, one after another: {split:.1f} (splitting "
            f"the world adds {split - one:+.1f}; Ray adds {sum(ms.values()) - split:+.1f} to that)"
        )
    return [a_local, *a_ray, *a_split.values()]


def part_b(args: argparse.Namespace, cpus: int) -> list[dict[str, Any]]:
    b_packed = on_ray(args.literal, cpus, args.seed, args.warmup, args.literal_ticks)
    b_literal = on_ray(args.literal, args.literal, args.seed, 1, args.literal_ticks)
    table(
        f"B. {args.literal} characters: packed against one actor per character",
        [b_packed, b_literal],
    )
    speedup = b_packed["char_ticks_per_s"] / b_literal["char_ticks_per_s"]
    print(
        f"  starting the actors took {b_packed['startup_seconds']:.1f} s packed, "
        f"{b_literal['startup_seconds']:.1f} s one per character"
    )
    print(
        f"  packed is {speedup:,.0f}x faster (target: at least 50x; "
        f"{'PASS' if speedup >= 50 else 'MISS'})"
    )
    return [b_packed, b_literal]


def part_c(args: argparse.Namespace, cpus: int) -> dict[str, Any]:
    """In process (one shard) and on Ray (`cpus` shard actors), stepped in alternated blocks;
    each pair's ratio of character-ticks per CPU-second."""
    here = LocalRuntime(scenario(args.characters, args.seed), 1)
    there = RayRuntime(scenario(args.characters, args.seed), cpus)
    alone_roles, roles = roles_of(here), roles_of(there)
    ratios = []
    try:
        for b in range(args.blocks):
            warmup = args.warmup if b == 0 else 0
            alone = measure(here, alone_roles, warmup, args.block_ticks)
            on = measure(there, roles, warmup, args.block_ticks)
            ratios.append(on["char_ticks_per_cpu_s"] / alone["char_ticks_per_cpu_s"])
    finally:
        there.close()
    middle = statistics.median(ratios)
    print(
        f"\nC. {args.characters:,} characters, in process against {cpus} shards on Ray, "
        f"{args.blocks} pairs of alternated blocks of {args.block_ticks} ticks"
    )
    print(f"  per CPU-second, each pair: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(
        f"  median {middle:.2f} of in-process (target at least 0.7: "
        f"{'PASS' if middle >= 0.7 else 'MISS'}); {sum(r >= 0.7 for r in ratios)} of "
        f"{len(ratios)} pairs reach it"
    )
    return {"shards": cpus, "ratios": ratios, "median": middle}


if __name__ == "__main__":
    raise SystemExit(main())
