"""The training data of `socius train` (inference/train.py): a dataset folder that `socius
dataset` writes, read, checked, tokenized with the base model's chat template, and served in
batches in a seeded order that depends only on (seed, epoch), so a resumed training sees the
same batches as one that never stopped.

A dataset folder holds `train.parquet` (optionally `test.parquet`) and `dataset.json` ({"kind",
"counts", ...}); each row's `messages` is a list of {"role", "content"} chat messages whose last
one is the assistant's answer to learn. Other columns are metadata and are not read.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from world.errors import UserError

ROLES = ("system", "user", "assistant")
IGNORE = -100  # the label of a token the loss leaves out (the prompt, the padding)
MAKE_ONE = "make one with `socius dataset`"


@dataclass(frozen=True)
class Dataset:
    """A dataset folder: where it is, what `dataset.json` says, and its training rows."""

    folder: Path
    kind: str | None
    counts: dict[str, Any]
    fingerprint: str  # sha256 of train.parquet: a resumed training must see the same rows
    train: list[list[dict[str, str]]]

    def describe(self) -> dict[str, Any]:
        return {
            "path": str(self.folder),
            "kind": self.kind,
            "counts": self.counts,
            "train_sha256": self.fingerprint,
            "train_examples": len(self.train),
        }


@dataclass(frozen=True)
class Example:
    """One tokenized conversation: the ids, and the labels (IGNORE but on the answer)."""

    ids: list[int]
    labels: list[int]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_dataset(folder: Path) -> Dataset:
    """The dataset in `folder`, its training rows checked; UserError when it is not one."""
    folder = Path(folder)
    train = folder / "train.parquet"
    if not folder.is_dir():
        raise UserError(f"--data: {folder} is not a folder; give a dataset folder ({MAKE_ONE})")
    if not train.is_file():
        raise UserError(
            f"--data: {folder} is not a dataset (no train.parquet); give a dataset folder "
            f"({MAKE_ONE})"
        )
    meta = _read_meta(folder / "dataset.json")
    rows = read_messages(train)
    if not rows:
        raise UserError(f"--data: {train} has no rows; give a dataset with examples ({MAKE_ONE})")
    counts = meta.get("counts") if isinstance(meta.get("counts"), dict) else None
    return Dataset(
        folder=folder.resolve(),
        kind=meta.get("kind"),
        counts=counts or {"train": len(rows)},
        fingerprint=sha256_of(train),
        train=rows,
    )


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UserError(
            f"--data: {path} is not valid JSON ({err}); write it again ({MAKE_ONE})"
        ) from None
    if not isinstance(meta, dict):
        raise UserError(f"--data: {path} is not a JSON object; write it again ({MAKE_ONE})")
    return meta


def read_messages(path: Path) -> list[list[dict[str, str]]]:
    """The `messages` column of a parquet file, every row checked (UserError names the first
    bad one)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as err:
        raise UserError(
            f"--data: {path} is not a parquet file ({_first_line(err)}); {MAKE_ONE}"
        ) from None
    if "messages" not in schema.names:
        raise UserError(
            f"--data: {path} has no messages column (it has {', '.join(schema.names) or 'none'});"
            f" give a dataset whose rows hold chat messages ({MAKE_ONE})"
        )
    rows = pq.read_table(path, columns=["messages"]).column("messages").to_pylist()
    for i, row in enumerate(rows):
        problem = _problem(row)
        if problem:
            raise UserError(f"--data: {path} row {i}: {problem}; {MAKE_ONE}")
    return [[{"role": m["role"], "content": m["content"]} for m in row] for row in rows]


def _problem(row: Any) -> str | None:
    """What is wrong with one row's messages, or None."""
    if not isinstance(row, list) or not row:
        return "messages is not a list of chat messages"
    for m in row:
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"a message's role is not one of {', '.join(ROLES)}"
        if not isinstance(m.get("content"), str):
            return "a message's content is not text"
    if row[-1]["role"] != "assistant":
        return "the last message is not the assistant's answer"
    if len(row) < 2:
        return "the answer has no prompt before it"
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return " ".join(text.splitlines()[0].split())[:160]


def tokenize(tokenizer: Any, rows: list[list[dict[str, str]]], max_length: int) -> Stats:
    """Each conversation as ids and labels: the prompt (everything before the answer, with the
    generation prompt, as the served model is asked) is left out of the loss, the answer and
    its end-of-turn tokens are learnt. Longer ones are cut at `max_length`; a conversation whose
    prompt alone fills it is skipped."""
    examples: list[Example] = []
    truncated = skipped = 0
    for row in rows:
        prompt = tokenizer.apply_chat_template(row[:-1], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(row, tokenize=False)
        if not full.startswith(prompt):
            raise UserError(
                "--base: the model's chat template does not render a conversation as its prompt "
                "followed by the answer; give a base model with an ordinary chat template"
            )
        asked = list(tokenizer.encode(prompt, add_special_tokens=False))
        answer = list(tokenizer.encode(full[len(prompt) :], add_special_tokens=False))
        ids = (asked + answer)[:max_length]
        if len(ids) <= len(asked):
            skipped += 1
            continue
        truncated += len(asked) + len(answer) > max_length
        examples.append(Example(ids, [IGNORE] * len(asked) + ids[len(asked) :]))
    return Stats(examples, truncated, skipped)


@dataclass(frozen=True)
class Stats:
    examples: list[Example]
    truncated: int  # cut at max_length (the answer's end is not learnt)
    skipped: int  # the prompt alone was max_length or longer

    def notice(self, max_length: int) -> str | None:
        """One line when `max_length` cut or dropped conversations (None when it fit them
        all): a training that learns half-answers looks like a good one by its loss."""
        if not self.truncated and not self.skipped:
            return None
        rows = len(self.examples) + self.skipped
        return (
            f"--max-length {max_length}: of {rows} conversations, {self.truncated} are cut "
            f"(the ends of their answers are not learnt) and {self.skipped} left out (the "
            f"prompt alone fills it); a larger --max-length fits them"
        )


def steps_per_epoch(examples: int, batch_size: int) -> int:
    return -(-examples // batch_size)


@functools.lru_cache(maxsize=2)
def order(examples: int, seed: int, epoch: int) -> tuple[int, ...]:
    """The examples' order in one epoch: a permutation drawn from (seed, epoch) alone."""
    import torch

    key = hashlib.sha256(f"socius-train-order:{seed}:{epoch}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(key[:8], "little") >> 1)
    return tuple(int(i) for i in torch.randperm(examples, generator=generator))


def batch_at(examples: list[Example], step: int, batch_size: int, seed: int) -> list[Example]:
    """The examples of training step `step` (0-based): epochs follow each other, each in its
    own order; the last batch of an epoch may be smaller."""
    per_epoch = steps_per_epoch(len(examples), batch_size)
    epoch, index = divmod(step, per_epoch)
    chosen = order(len(examples), seed, epoch)[index * batch_size : (index + 1) * batch_size]
    return [examples[i] for i in chosen]


def collate(batch: list[Example], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors: input_ids, attention_mask, labels (IGNORE on the padding)."""
    import torch

    width = max(len(e.ids) for e in batch)
    ids = [e.ids + [pad_id] * (width - len(e.ids)) for e in batch]
    mask = [[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in batch]
    labels = [e.labels + [IGNORE] * (width - len(e.labels)) for e in batch]
    return {
        "input_ids": torch.tensor(ids, dtype=torch.long),
        "attention_mask": torch.tensor(mask, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
    }
