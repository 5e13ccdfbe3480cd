"""`socius interview RUN --character ID "question"`: a character of a run answers, in its voice."""

from __future__ import annotations

import argparse
import json
import textwrap

from actors.cli import flags
from actors.drive.launch import llm_target, model_options
from actors.lab.interview import Moment, by_model, from_state, thinks_with_model
from inference.connect import Target
from world.errors import UserError
from world.scenario import Scenario

DESCRIPTION = (
    "Ask a character of a run a question, at one of the run's checkpoints (the latest, or "
    "--tick T). A character with the llm mind answers through the model (--llm-endpoint or "
    "--llm-engine), from its self-model, memories, relationships and feelings; any other "
    "answers from its state: how it feels, whom it trusts and distrusts most and why, what it "
    "owes and is owed. Nothing in the run folder changes."
)
EPILOG = """examples:
  socius interview runs/v7 --character 12 "Whom do you trust?"
  socius interview runs/v7 --character 12 --tick 20 --json "How do you feel?"
  socius interview runs/l1 --character 3 --llm-endpoint http://localhost:8000 "What do you owe?"
"""


def parents() -> list[argparse.ArgumentParser]:
    return [flags.llm_flags(replicas=False)]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run", metavar="RUN", type=flags.fetched_run, help="run folder, or its object store URL"
    )
    p.add_argument("question", metavar="QUESTION", help="what to ask, in quotes")
    p.add_argument(
        "--character",
        type=flags.natural("--character"),
        required=True,
        metavar="ID",
        help="the character's id (socius journal cat RUN shows who did what)",
    )
    checkpoint_flag(p)
    p.add_argument(
        "--json", action="store_true", help="print the answer and the facts behind it as JSON"
    )
    p.add_argument(
        "--from-state",
        action="store_true",
        help="answer from the character's state even if it thinks with a model",
    )
    p.set_defaults(func=interview)


def checkpoint_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tick",
        type=flags.natural("--tick"),
        metavar="T",
        help="read the checkpoint at tick T (default: the latest)",
    )


def model_target(args: argparse.Namespace, sc: Scenario) -> Target | None:
    """Where the model is, as the --llm-... flags say (None without them); a recorded run's
    answers (--llm-replay) cannot answer new questions."""
    if args.llm_replay is not None:
        raise UserError(
            "--llm-replay answers the decisions a run recorded, not new questions; give "
            "--llm-endpoint URL or --llm-engine MODEL_DIR"
        )
    if not (args.llm_endpoint or args.llm_engine):
        return None
    llm = model_options(
        args.llm_endpoint,
        args.llm_engine,
        None,
        args.llm_model,
        None,
        args.llm_concurrency,
        args.llm_api_key_env,
    )
    return llm_target(sc, llm)


def interview(args: argparse.Namespace) -> int:
    moment = Moment.open(args.run, args.tick)
    question = " ".join(args.question.split())
    if not question:
        raise UserError("the question is empty; ask something, in quotes")
    target = model_target(args, moment.scenario)
    cid = args.character
    if thinks_with_model(moment, cid) and not args.from_state:
        if target is None:
            raise UserError(
                f"character {cid} thinks with a model: give --llm-endpoint URL or --llm-engine "
                f"MODEL_DIR to ask it, or --from-state to have it answer from its state"
            )
        done = by_model(moment, cid, question, target)
    else:
        done = from_state(moment, cid, question)
    if args.json:
        print(json.dumps(done.to_json(), indent=1))
    else:
        f = done.facts
        print(f"{f['name']} ({f['role']}, group {f['group']}, {f['mind']} mind), tick {f['tick']}:")
        print(textwrap.fill(done.answer or f"(no answer: {done.error})", width=88))
    return 0 if done.answer is not None else 1
