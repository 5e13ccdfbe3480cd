"""LoRA fine-tuning of a small causal language model on the CPU: `socius train`.

    train(Path("models/smollm2"), Path("datasets/reading"), Path("adapters/reading"))

The dataset is a folder that `socius dataset` writes (inference/train_data.py); the model
learns each conversation's last message, the assistant's answer, given the messages before it
in the base model's chat template. LoRA on the attention's q_proj and v_proj (peft), AdamW, a
linear warm-up then a constant learning rate (so the schedule depends on the step alone, not on
how long the training is). The loss is the answer tokens' alone, the output layer applied to
those positions only (inference/train_loss.py); the matrix products run under bfloat16
autocast where the CPU has bfloat16 instructions (`precision="auto"`), the weights stay float32.
Everything random is seeded: the LoRA initialisation, dropout and the order of the examples,
which depends on (seed, epoch) alone.

A checkpoint every `checkpoint_every` steps, at the end and when Ctrl-C stops the training
(after the current step) lets the same call resume from the step it reached, with the same
data order and random states: a stopped and resumed training ends where one that never stopped
does. The adapter is written to OUT in peft's format, which vLLM serves (`--lora-modules
name=OUT`, `LoRARequest`), with OUT/training.json (inference/train_files.py lists the folder).
`check_adapter(base, adapter)` refuses an adapter made for another base.
"""

from __future__ import annotations

import contextlib
import math
import random
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.train_data import (
    Dataset,
    batch_at,
    collate,
    load_dataset,
    read_messages,
    steps_per_epoch,
    tokenize,
)
from inference.train_files import (
    TRAINING,
    check_adapter,
    check_base,
    check_out,
    check_resume,
    check_same,
    latest,
    read_state,
    restore_checkpoint,
    save_checkpoint,
    write_json,
)
from inference.train_loss import (
    Precision,
    answer_loss,
    autocast,
    evaluate_loss,
    resolve_precision,
)
from world.errors import UserError

__all__ = ["Progress", "Result", "check_adapter", "evaluate_loss", "train"]

#: called after every step with (step, total steps, the step's loss)
Progress = Callable[[int, int, float], None]

TARGETS = ("q_proj", "v_proj")
FINAL_WINDOW = 10  # the final loss is the mean over the last steps
TEST_EXAMPLES = 200  # at most this many test examples are scored at the end
# hyper-parameters a resumed training must keep (and the flag that sets each)
SHAPING = {
    "lr": "--lr",
    "rank": "--rank",
    "alpha": "--alpha",
    "batch_size": "--batch-size",
    "max_length": "--max-length",
    "seed": "--seed",
    "warmup": "--warmup",
    "dropout": "--dropout",
    "precision": "--precision",
}


@dataclass
class Result:
    """What a training did: `stopped` when Ctrl-C ended it early (its checkpoint kept)."""

    out: Path
    steps: int
    total: int
    losses: list[tuple[int, float]]
    final_loss: float | None
    seconds: float
    peak_rss: int  # bytes
    stopped: bool = False
    resumed_from: int | None = None
    test_loss: float | None = None
    info: dict[str, Any] = field(default_factory=dict)  # training.json


