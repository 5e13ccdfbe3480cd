"""How fast `socius eval` goes: worlds observed for items, and items answered per second per mind.

    .venv/bin/python bench/eval_speed.py                         # the reference minds
    .venv/bin/python bench/eval_speed.py --engine models/smollm2 --llm-items 40
    .venv/bin/python bench/eval_speed.py --endpoint http://localhost:8000 --llm-items 100

It runs the village's worlds for the items (timed: character-ticks per second while noting
every reading and promise), then asks each mind every item (timed: items per second). The
language model, when given, answers `--llm-items` of each kind. Prints figures and the CPU;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from machine import cpu_model  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.lab.eval.evaluation import from_worlds  # noqa: E402
from actors.lab.eval.minds import Heuristic, Majority, Oracle, Random  # noqa: E402
from actors.lab.eval.model import ModelMind  # noqa: E402
from inference.connect import Target  # noqa: E402
from world.scenario import load_scenario  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenario", type=Path, default=ROOT / "examples" / "village.yaml")
    p.add_argument("--seeds", type=int, default=2, help="worlds to observe (default 2)")
    p.add_argument("--ticks", type=int, default=60, help="ticks per world (default 60)")
    p.add_argument("--items", type=int, default=2000, help="items of each kind (default 2000)")
    p.add_argument("--endpoint", help="an OpenAI-compatible server for the llm mind")
    p.add_argument("--engine", type=Path, help="a model folder for vLLM's engine, in process")
    p.add_argument("--llm-items", type=int, default=40, help="items of each kind the llm answers")
    args = p.parse_args()
    print(f"machine: {cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}")
    sc = load_scenario(args.scenario).with_overrides(ticks=args.ticks)
    seeds = list(range(101, 101 + args.seeds))
    t0 = time.perf_counter()
    items = from_worlds(sc, seeds, args.items)
    seconds = time.perf_counter() - t0
    rate = sc.population.size * sc.ticks * len(seeds) / seconds
    print(
        f"worlds: {len(seeds)} x {sc.population.size} characters x {sc.ticks} ticks observed in "
        f"{seconds:.1f} s ({rate:,.0f} character-ticks/s); {len(items.readings)} reading and "
        f"{len(items.trust)} trust items drawn"
    )
    n = len(items.readings) + len(items.trust)
    for mind in (Heuristic(), Random(), Majority(items.readings, items.trust), Oracle()):
        t0 = time.perf_counter()
        mind.answer(items.readings, items.trust)
        seconds = time.perf_counter() - t0
        print(f"{mind.name:>10}: {n / seconds:>12,.0f} items/s ({n} items)")
    if args.endpoint or args.engine:
        target = (
            Target("openai", (args.endpoint,), flag="--endpoint")
            if args.endpoint
            else Target("engine", (str(args.engine.resolve()),), flag="--engine")
        )
        t0 = time.perf_counter()
        model = ModelMind(sc, target)
        start = time.perf_counter() - t0
        try:
            readings, trust = items.readings[: args.llm_items], items.trust[: args.llm_items]
            t0 = time.perf_counter()
            answers = model.answer(readings, trust)
            seconds = time.perf_counter() - t0
        finally:
            model.close()
        k = len(readings) + len(trust)
        f = answers.figures
        print(
            f"{'llm':>10}: {k / seconds:>12,.2f} items/s ({k} items in {seconds:.1f} s, after "
            f"{start:.1f} s to start); valid first try {f['valid_first_try']}, "
            f"{f['tokens_in']:,} tokens in, {f['tokens_out']:,} out, mean latency "
            f"{f['latency_mean_s']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
