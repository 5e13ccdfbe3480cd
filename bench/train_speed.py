"""How fast `socius train` fine-tunes on this CPU: training steps per second and peak memory of
LoRA on SmolLM2-135M-Instruct, at rank 8 and 16, batch size 4, on realistic chat examples.

    .venv/bin/python bench/train_speed.py                       # /tmp/models/smollm2
    .venv/bin/python bench/train_speed.py --base models/smollm2 --ranks 8,16,32 --steps 20

The examples are made up here the way the world asks its characters (a system message with the
rules and the character, a user message with holdings, the relationship, memories and the
options; a JSON answer), about `--tokens` tokens each in the base's chat template. Each rank
trains in a fresh subprocess (so its peak RSS is its own) through `inference.train.train`; the
steps are timed from the end of the `--warmup`-th to the last (one checkpoint, at the end, is
not timed). Prints the CPU and the figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import cpu_model  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.train import train  # noqa: E402

NAMES = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo"]
GOODS = ["grain", "fish", "tools", "cloth", "medicine"]
FEELINGS = ["joy", "gratitude", "anger", "sadness", "fear"]
LEVELS = ["none", "low", "some", "high"]
ACTIONS = ["accept", "reject", "counter", "keep", "break", "apologize", "forgive", "give", "ask"]
RULES = (
    "You live in a village of characters who work, eat, trade, give gifts, make and keep or "
    "break promises, gossip, apologize and forgive. Goods: grain, fish, tools, cloth, medicine. "
    "A promise is owed until it is kept or it falls due; a broken promise hurts trust. Answer "
    "with one JSON object: action (one of the options), say (your words), reading (how the "
    "other truly feels: each of joy, gratitude, anger, sadness, fear as none, low, some or high)."
)


def conversation(rng: random.Random, memories: int) -> list[dict[str, str]]:
    me, other = rng.sample(NAMES, 2)
    holdings = ", ".join(f"{g} {rng.randint(0, 9)}" for g in GOODS)
    recalled = "\n".join(
        f"- tick {rng.randint(1, 99)}: {rng.choice(NAMES)} "
        f"{rng.choice(['kept a promise of', 'broke a promise of', 'gave', 'traded'])} "
        f"{rng.randint(1, 4)} {rng.choice(GOODS)} to {rng.choice(NAMES)}"
        for _ in range(memories)
    )
    options = rng.sample(ACTIONS, 4)
    user = (
        f"Tick {rng.randint(1, 200)}. You hold {holdings}. You need {rng.choice(GOODS)}. "
        f"Your trust in {other}: {rng.random():.2f}; they owe you {rng.randint(0, 3)} promises. "
        f'You remember:\n{recalled}\n{other} says: "I will give you {rng.randint(1, 5)} '
        f'{rng.choice(GOODS)} for {rng.randint(1, 5)} {rng.choice(GOODS)}, I promise." '
        f"Options: {', '.join(options)}."
    )
    answer = {
        "action": rng.choice(options),
        "say": f"{other}, {rng.choice(['I agree', 'not this time', 'let us wait'])}.",
        "reading": {f: rng.choice(LEVELS) for f in FEELINGS},
    }
    system = f"{RULES}\nYou are {me}, a {rng.choice(['farmer', 'fisher', 'smith', 'weaver'])}."
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": json.dumps(answer)},
    ]


def make_dataset(base: Path, folder: Path, examples: int, tokens: int) -> float:
    """Write the synthetic dataset; returns the mean tokens of an example."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base))
    rng = random.Random(0)
    rows, sizes = [], []
    for _ in range(examples):
        memories = 1
        while True:
            state = rng.getstate()
            messages = conversation(rng, memories)
            text = tokenizer.apply_chat_template(messages, tokenize=False)
            size = len(tokenizer.encode(text, add_special_tokens=False))
            if size >= tokens or memories > 60:
                break
            rng.setstate(state)
            memories += 1
        rows.append({"messages": messages})
        sizes.append(size)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "train.parquet")
    counts = {"train": examples}
    (folder / "dataset.json").write_text(json.dumps({"kind": "decisions", "counts": counts}))
    return sum(sizes) / len(sizes)


