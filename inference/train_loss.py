"""The loss `socius train` (inference/train.py) minimises: the mean cross-entropy of the answer
tokens, with the output layer applied to those positions alone (a prompt is most of an example,
and the output layer over the whole vocabulary is a fifth of a small model's work and most of
its activation memory), optionally under bfloat16 autocast where the CPU does bfloat16 natively.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal

from inference.train_data import IGNORE, Example, collate

Precision = Literal["auto", "float32", "bfloat16"]
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo: bfloat16 in hardware


def resolve_precision(precision: Precision) -> Literal["float32", "bfloat16"]:
    """`auto`: bfloat16 autocast on a CPU with bfloat16 instructions (about 1.6 times faster
    on an AMD EPYC with AVX-512 BF16), float32 elsewhere (emulated bfloat16 is slower)."""
    if precision != "auto":
        return precision
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "").split()
    return "bfloat16" if any(flag in flags for flag in BF16_FLAGS) else "float32"


def autocast(precision: str) -> contextlib.AbstractContextManager[Any]:
    import torch

    if precision == "bfloat16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def answer_loss(model: Any, inputs: dict[str, Any]) -> Any:
    """The mean cross-entropy of the labelled (answer) tokens, each predicted from the token
    before it. Models whose logits are more than the output layer's (soft-capped or scaled)
    compute it their own way."""
    import torch

    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = causal.config
    if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
        return model(**inputs).loss
    hidden = causal.get_decoder()(
        input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
    ).last_hidden_state
    targets = inputs["labels"][:, 1:]
    keep = targets != IGNORE
    logits = causal.get_output_embeddings()(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])


def evaluate_loss(
    model: Any, examples: list[Example], batch_size: int, pad: int, precision: str = "float32"
) -> float:
    """The mean loss per answer token over `examples`, without training."""
    import torch

    was_training = model.training
    model.eval()
    total = tokens = 0.0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            inputs = collate(examples[start : start + batch_size], pad)
            count = float((inputs["labels"][:, 1:] != IGNORE).sum())
            with autocast(precision):
                total += float(answer_loss(model, inputs)) * count
            tokens += count
    if was_training:
        model.train()
    return total / tokens if tokens else float("nan")
