"""The cost of scenario events: CPU-seconds per tick of the same world with and without a busy
list of events (every kind but newcomers, each acting on every tick of the measured range).

The two worlds alternate, `--pairs` times, each step timed by the process's CPU clock (so other
work on the machine weighs less); the median ratio with/without is printed with both rates and
the CPU. Run: `.venv/bin/python bench/events_cost.py [--characters N] [--ticks T] [--pairs P]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import cpu_model  # bench/machine.py

from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario


def busy(first: int, last: int, size: int) -> list[dict[str, Any]]:
    """Every kind of event but newcomers, acting on each tick of [first, last]."""
    span = [first, last]
    half = {"share": 0.5}
    return [
        {"kind": "famine", "ticks": span, "target": {"groups": [0, 1, 2]}, "factor": 0.3},
        {"kind": "plenty", "ticks": span, "target": {"groups": [3, 4]}, "factor": 1.5},
        {"kind": "plague", "ticks": span, "target": half, "chance": 0.05},
        *[
            {"kind": "rumour", "tick": t, "about": t % size, "target": half}
            for t in range(first, last + 1)
        ],
        *[
            {"kind": "cut_ties", "tick": t, "target": {"groups": [5]}, "with": {"groups": [6]}}
            for t in range(first, last + 1)
        ],
        {"kind": "exile", "tick": first, "target": {"characters": [0, 1, 2]}, "group": 7},
        {"kind": "norm", "tick": first, "norm": "image_scoring"},
        {"kind": "windfall", "ticks": span, "good": "food", "amount": 1, "target": half},
        {"kind": "tax", "ticks": span, "good": "coin", "rate": 0.1, "target": half},
    ]


def world(size: int, ticks: int, warm: int, events: bool) -> Scenario:
    return parse_scenario(
        {
            "name": "events-cost",
            "seed": 1,
            "ticks": warm + ticks,
            "population": {"size": size},
            "events": busy(warm + 1, warm + ticks, size) if events else [],
        }
    )


def cpu_per_tick(sc: Scenario, warm: int) -> float:
    rt = LocalRuntime(sc, 1)
    rt.run(warm)
    spent = 0.0
    while rt.completed < sc.ticks:
        t0 = time.process_time()
        rt.step()
        spent += time.process_time() - t0
    return spent / (sc.ticks - warm)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--characters", type=int, default=10_000)
    ap.add_argument("--ticks", type=int, default=10, help="measured ticks, each with events")
    ap.add_argument("--warm", type=int, default=5, help="ticks before (not measured)")
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    print(f"CPU: {cpu_model()}")
    print(f"{args.characters:,} characters, {args.ticks} measured ticks, {args.pairs} pairs")
    ratios, plain, busy_rates = [], [], []
    for _ in range(args.pairs):
        without = cpu_per_tick(world(args.characters, args.ticks, args.warm, False), args.warm)
        with_ = cpu_per_tick(world(args.characters, args.ticks, args.warm, True), args.warm)
        plain.append(args.characters / without)
        busy_rates.append(args.characters / with_)
        ratios.append(with_ / without)
        print(
            f"  without {plain[-1]:>10,.0f}  with {busy_rates[-1]:>10,.0f} character-ticks per "
            f"CPU-second; with/without CPU per tick {ratios[-1]:.3f}"
        )
    a, b = statistics.median(plain), statistics.median(busy_rates)
    print(
        f"median: without {a:,.0f}, with {b:,.0f} character-ticks per CPU-second; "
        f"CPU per tick with/without events {statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()
