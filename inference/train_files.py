"""What `socius train` (inference/train.py) reads and leaves on disk: the base model's identity,
the output folder, its checkpoints, and the check that an adapter belongs to a base.

    OUT/adapter_model.safetensors   the LoRA adapter (peft's format: vLLM's --lora-modules
    OUT/adapter_config.json         name=OUT and LoRARequest load it)
    OUT/training.json               base, dataset, hyper-parameters, steps, losses, time, memory
    OUT/checkpoints/step-N/         the adapter, optimizer.pt, scheduler.pt, rng.pt, state.json

A checkpoint is written into a hidden folder and renamed into place, with state.json written
last: a folder without it is not a checkpoint. The two newest are kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from world.errors import UserError
from world.record import atomic_write

IDENTITY = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
TRAINING = "training.json"
STATE = "state.json"
KEEP = 2  # checkpoints kept
WEIGHTS = ("*.safetensors", "pytorch_model*.bin")
TOKENIZER = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


# --- the base model --------------------------------------------------------------------------


def identity(base: Path, flag: str = "--base") -> dict[str, Any]:
    """What identifies a base model (its config's shape and vocabulary); UserError when `base`
    is not a model folder."""
    config = Path(base) / "config.json"
    if not Path(base).is_dir() or not config.is_file():
        raise UserError(
            f"{flag}: {base} is not a model folder (no config.json); give a Hugging Face model "
            f"folder (`socius model prepare DIR` makes SmolLM2)"
        )
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError) as err:
        raise UserError(
            f"{flag}: {config} is not valid JSON ({err}); give an intact model"
        ) from None
    if not isinstance(data, dict) or not data.get("model_type"):
        raise UserError(f"{flag}: {config} names no model_type; give a Hugging Face model folder")
    return {key: data.get(key) for key in IDENTITY}


def check_base(base: Path) -> dict[str, Any]:
    """The identity of a base model that has weights and a tokenizer (UserError otherwise)."""
    found = identity(base)
    if not any(any(Path(base).glob(pattern)) for pattern in WEIGHTS):
        raise UserError(
            f"--base: {base} has no weights (*.safetensors); give a complete model folder"
        )
    if not any((Path(base) / name).is_file() for name in TOKENIZER):
        raise UserError(f"--base: {base} has no tokenizer; give a model folder with its tokenizer")
    return found


def describe(ident: dict[str, Any]) -> str:
    return (
        f"{ident.get('model_type')}, hidden {ident.get('hidden_size')}, "
        f"{ident.get('num_hidden_layers')} layers, vocabulary {ident.get('vocab_size')}"
    )


# --- the output folder -----------------------------------------------------------------------


def is_training(out: Path) -> bool:
    """Whether `out` holds a training of socius (finished or checkpointed)."""
    return (out / TRAINING).is_file() or (out / "checkpoints").is_dir()


def check_out(out: Path, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} is a file; give a new folder for the adapter")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not is_training(out):
        raise UserError(
            f"--out: {out} already holds files that are not a training; give a new or empty "
            f"folder for the adapter"
        )
    if not resume:
        raise UserError(
            f"--out: {out} already holds a training; resume it, or give a new or empty folder"
        )


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(data, indent=1) + "\n").encode())


# --- checkpoints -----------------------------------------------------------------------------


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / "checkpoints" / f"step-{step}"


def checkpoints(out: Path) -> list[tuple[int, Path]]:
    """The complete checkpoints in `out`, oldest first."""
    found = []
    for path in (out / "checkpoints").glob("step-*"):
        number = path.name.removeprefix("step-")
        if number.isdigit() and (path / STATE).is_file():
            found.append((int(number), path))
    return sorted(found)


def latest(out: Path) -> Path | None:
    found = checkpoints(out)
    return found[-1][1] if found else None


def save_checkpoint(
    out: Path, step: int, model: Any, optimizer: Any, scheduler: Any, state: dict[str, Any]
) -> Path:
    """Write the checkpoint of `step` (atomically) and keep the newest KEEP."""
    import random

    import torch

    final = checkpoint_dir(out, step)
    work = final.with_name(f".{final.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model.save_pretrained(work)
    (work / "README.md").unlink(missing_ok=True)  # peft's model card: nothing to read here
    torch.save(optimizer.state_dict(), work / "optimizer.pt")
    torch.save(scheduler.state_dict(), work / "scheduler.pt")
    torch.save({"torch": torch.get_rng_state(), "python": random.getstate()}, work / "rng.pt")
    write_json(work / STATE, {**state, "step": step})
    shutil.rmtree(final, ignore_errors=True)
    work.rename(final)
    for _, old in checkpoints(out)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_state(checkpoint: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((checkpoint / STATE).read_text())
    return state


def restore_checkpoint(checkpoint: Path, model: Any, optimizer: Any, scheduler: Any) -> None:
    """Load a checkpoint's adapter weights, optimizer, scheduler and random states."""
    import random

    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model, load_file(checkpoint / "adapter_model.safetensors"))
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=True))
    rng = torch.load(checkpoint / "rng.pt", weights_only=True)
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])


