"""Journal size: bytes per envelope of the uncompressed journal (format 1) and the
zstd-compressed one runs write now (format 2), and what writing it costs in time.

Each scenario runs in process (`--runtime local`, its own shard count) with its journal kept
in full; the format-2 files are measured on disk, and the format-1 size is what the same
batches take as format-1 records (magic line, then an 8-byte head and the serialized `Batch`
each). The run is timed with the journal full and off (the same world; the difference is the
journal's cost), the fastest of 3 runs each. It prints; it asserts nothing.

Run: `.venv/bin/python bench/journal_size.py [--ticks N] [SCENARIO ...]` (default: the
classic donation game, the village, and the donation game at 100 players and 400 rounds, the
run whose format-1 journal was 190 MB).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # bench/machine.py

from world.journal import MAGIC_V1, read_journal
from world.journal_mode import FULL, OFF, JournalMode, journal_bytes
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
DONATION = ROOT / "examples" / "classic" / "donation.yaml"
DEFAULT = [DONATION, ROOT / "examples" / "village.yaml"]
#: the big run: the donation game at 100 players (its shares of strategies), 400 rounds
BIG = {"classic.players": {"Discriminator": 80, "Cooperator": 10, "Defector": 10}}


def scenarios(paths: list[Path], ticks: int | None) -> list[tuple[str, Scenario]]:
    """Each scenario to measure, named; without paths, the defaults and the big run."""
    out = [(p.stem, load_scenario(p).with_overrides(ticks=ticks)) for p in paths or DEFAULT]
    if not paths:
        big = load_scenario(DONATION).with_overrides(**BIG, **{"classic.rounds": 400})
        out.append(("donation-100x400", big.with_overrides(ticks=ticks)))
    return out


HEAD = 8  # a record's <u32 length><u32 crc32>
REPEATS = 3  # timed runs of each mode; the fastest is shown


def run(sc: Scenario, folder: Path, journal: JournalMode) -> tuple[float, int]:
    """Run the world into `folder`; returns (seconds, envelopes)."""
    n = sc.shards or 1
    record = RunRecord(folder, sc, n, journal=journal)
    runtime = LocalRuntime(sc, n, record)
    t0 = time.perf_counter()
    result = runtime.run()
    record.close()
    return time.perf_counter() - t0, int(result.totals.c["envelopes"])


def format1_bytes(folder: Path) -> int:
    """What the run's journal takes as format-1 records (every batch uncompressed)."""
    total = 0
    for path in sorted((folder / "journal").glob("shard-*.sjl")):
        total += len(MAGIC_V1)
        total += sum(HEAD + b.ByteSize() for b in read_journal(path))
    return total


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("scenarios", nargs="*", type=Path, metavar="SCENARIO")
    p.add_argument("--ticks", type=int, help="ticks per run (default: each scenario's)")
    args = p.parse_args()
    print(f"CPU: {cpu_model()}; python {platform.python_version()}")
    print(
        f"{'scenario':<16} {'chars':>6} {'ticks':>6} {'envelopes':>11} {'format 1':>12} "
        f"{'B/env':>6} {'format 2':>12} {'B/env':>6} {'ratio':>6} {'s full':>7} {'s off':>7}"
    )
    for name, sc in scenarios(args.scenarios, args.ticks):
        with tempfile.TemporaryDirectory(prefix="socius-journal-") as tmp:
            seconds, envelopes = run(sc, Path(tmp) / "full", FULL)
            off, _ = run(sc, Path(tmp) / "off", OFF)
            for again in range(REPEATS - 1):  # the fastest of a few: the machine is shared
                seconds = min(seconds, run(sc, Path(tmp) / f"full{again}", FULL)[0])
                off = min(off, run(sc, Path(tmp) / f"off{again}", OFF)[0])
            v2 = journal_bytes(Path(tmp) / "full")
            v1 = format1_bytes(Path(tmp) / "full")
        print(
            f"{name:<16} {sc.population.size:>6} {sc.ticks:>6} {envelopes:>11,} {v1:>12,} "
            f"{v1 / envelopes:>6.1f} {v2:>12,} {v2 / envelopes:>6.1f} {v1 / v2:>6.1f} "
            f"{seconds:>7.2f} {off:>7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
