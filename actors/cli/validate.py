"""`socius validate SCENARIO`: check a scenario file and say what it would run."""

from __future__ import annotations

import argparse

from world.classic.games import describe_game
from world.scenario import load_scenario

DESCRIPTION = "Check a scenario file and print what it would run."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.set_defaults(func=validate)


def validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario)
    shards = sc.shards if sc.shards is not None else "auto"
    if sc.classic is not None:
        print(
            f"{args.scenario}: valid. {sc.name}: {describe_game(sc)}; {sc.ticks} ticks, seed "
            f"{sc.seed}, shards {shards}"
        )
        return 0
    print(
        f"{args.scenario}: valid. {sc.name}: {sc.population.size} characters, {sc.ticks} "
        f"ticks, seed {sc.seed}, shards {shards}, norm {sc.norm}, minds "
        + ", ".join(f"{k} {v:g}" for k, v in sc.population.minds.items())
    )
    return 0
