"""`socius model prepare DIR`: make the real small model ready for vLLM (inference/small_model)."""

from __future__ import annotations

import argparse

from inference import small_model

DESCRIPTION = "Language models for the characters' minds."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    prep = sub.add_parser(
        "prepare",
        help=f"make {small_model.MODEL_NAME} a model folder that vLLM serves",
        description=f"{small_model.DESCRIPTION} Then: socius run examples/village-smollm2.yaml "
        f"--llm-engine DIR",
    )
    small_model.add_arguments(prep)
    prep.set_defaults(func=small_model.prepare_from)
