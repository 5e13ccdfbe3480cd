"""Evolution of the iterated prisoner's dilemma: the invasion matrix of a handful of classic
strategies under noise, and a Moran run's shares over generations.

The invasion matrix: for each ordered pair (A, B), the share of runs in which a single A in a
population of N - 1 B took over (world/classic/fixation.py `invasion_matrix`: seeds seed,
seed + 1, ..., in process), with Wilson's 95% interval; neutral drift gives 1/N. The shares:
examples/classic/evolution.yaml played to fixation, each strategy's share every few
generations. It prints, with the CPU and the time taken; it asserts nothing.

Run: `.venv/bin/python bench/evolution_invasion.py [--players N] [--repeats R] [--noise E]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from machine import cpu  # bench/machine.py

from world.classic.evolution import evolve
from world.classic.fixation import invasion_matrix
from world.classic.games import results_of
from world.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "classic" / "evolution.yaml"
STRATEGIES = ["Defector", "Tit For Tat", "Win-Stay Lose-Shift", "GTFT", "Grudger"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=8, help="population size N")
    parser.add_argument("--repeats", type=int, default=100, help="runs per pair")
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--selection", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {cpu()}")
    base = parse_scenario(
        {
            "name": "invasion",
            "seed": args.seed,
            "classic": {
                "kind": "evolution",
                "players": {STRATEGIES[0]: 1, STRATEGIES[1]: args.players - 1},
                "turns": args.turns,
                "noise": args.noise,
                "selection": args.selection,
                "generations": 100_000,
            },
        }
    )
    start = time.perf_counter()
    matrix = invasion_matrix(base, STRATEGIES, args.repeats)
    seconds = time.perf_counter() - start
    n = args.players
    print(
        f"\ninvasion matrix: the share of {args.repeats} runs in which one mutant (row) took "
        f"over {n - 1} residents (column); Moran process, selection {args.selection:g}, "
        f"{args.turns}-turn matches, noise {args.noise:g}; neutral drift 1/N = {1 / n:.3f}"
    )
    width = max(len(s) for s in STRATEGIES)
    print(" " * width + "".join(f" | {s:>{width}}" for s in STRATEGIES))
    for a in STRATEGIES:
        cells = []
        for b in STRATEGIES:
            if a == b:
                cells.append("-".rjust(width))
                continue
            got = matrix[a, b]
            lo, hi = got.interval(a)
            cells.append(f"{got.probability(a):.2f} [{lo:.2f}, {hi:.2f}]".rjust(width))
        print(a.rjust(width) + "".join(f" | {c}" for c in cells))
    print(f"({len(matrix) * args.repeats} runs in {seconds:.1f} s)")

    sc = load_scenario(EXAMPLE)
    start = time.perf_counter()
    res = results_of(sc, evolve(sc))
    seconds = time.perf_counter() - start
    shares = res["per_generation"]["shares"]
    reached = len(next(iter(shares.values())))
    picks = sorted({round(k * (reached - 1) / 10) for k in range(11)})
    print(
        f"\n{EXAMPLE.relative_to(ROOT)} (seed {sc.seed}): fixation at generation "
        f"{res['fixation_generation']}, winner {res['winner']}, cooperation "
        f"{res['cooperation_rate']:.3f} ({seconds:.1f} s)"
    )
    print("generation".rjust(width) + "".join(f" {g:>5}" for g in picks))
    for name, series in shares.items():
        print(name.rjust(width) + "".join(f" {series[g]:5.2f}" for g in picks))


if __name__ == "__main__":
    main()
