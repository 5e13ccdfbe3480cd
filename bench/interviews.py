"""How fast characters answer interviews from their state (the heuristic mind and the other
non-model minds): interviews per second.

    .venv/bin/python bench/interviews.py                   # a village of 300, 60 ticks
    .venv/bin/python bench/interviews.py --run runs/v7     # a recorded run

It runs the village in process (or takes a run), then times three ways of asking: one `Moment`
(the checkpoint read once) asked many questions, as a survey asks; each interview reading the
checkpoint anew, as `socius interview` does; and the `socius interview` command itself, Python's
start included. Prints figures and the CPU; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.lab.interview import Moment, from_state  # noqa: E402
from inference.prompt import Cast  # noqa: E402
from world.record import RunRecord  # noqa: E402
from world.runtime import LocalRuntime  # noqa: E402
from world.scenario import load_scenario  # noqa: E402

QUESTIONS = ("Whom do you trust?", "How do you feel?", "What do you owe?")


def village(folder: Path, ticks: int) -> Path:
    sc = load_scenario(ROOT / "examples" / "village.yaml").with_overrides(ticks=ticks)
    runtime = LocalRuntime(sc, 2, RunRecord(folder, sc, 2), checkpoint_every=10)
    runtime.run()
    runtime.final_checkpoint()
    runtime.record.close()  # type: ignore[union-attr]
    return folder


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", type=Path, help="a recorded run (default: run the village)")
    p.add_argument("--ticks", type=int, default=60, help="ticks of the village (default 60)")
    p.add_argument("--commands", type=int, default=5, help="socius interview commands timed")
    args = p.parse_args()
    print(f"machine: {cpu()}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or village(Path(tmp) / "run", args.ticks)
        moment = Moment.open(run)
        people = moment.characters()
        cast = Cast(moment.scenario)
        print(f"run: {len(people)} characters, checkpoint at tick {moment.tick}")

        t0 = time.perf_counter()
        for i, cid in enumerate(people):
            from_state(moment, cid, QUESTIONS[i % len(QUESTIONS)], cast)
        warm = len(people) / (time.perf_counter() - t0)
        print(f"one checkpoint read, every character asked: {warm:,.0f} interviews/s")

        some = people[:: max(1, len(people) // 30)]
        t0 = time.perf_counter()
        for cid in some:
            from_state(Moment.open(run), cid, QUESTIONS[0])
        cold = len(some) / (time.perf_counter() - t0)
        print(f"the checkpoint read for each interview: {cold:,.1f} interviews/s")

        t0 = time.perf_counter()
        for cid in people[: args.commands]:
            subprocess.run(
                [sys.executable, "-m", "actors.cli", "interview", str(run), "--character",
                 str(cid), QUESTIONS[0]],
                cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
        each = (time.perf_counter() - t0) / args.commands
        print(f"socius interview, Python's start included: {each:.2f} s per interview")
    return 0


if __name__ == "__main__":
    sys.exit(main())
