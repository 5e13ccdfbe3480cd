"""How much of a world's mail stays inside its shard: the share of envelopes that cross shards
at 2, 16, 64 and 256 shards, under socius's placement (blocks of consecutive ids,
world/placement.py) and under the `id % K` placement it replaced, on examples/town-10k.yaml by
default. The world does not depend on its layout, so one run measures every layout.

    .venv/bin/python bench/locality.py [--scenario FILE] [--ticks N] [--warm N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cluster_model import SHARDS, mail_figures  # bench/cluster_model.py
from machine import cpu  # bench/machine.py

from world.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "examples" / "town-10k.yaml")
    ap.add_argument("--warm", type=int, default=10, help="ticks lived before measuring")
    ap.add_argument("--ticks", type=int, default=10, help="ticks whose mail is measured")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    print(f"CPU: {cpu()}")
    print(
        f"{sc.name}: {sc.population.size:,} characters in groups of {sc.population.group_size}; "
        f"mail of ticks {args.warm + 1}..{args.warm + args.ticks}"
    )
    began = time.perf_counter()
    mail = mail_figures(sc, args.ticks, warm=args.warm)
    print(
        f"{mail['per_character_tick']:.2f} envelopes per character-tick "
        f"({time.perf_counter() - began:.0f} s)"
    )
    print(f"{'shards':>7} {'blocks of ids':>14} {'id % K':>8}")
    for k in SHARDS:
        print(f"{k:>7} {mail['blocks'][k]:>14.1%} {mail['modulo'][k]:>8.1%}")


if __name__ == "__main__":
    main()