def check_resume(
    out: Path, state: dict[str, Any], base: dict[str, Any], data: dict[str, Any]
) -> None:
    """Refuse to resume a checkpoint with another base, dataset or hyper-parameters."""
    old = state["base"]["identity"]
    if old != base["identity"]:
        raise UserError(
            f"--base: {out} was trained on {state['base']['path']} ({describe(old)}), and "
            f"{base['path']} is another model ({describe(base['identity'])}); give that base to "
            f"resume, or a new --out"
        )
    if state["dataset"]["train_sha256"] != data["train_sha256"]:
        raise UserError(
            f"--data: {out} was trained on {state['dataset']['path']}, and "
            f"{data['path']}/train.parquet holds other rows; give that dataset to resume, or a "
            f"new --out"
        )


def check_same(out: Path, old: dict[str, Any], new: dict[str, Any], flags: dict[str, str]) -> None:
    """Refuse to resume with another value of a hyper-parameter that shapes the training."""
    for key, flag in flags.items():
        if old.get(key) != new.get(key):
            raise UserError(
                f"{flag}: {out} was trained with {flag} {old.get(key)}, not {new.get(key)}; give "
                f"{flag} {old.get(key)} to resume it, or a new --out"
            )


# --- an adapter and its base -----------------------------------------------------------------


def check_adapter(base: Path, adapter: Path) -> dict[str, Any]:
    """Refuse (UserError) an adapter that is not a LoRA adapter of `base`: the identity its
    training.json records, and the shapes of its weights, must fit base's config. Returns the
    base's identity."""
    adapter = Path(adapter)
    missing = [name for name in ADAPTER_FILES if not (adapter / name).is_file()]
    if missing:
        raise UserError(
            f"{adapter} is not a LoRA adapter (no {missing[0]}); give a folder written by "
            f"`socius train`"
        )
    ident = identity(base, flag="base")
    recorded = _recorded_identity(adapter)
    if recorded is not None and recorded != ident:
        raise UserError(
            f"adapter {adapter} was trained on another model ({describe(recorded)}) than "
            f"{base} ({describe(ident)}); serve it with its own base, or train one on {base}"
        )
    problem = _shape_problem(adapter / "adapter_model.safetensors", ident)
    if problem:
        raise UserError(
            f"adapter {adapter} does not fit {base} ({problem}); serve it with its own base, "
            f"or train one on {base}"
        )
    return ident


def _recorded_identity(adapter: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((adapter / TRAINING).read_text())["base"]["identity"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def _shape_problem(weights: Path, ident: dict[str, Any]) -> str | None:
    """Whether the adapter's attention weights fit the base's width and depth."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as f:
            shapes = {key: f.get_slice(key).get_shape() for key in f.keys()}  # noqa: SIM118
    except (OSError, SafetensorError) as err:
        return f"its weights cannot be read: {err}"
    hidden, layers = ident.get("hidden_size"), ident.get("num_hidden_layers")
    for key, shape in shapes.items():
        parts = key.split(".")
        if "layers" in parts and isinstance(layers, int):
            index = parts[parts.index("layers") + 1]
            if index.isdigit() and int(index) >= layers:
                return f"it adapts layer {index}, the base has {layers}"
        projection = any(f"{p}_proj" in parts for p in "qkv")
        if projection and "lora_A" in parts and isinstance(hidden, int) and shape[-1] != hidden:
            return f"its inputs are {shape[-1]} wide, the base's hidden size is {hidden}"
    return None