def train(
    base: Path,
    data: Path,
    out: Path,
    *,
    epochs: int = 1,
    lr: float = 2e-4,
    rank: int = 8,
    alpha: int = 16,
    max_steps: int | None = None,
    batch_size: int = 4,
    max_length: int = 1024,
    seed: int = 0,
    progress: Progress | None = None,
    notice: Callable[[str], None] | None = None,
    resume: bool = True,
    checkpoint_every: int = 50,
    warmup: int = 10,
    dropout: float = 0.05,
    precision: Precision = "auto",
) -> Result:
    """Train a LoRA adapter of `base` on the dataset in `data` into `out` (see the module).
    `max_steps`, when given, is the length of the training instead of `epochs` (the data
    cycles through as many epochs as that takes). With `resume`, a training already in `out`
    continues from its last checkpoint. `notice` hears, before the first step, whether
    `max_length` cut any conversation."""
    base, data, out = Path(base), Path(data), Path(out)
    resolved = resolve_precision(precision)
    hyper = {
        "epochs": epochs, "lr": lr, "rank": rank, "alpha": alpha, "max_steps": max_steps,
        "batch_size": batch_size, "max_length": max_length, "seed": seed, "warmup": warmup,
        "dropout": dropout, "targets": list(TARGETS), "precision": resolved,
    }  # fmt: skip
    base_info, dataset, previous = _checked(base, data, out, resume, hyper)

    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    tokenizer, model = load_model(base, rank, alpha, dropout)
    tokens = tokenize(tokenizer, dataset.train, max_length)
    if not tokens.examples:
        raise UserError(
            f"--max-length: every prompt of {data} is {max_length} tokens or longer, so no "
            f"answer is left to learn; give a larger --max-length"
        )
    cut = tokens.notice(max_length)
    if cut is not None and notice is not None:
        notice(cut)
    per_epoch = steps_per_epoch(len(tokens.examples), batch_size)
    total = max_steps if max_steps is not None else epochs * per_epoch
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup(warmup))
    run = _Run(out, model, optimizer, scheduler, checkpoint_every, resolved)
    run.context = {"base": base_info, "dataset": dataset.describe(), "hyper": hyper}
    if previous is not None:
        run.restore(previous)
    resumed_from = run.step if previous is not None else None

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def batch(step: int) -> dict[str, Any]:
        return collate(batch_at(tokens.examples, step, batch_size, seed), pad)

    stopped = run.loop(total, batch, progress)
    result = Result(
        out=out,
        steps=run.step,
        total=total,
        losses=[(int(s), float(v)) for s, v in run.losses],
        final_loss=final_loss(run.losses),
        seconds=run.seconds,
        peak_rss=peak_rss(),
        stopped=stopped,
        resumed_from=resumed_from,
    )
    if not stopped:
        result.test_loss = _test_loss(run, tokenizer, dataset, max_length, batch_size, pad)
        result.info = _finish(run, result, tokens, per_epoch)
    return result


def _checked(
    base: Path, data: Path, out: Path, resume: bool, hyper: dict[str, Any]
) -> tuple[dict[str, Any], Dataset, Path | None]:
    """The base's path and identity, the dataset, and the checkpoint to resume (if any), each
    checked: UserError names what does not fit."""
    base_info = {"path": str(base.resolve()), "identity": check_base(base)}
    check_out(out, resume)
    dataset = load_dataset(data)
    previous = latest(out) if resume else None
    if previous is not None:
        state = read_state(previous)
        check_resume(out, state, base_info, dataset.describe())
        check_same(out, state["hyper"], hyper, SHAPING)
    return base_info, dataset, previous


