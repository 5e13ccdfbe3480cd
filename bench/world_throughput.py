"""World throughput: how fast `world.LocalRuntime` steps, and how much memory a character costs.

Each size runs in a fresh subprocess pinned to one core (sched_setaffinity; 1 OpenMP/OpenBLAS/
MKL thread), so its peak RSS is its own. The scenario is the defaults with encounters.rate 1.0
(the issue asks for >= 1 message per character per tick; the envelopes per character-tick are
measured and printed, not assumed). Only the `runtime.step()` calls of the measured ticks are
timed. Memory per character is given two ways: (a) the nbytes of every numpy column of every
shard's tables (chars, owed, owed_to, outbox) plus the in-flight inbox bytes; (b) peak RSS
growth (ru_maxrss) from before building the runtime to after the run, an upper bound.
Targets (issue 17): >= 400,000 character-ticks/s on one core (250,000 from 1,000,000
characters), <= 2,560 B of state per character; PASS/MISS is printed and the exit code is 0
either way (1 only if a world crashed).

`--against DIR` compares this checkout with another one (e.g. `git worktree add /tmp/old REV`):
the two run alternately, `--pairs` times per size, each in its own pinned subprocess, and the
ratio of their character-ticks per CPU-second of the process is printed with its median (CPU
time, not wall time, so other work on the machine weighs less).

Run: `make bench`, or `.venv/bin/python bench/world_throughput.py --help` for the flags.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from machine import cpu_model  # bench/machine.py

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Character-ticks per second on one core (issue 17): 400,000 at 10,000 characters, 250,000 at
#: 1,000,000 (where the state no longer fits any cache); sizes between take the 10,000 target.
TARGET_RATE = 400_000
TARGET_RATE_LARGE, LARGE = 250_000, 1_000_000


def target_rate(size: int) -> int:
    """The throughput target for a world of `size` characters."""
    return TARGET_RATE_LARGE if size >= LARGE else TARGET_RATE


TARGET_BYTES = 2_560  # bytes of state per character
SET_HELP = "override a (dotted) scenario field, repeatable: --set population.boundaries.x=0"


def pin_one_core() -> int:
    """Pin this process to its first allowed CPU and to one BLAS/OpenMP thread."""
    for var in THREAD_VARS:
        os.environ[var] = "1"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def measure_one(args: argparse.Namespace) -> dict[str, Any]:
    """Build, warm up and time one world; numpy is imported only after pinning."""
    cpu = pin_one_core()
    import numpy as np
    import yaml

    # not at the top: world imports numpy, whose BLAS reads the thread vars set by pin_one_core
    from world import LocalRuntime
    from world.scenario import parse_scenario

    scenario = parse_scenario(
        {
            "name": "bench",
            "seed": args.seed,
            "ticks": args.warmup + args.ticks,
            "shards": args.shards,
            "population": {"size": args.one},
            "encounters": {"rate": 1.0},
        },
        source="bench",
    ).with_overrides(**{k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)})
    size, ticks = scenario.population.size, args.ticks
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    runtime = LocalRuntime(scenario)
    for _ in range(args.warmup):
        runtime.step()
    seconds, cpu_seconds, envelopes, senders = 0.0, 0.0, 0, size
    per_tick: list[float] = []
    for _ in range(ticks):
        t0, c0 = time.perf_counter(), time.process_time()
        stats = runtime.step()
        per_tick.append(time.perf_counter() - t0)
        seconds += per_tick[-1]
        cpu_seconds += time.process_time() - c0
        envelopes += stats.c["envelopes"]
        outs = [sh.outbox for sh in runtime.shards]  # who sent anything (untimed)
        senders = min(senders, sum(len(np.unique(m.sender[: len(m)])) for m in outs))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    state = sum(
        s.chars.nbytes() + s.owed.nbytes() + s.owed_to.nbytes() + s.outbox.nbytes()
        for s in runtime.shards
    )
    inboxes = sum(len(b) for box in runtime.in_flight() for b in box)
    char_ticks = size * ticks
    return {
        "characters": size,
        "shards": runtime.n_shards,
        "warmup_ticks": args.warmup,
        "ticks": ticks,
        "seconds": seconds,
        "char_ticks_per_s": char_ticks / seconds,
        "median_tick_char_ticks_per_s": size / float(np.median(per_tick)),
        "cpu_char_ticks_per_s": char_ticks / cpu_seconds,
        "envelopes": envelopes,
        "envelopes_per_s": envelopes / seconds,
        "envelopes_per_char_tick": envelopes / char_ticks,
        "min_share_sending": senders / size,  # lowest share of characters that sent in a tick
        "state_bytes": state,
        "inbox_bytes": inboxes,
        "state_bytes_per_char": (state + inboxes) / size,
        "peak_rss_mib": rss_after / 1024,
        "rss_growth_bytes_per_char": (rss_after - rss_before) * 1024 / size,
        "cpu": cpu,
        "numpy": np.__version__,
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(rows: list[dict[str, Any]]) -> None:
    lines: list[tuple[str, str]] = [
        ("characters", "{characters:,}"),
        ("shards", "{shards}"),
        ("measured ticks (after warm-up)", "{ticks} (+{warmup_ticks})"),
        ("seconds in step()", "{seconds:.3f}"),
        ("character-ticks / s", "{char_ticks_per_s:,.0f}"),
        ("  ... in the median tick", "{median_tick_char_ticks_per_s:,.0f}"),
        ("  ... per CPU-second of the process", "{cpu_char_ticks_per_s:,.0f}"),
        ("envelopes / s", "{envelopes_per_s:,.0f}"),
        ("envelopes / character-tick", "{envelopes_per_char_tick:.3f}"),
        ("share of chars sending, worst tick", "{min_share_sending:.1%}"),
        ("(a) state bytes / character", "{state_bytes_per_char:,.0f}"),
        ("(b) peak RSS growth bytes / char", "{rss_growth_bytes_per_char:,.0f}"),
        ("peak RSS (MiB)", "{peak_rss_mib:,.1f}"),
    ]
    width = max(len(label) for label, _ in lines)
    for label, fmt in lines:
        cells = "".join(f"{fmt.format(**r):>18}" for r in rows)
        print(f"{label:<{width}}{cells}")
    print()
    print(
        f"targets: >= {TARGET_RATE:,} character-ticks/s on one core ({TARGET_RATE_LARGE:,} from "
        f"{LARGE:,} characters); <= {TARGET_BYTES:,} B/char"
    )
    for r in rows:
        n, rate = f"{r['characters']:,}", r["char_ticks_per_s"]
        met = verdict(rate >= target_rate(r["characters"]))
        print(f"  {n:>9} chars: throughput {rate:>10,.0f}/s  {met}")
        memory = {
            "(a) state   ": "state_bytes_per_char",
            "(b) peak RSS": "rss_growth_bytes_per_char",
        }
        for what, key in memory.items():
            b = r[key]
            print(f"  {n:>9} chars: {what}{b:>10,.0f} B  {verdict(b <= TARGET_BYTES)}")
        if r["envelopes_per_char_tick"] < 1.0:
            print(
                f"  !!! {n} chars: only {r['envelopes_per_char_tick']:.3f} envelopes per "
                "character-tick, BELOW the required 1 message per character per tick !!!"
            )
        if r["min_share_sending"] < 1.0:
            print(f"  note: in the worst tick {1 - r['min_share_sending']:.1%} sent nothing")
    print()
    print("(b) is an upper bound: it includes the temporaries of the busiest tick.")


def run_one(args: argparse.Namespace, size: int, root: Path) -> tuple[dict | None, str]:
    """One size measured by the bench of the checkout at `root`, in a fresh subprocess."""
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **dict.fromkeys(THREAD_VARS, "1"), "PYTHONPATH": path}
    flags = {"--one": size, "--ticks": args.ticks, "--warmup": args.warmup}
    flags |= {"--shards": args.shards, "--seed": args.seed}
    script = str(root / "bench" / "world_throughput.py")
    cmd = [sys.executable, script, *(str(x) for kv in flags.items() for x in kv)]
    cmd += [x for s in args.set for x in ("--set", s)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    if done.returncode != 0:
        return None, f"exit {done.returncode}:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1]), ""


def compare(args: argparse.Namespace, sizes: list[int], root: Path, other: Path) -> int:
    """This checkout against `other`, alternated pair by pair; prints the CPU-second rates."""
    print(f"this: {root}\nagainst: {other}\n")
    failed = False
    for size in sizes:
        ratios = []
        for pair in range(args.pairs):
            this, error = run_one(args, size, root)
            that, error2 = run_one(args, size, other)
            if this is None or that is None:
                print(f"!!! size {size:,} pair {pair + 1} FAILED: {error or error2}")
                failed = True
                continue
            ratio = this["cpu_char_ticks_per_s"] / that["cpu_char_ticks_per_s"]
            ratios.append(ratio)
            print(
                f"{size:>9,} chars, pair {pair + 1}: this {this['cpu_char_ticks_per_s']:>9,.0f} "
                f"against {that['cpu_char_ticks_per_s']:>9,.0f} character-ticks per CPU-second "
                f"(x{ratio:.2f}); state {this['state_bytes_per_char']:,.0f} against "
                f"{that['state_bytes_per_char']:,.0f} B/char"
            )
        if ratios:
            print(f"{size:>9,} chars: median ratio x{statistics.median(ratios):.2f}\n")
    return 1 if failed else 0


def main() -> int:
    p = argparse.ArgumentParser(
        description="Throughput and memory per character of world.LocalRuntime on one core. "
        "Each size runs in its own pinned subprocess; figures are printed with PASS/MISS "
        "against the targets (>= 400,000 character-ticks/s, 250,000 from 1,000,000 characters; "
        "<= 2,560 B/character).",
    )
    p.add_argument("--sizes", default="10000,100000", help="comma-separated character counts")
    p.add_argument("--ticks", type=int, default=20, help="measured ticks per size (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed ticks first (default 3)")
    p.add_argument("--shards", type=int, default=1, help="shards in the one process (default 1)")
    p.add_argument("--seed", type=int, default=0, help="scenario seed (default 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    p.add_argument(
        "--against",
        metavar="DIR",
        help="another socius checkout: run its bench and this one alternately and print the "
        "ratio of their CPU-second rates",
    )
    p.add_argument("--pairs", type=int, default=3, help="alternated pairs with --against (3)")
    p.add_argument("--one", type=int, metavar="SIZE", help=argparse.SUPPRESS)  # child mode
    args = p.parse_args()
    if args.ticks < 1 or args.warmup < 0 or args.shards < 1 or args.pairs < 1:
        p.error("--ticks, --shards and --pairs must be at least 1, --warmup at least 0")
    if any("=" not in s for s in args.set):
        p.error("--set takes KEY=VALUE")
    if args.one is not None:
        print(json.dumps(measure_one(args)))
        return 0
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        p.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    machine = f"{cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}"
    print(f"world throughput on one core: {machine}")
    fields = ", ".join([f"seed={args.seed}", "encounters.rate=1.0", *args.set, "others default"])
    print(f"sizes {sizes}; scenario: {fields}\n")
    root = Path(__file__).resolve().parent.parent
    if args.against:
        other = Path(args.against).resolve()
        if not (other / "bench" / "world_throughput.py").is_file():
            p.error(f"--against {args.against}: no bench/world_throughput.py there")
        return compare(args, sizes, root, other)
    rows, failed = [], []
    for size in sizes:
        row, error = run_one(args, size, root)
        if row is None:  # a crash of the world, not a missed target: say so, go on
            print(f"!!! size {size:,} FAILED: {error}")
            failed.append(size)
            continue
        rows.append(row)
    if rows:
        report(rows)
    if args.json:
        targets = {
            "char_ticks_per_s": TARGET_RATE,
            f"char_ticks_per_s_from_{LARGE}": TARGET_RATE_LARGE,
            "bytes_per_char": TARGET_BYTES,
        }
        out = {"machine": machine, "targets": targets, "runs": rows, "failed_sizes": failed}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 1 if failed else 0  # targets missed still exit 0; only a crash does not


if __name__ == "__main__":
    sys.exit(main())
