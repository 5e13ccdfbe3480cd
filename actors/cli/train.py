"""`socius train`: fine-tune a LoRA adapter of a small model on the CPU, from a dataset that
`socius dataset` wrote (inference/train.py)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from actors.cli import flags
from inference.train import Result, train

DESCRIPTION = (
    "Fine-tune a LoRA adapter (q_proj and v_proj) of a small chat model on the CPU: the model "
    "learns the last message of each example, the assistant's answer, from the messages before "
    "it. Writes OUT/adapter_model.safetensors and adapter_config.json (what vLLM serves with "
    "--lora-modules NAME=OUT) and OUT/training.json; checkpoints go to OUT/checkpoints. A "
    "training stopped with Ctrl-C (or killed) resumes from its last checkpoint when the same "
    "command runs again, and ends where it would have without the stop."
)
EPILOG = """examples:
  socius model prepare models/smollm2
  socius train --base models/smollm2 --data datasets/decisions --out adapters/decisions
  socius train --base models/smollm2 --data datasets/reading --out adapters/reading \\
      --epochs 3 --lr 1e-4 --rank 16 --batch-size 8
  socius train --base models/smollm2 --data datasets/reading --out adapters/quick --max-steps 50

The same --out with the same base, dataset and hyper-parameters resumes; a larger --max-steps
or --epochs trains an adapter further. Seeds fix the LoRA initialisation, dropout and the order
of the examples: the same command gives the same adapter.
"""


def parents() -> list[argparse.ArgumentParser]:
    return [flags.quiet_flag("no progress bar: one line at the end")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base",
        type=Path,
        required=True,
        metavar="MODEL_DIR",
        help="the base model, a Hugging Face folder (`socius model prepare DIR`)",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR",
        help="a dataset folder written by `socius dataset` (train.parquet)",
    )
    p.add_argument(
        "--out",
        type=flags.local("--out"),
        required=True,
        metavar="ADAPTER_DIR",
        help="where the adapter goes: a new folder, or a training to resume",
    )
    p.add_argument(
        "--epochs",
        type=flags.positive("--epochs"),
        default=1,
        help="passes over the training examples (default 1)",
    )
    p.add_argument(
        "--max-steps",
        type=flags.positive("--max-steps"),
        metavar="N",
        help="train this many steps instead of --epochs (the examples cycle as needed)",
    )
    p.add_argument(
        "--lr",
        type=flags.number("--lr", float, low=0, strict=True),
        default=2e-4,
        help="AdamW's learning rate after the warm-up (default 2e-4)",
    )
    p.add_argument(
        "--rank",
        type=flags.positive("--rank"),
        default=8,
        help="LoRA rank (default 8; vLLM needs --max-lora-rank of at least this)",
    )
    p.add_argument(
        "--alpha",
        type=flags.positive("--alpha"),
        default=16,
        help="LoRA alpha: the update is scaled by alpha/rank (default 16)",
    )
    p.add_argument(
        "--batch-size",
        type=flags.positive("--batch-size"),
        default=4,
        help="examples per step (default 4)",
    )
    p.add_argument(
        "--max-length",
        type=flags.number("--max-length", low=8),
        default=1024,
        help="tokens of an example, prompt and answer; longer ones are cut, and said so "
        "(default 1024: the world's prompts are 450-600 tokens for SmolLM2)",
    )
    p.add_argument(
        "--warmup",
        type=flags.natural("--warmup"),
        default=10,
        help="steps of linear warm-up of the learning rate (default 10)",
    )
    p.add_argument(
        "--dropout",
        type=flags.number("--dropout", float, low=0, high=0.9),
        default=0.05,
        help="LoRA dropout (default 0.05)",
    )
    p.add_argument(
        "--precision",
        choices=["auto", "float32", "bfloat16"],
        default="auto",
        help="the matrix products in float32, or under bfloat16 autocast (the weights stay "
        "float32); auto: bfloat16 where the CPU has bfloat16 instructions (AVX-512 BF16, AMX), "
        "else float32",
    )
    p.add_argument(
        "--seed",
        type=flags.seed(),
        default=0,
        help="seed of the initialisation, dropout and data order (default 0)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=flags.positive("--checkpoint-every"),
        default=50,
        metavar="STEPS",
        help="write a checkpoint every STEPS steps (default 50)",
    )
    p.set_defaults(func=run_training)


def run_training(args: argparse.Namespace) -> int:
    with _Bar(args.quiet) as bar:
        result = train(
            args.base,
            args.data,
            args.out,
            epochs=args.epochs,
            lr=args.lr,
            rank=args.rank,
            alpha=args.alpha,
            max_steps=args.max_steps,
            batch_size=args.batch_size,
            max_length=args.max_length,
            seed=args.seed,
            progress=bar.report,
            notice=bar.notice,
            checkpoint_every=args.checkpoint_every,
            warmup=args.warmup,
            dropout=args.dropout,
            precision=args.precision,
        )
    if result.stopped:
        Console(stderr=True).print(
            f"socius: stopped at step {result.steps}/{result.total}; the checkpoint is kept in "
            f"{args.out / 'checkpoints'}: run the same command to resume",
            highlight=False,
            soft_wrap=True,
        )
        return 130
    print(summary(result))
    return 0


def summary(result: Result) -> str:
    """The one line printed at the end."""
    loss = "no step" if result.final_loss is None else f"final loss {result.final_loss:.4f}"
    test = "" if result.test_loss is None else f", test loss {result.test_loss:.4f}"
    return (
        f"adapter: {result.out} ({loss}{test}, {result.steps} steps, {result.seconds:.0f} s "
        f"training, peak memory {result.peak_rss / 2**30:.2f} GiB)"
    )


class _Bar:
    """The progress bar on stderr: step/total, the step's loss, steps per second. It shows from
    the first step on (what fails before, such as a bad dataset, is said alone)."""

    def __init__(self, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]:.4f}"),
            TextColumn("{task.fields[rate]:.2f} steps/s"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=quiet,
            transient=False,
        )
        self.task: TaskID | None = None
        self.first: tuple[int, float] = (0, 0.0)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.task is not None:
            self.progress.__exit__(None, None, None)

    def notice(self, line: str) -> None:
        """A line before the first step (even with --quiet: it says what is not learnt)."""
        print(f"socius train: {line}", file=sys.stderr)

    def report(self, step: int, total: int, loss: float) -> None:
        now = time.perf_counter()
        if self.task is None:
            self.progress.__enter__()
            self.task = self.progress.add_task("train", total=total, completed=step - 1,
                                               loss=loss, rate=0.0)  # fmt: skip
            self.first = (step, now)
        done, since = step - self.first[0], now - self.first[1]
        rate = done / since if since > 0 else 0.0
        self.progress.update(self.task, completed=step, loss=loss, rate=rate)