def load_model(base: Path, rank: int, alpha: int, dropout: float) -> tuple[Any, Any]:
    """The base's tokenizer and the base in float32 with fresh LoRA layers on TARGETS."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base))
        model = AutoModelForCausalLM.from_pretrained(str(base.resolve()), dtype=torch.float32)
    except (OSError, ValueError, KeyError) as err:
        raise UserError(
            f"--base: {base} cannot be loaded as a causal language model ({_line(err)}); give "
            f"a Hugging Face model folder"
        ) from None
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(f"--base: {base}'s tokenizer has no chat template; give a chat model")
    model.config.use_cache = False
    config = LoraConfig(
        r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGETS),
        task_type="CAUSAL_LM", bias="none",
    )  # fmt: skip
    try:
        return tokenizer, get_peft_model(model, config)
    except ValueError as err:
        raise UserError(
            f"--base: {base} has no {' and '.join(TARGETS)} layers for LoRA ({_line(err)}); "
            f"give a Llama-like model"
        ) from None


class _Run:
    """The training loop's state: the step reached, the losses, the seconds spent."""

    def __init__(
        self, out: Path, model: Any, optimizer: Any, scheduler: Any, every: int, precision: str
    ) -> None:
        self.out, self.model, self.optimizer, self.scheduler = out, model, optimizer, scheduler
        self.every, self.precision = every, precision
        self.step = 0
        self.losses: list[list[float]] = []
        self.seconds = 0.0
        self.context: dict[str, Any] = {}

    def loop(
        self, total: int, batch: Callable[[int], dict[str, Any]], progress: Progress | None
    ) -> bool:
        """Train up to step `total`; True when Ctrl-C stopped it first (checkpointed)."""
        self.model.train()
        with interrupts() as stop:
            while self.step < total:
                started = time.perf_counter()
                loss = self.one_step(batch(self.step))
                self.step += 1
                self.seconds += time.perf_counter() - started
                self.losses.append([self.step, loss])
                if progress is not None:
                    progress(self.step, total, loss)
                if stop.is_set() or self.step % self.every == 0 or self.step == total:
                    self.checkpoint()
                if stop.is_set():
                    return True
        return False

    def one_step(self, inputs: dict[str, Any]) -> float:
        with autocast(self.precision):
            loss = answer_loss(self.model, inputs)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise UserError(f"the loss became {value} at step {self.step + 1}; give a smaller --lr")
        return value

    def restore(self, checkpoint: Path) -> None:
        """Continue from a checkpoint: its weights, optimizer, scheduler, random states."""
        restore_checkpoint(checkpoint, self.model, self.optimizer, self.scheduler)
        state = read_state(checkpoint)
        self.step, self.losses, self.seconds = state["step"], state["losses"], state["seconds"]

    def checkpoint(self) -> None:
        state = {**self.context, "losses": self.losses, "seconds": self.seconds}
        save_checkpoint(self.out, self.step, self.model, self.optimizer, self.scheduler, state)


@contextlib.contextmanager
def interrupts() -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C (the loop stops after its step); a second one raises
    KeyboardInterrupt at once. Off the main thread, Ctrl-C is left as it is."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def asked(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    before = signal.signal(signal.SIGINT, asked)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, before)


def _warmup(steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        return min(1.0, (step + 1) / steps) if steps > 0 else 1.0

    return factor


def final_loss(losses: list[list[float]] | list[tuple[int, float]]) -> float | None:
    """The mean loss over the last FINAL_WINDOW steps."""
    last = [float(v) for _, v in losses[-FINAL_WINDOW:]]
    return sum(last) / len(last) if last else None


def peak_rss() -> int:
    """This process's peak resident memory, in bytes (Linux counts ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _test_loss(
    run: _Run, tokenizer: Any, dataset: Dataset, max_length: int, batch_size: int, pad: int
) -> float | None:
    test = dataset.folder / "test.parquet"
    if not test.is_file():
        return None
    examples = tokenize(tokenizer, read_messages(test)[:TEST_EXAMPLES], max_length).examples
    if not examples:
        return None
    return evaluate_loss(run.model, examples, batch_size, pad, run.precision)


def _finish(run: _Run, result: Result, tokens: Any, per_epoch: int) -> dict[str, Any]:
    """Write the adapter and training.json into OUT; returns what training.json holds."""
    run.model.save_pretrained(run.out)
    (run.out / "README.md").unlink(missing_ok=True)  # peft's model card: nothing to read
    info = {
        **run.context,
        "steps": result.steps,
        "epochs_done": round(result.steps / per_epoch, 3),
        "examples": len(tokens.examples),
        "truncated": tokens.truncated,
        "skipped": tokens.skipped,
        "trainable_parameters": sum(p.numel() for p in run.model.parameters() if p.requires_grad),
        "losses": result.losses,
        "final_loss": result.final_loss,
        "test_loss": result.test_loss,
        "seconds": round(result.seconds, 3),
        "steps_per_second": round(len(run.losses) / result.seconds, 4) if result.seconds else None,
        "peak_rss_bytes": result.peak_rss,
        "resumed_from": result.resumed_from,
    }
    write_json(run.out / TRAINING, info)
    return info


def _line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return " ".join(text.splitlines()[0].split())[:160]