def measure_one(args: argparse.Namespace) -> dict[str, Any]:
    """One rank's training, timed per step (in this process)."""
    import torch

    stamps: list[float] = []
    result = train(
        args.base,
        args.data,
        args.out,
        max_steps=args.warmup + args.steps,
        rank=args.one,
        alpha=2 * args.one,
        batch_size=args.batch_size,
        max_length=args.tokens + 128,
        checkpoint_every=args.warmup + args.steps,
        precision=args.precision,
        progress=lambda step, total, loss: stamps.append(time.perf_counter()),
    )
    timed = stamps[max(args.warmup, 1) - 1 :]  # each stamp: the end of a step
    seconds = timed[-1] - timed[0]
    steps = len(timed) - 1
    each = sorted(b - a for a, b in itertools.pairwise(timed))
    info = json.loads((args.out / "training.json").read_text())
    return {
        "rank": args.one,
        "precision": args.precision,
        "steps": steps,
        "seconds": seconds,
        "steps_per_s": steps / seconds,
        "median_step": each[len(each) // 2],
        "fastest_step": each[0],
        "peak_rss": result.peak_rss,
        "trainable": info["trainable_parameters"],
        "threads": torch.get_num_threads(),
        "final_loss": result.final_loss,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--base", type=Path, default=Path("/tmp/models/smollm2"))
    p.add_argument("--ranks", default="8,16", help="LoRA ranks to measure (default 8,16)")
    p.add_argument(
        "--precisions",
        default="float32,bfloat16",
        help="training precisions to measure (default float32,bfloat16: autocast)",
    )
    p.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=10, help="timed steps per rank (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed first steps (default 2)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--tokens", type=int, default=400, help="tokens of an example (default 400)")
    p.add_argument("--examples", type=int, default=64, help="examples in the dataset")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a subprocess: this rank
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args)))
        return 0
    if not (args.base / "config.json").is_file():
        print(f"no model in {args.base}: python -m inference.small_model {args.base}")
        return 1
    print(f"machine: {cpu_model()}, nproc {os.cpu_count()}, Python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="train-speed-") as tmp:
        data = Path(tmp) / "data"
        mean = make_dataset(args.base, data, args.examples, args.tokens)
        print(
            f"base: {args.base}; {args.examples} examples of {mean:.0f} tokens on average, "
            f"batch size {args.batch_size}, {args.steps} timed steps after "
            f"{args.warmup} untimed"
        )
        for precision in args.precisions.split(","):
            for rank in (int(r) for r in args.ranks.split(",")):
                out = Path(tmp) / f"{precision}-{rank}"
                figures = run_one(args, rank, precision, data, out)
                if figures is None:
                    return 1
                show(figures, args.batch_size * mean)
    # other work on the machine slows the steps: the median and fastest steps show how much
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def show(figures: dict[str, Any], tokens_per_step: float) -> None:
    rate = figures["steps_per_s"]
    tokens = rate * tokens_per_step
    print(
        f"{figures['precision']:>8} rank {figures['rank']:>3}: {rate:.3f} steps/s "
        f"({1 / rate:.2f} s/step: median {figures['median_step']:.2f}, fastest "
        f"{figures['fastest_step']:.2f}; {tokens:,.0f} tokens/s), peak RSS "
        f"{figures['peak_rss'] / 2**30:.2f} GiB, {figures['trainable']:,} trainable "
        f"parameters, {figures['threads']} torch threads, final loss {figures['final_loss']:.3f}"
    )


def run_one(
    args: argparse.Namespace, rank: int, precision: str, data: Path, out: Path
) -> dict[str, Any] | None:
    command = [
        sys.executable, __file__, "--one", str(rank), "--data", str(data), "--out", str(out),
        "--base", str(args.base), "--steps", str(args.steps), "--warmup", str(args.warmup),
        "--batch-size", str(args.batch_size), "--tokens", str(args.tokens),
        "--precision", precision,
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print(f"{precision} rank {rank}: failed\n{proc.stderr[-2000:]}")
        return None
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


if __name__ == "__main__":
    sys.exit(main())
