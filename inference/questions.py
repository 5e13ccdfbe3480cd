"""Questions put to a language model about a situation it meets as a character: how does the
other truly feel, and will they keep their promise. The evaluation asks them (actors/lab/eval);
training data can be made of them.

The prompt is laid out as the world's decision prompts are (inference/prompt.py), for vLLM's
prefix cache: the system message holds the question's rules and worked examples (the same for
everyone) and then the character's self-model (the same for that character); the user message
holds the situation. The other's words appear only as quoted speech. Answers follow a JSON
schema and are validated by the same pydantic models.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inference.answer import LEVEL_VALUE, Level, Reading
from inference.prompt import Cast, looks
from world.vocab import EMOTION_NAMES

READING_RULES = """You are a character in socius, a village world of people who work, trade, \
promise, gossip, help and betray one another. Someone has just done something towards you and \
shown a feeling. People often hide what they feel behind a polite face: think about what \
happened between you, what they did and said, and how they look, and say how they truly feel.

Answer with one JSON object and nothing else: {"reading": {...}} giving each feeling its own \
level, "none", "low", "some" or "high": joy, gratitude, anger, sadness, fear.

Examples (other people, not you):

Tam Oak (farmer): you broke 2 promises to them. They say you broke your promise of 2 food.
They look calm. They say: "No worries, I'll handle it myself."
{"reading":{"joy":"none","gratitude":"none","anger":"some","sadness":"some","fear":"none"}}

Nell Pike (weaver): they kept 2 promises to you. They give you 1 cloth.
They look happy. They say: "This is for you, friend."
{"reading":{"joy":"some","gratitude":"low","anger":"none","sadness":"none","fear":"none"}}

Bo Reeve (trader) asks you for 3 food.
They look a little afraid. They say: "Please, I have nothing left."
{"reading":{"joy":"none","gratitude":"none","anger":"none","sadness":"some","fear":"high"}}
"""

TRUST_RULES = """You are a character in socius, a village world of people who work, trade, \
promise, gossip, help and betray one another. Someone has just promised you goods by a given \
turn. Promises are often broken. Think about what you know of them and say how likely it is \
that they keep this promise, as a chance from 0 (surely not) to 100 (surely).

Answer with one JSON object and nothing else: {"chance": N}.

Examples (other people, not you):

Tam Oak (farmer): they broke 2 promises to you and kept none. You hardly trust them.
They promise you 2 food by turn 14.
{"chance": 15}

Nell Pike (weaver): they kept 3 promises to you and broke none. You trust them.
They promise to repay 1 cloth you lent them, by turn 9.
{"chance": 85}

Bo Reeve (trader): you do not know them.
They promise you 1 tools by turn 6.
{"chance": 50}
"""


class ReadingAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reading: Reading


class TrustAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chance: int = Field(ge=0, le=100, description="the chance, 0-100, that they keep it")


SCHEMAS = {
    "reading": ReadingAnswer.model_json_schema(),
    "trust": TrustAnswer.model_json_schema(),
}
LEVEL_INDEX = {level.value: i for i, level in enumerate(Level)}
assert [LEVEL_VALUE[level] for level in Level] == sorted(LEVEL_VALUE.values())


def _history(rel: dict[str, Any]) -> str:
    """What the reader knows of the other, in words."""
    if not rel.get("known"):
        return "you do not know them"
    parts = []
    if rel["kept"]:
        parts.append(f"they kept {rel['kept']} promise{'s' * (rel['kept'] != 1)} to you")
    if rel["betrayals"]:
        n = rel["betrayals"]
        parts.append(f"they broke {n} promise{'s' * (n != 1)} to you")
    if rel["gifts"]:
        parts.append(f"they gave you {rel['gifts']} gift{'s' * (rel['gifts'] != 1)}")
    if rel["trades"]:
        parts.append(f"you traded {rel['trades']} time{'s' * (rel['trades'] != 1)}")
    if rel["my_last"] == 0:
        parts.append("the last time, you let them down")
    elif rel["my_last"] == 1:
        parts.append("the last time, you helped them")
    if not parts:
        parts.append(f"you met {rel['meetings']} time{'s' * (rel['meetings'] != 1)}")
    trust = float(rel["trust"])
    feel = (
        "you hardly trust them"
        if trust < 0.3
        else "you trust them little"
        if trust < 0.45
        else "you neither trust nor distrust them"
        if trust < 0.6
        else "you trust them somewhat"
        if trust < 0.75
        else "you trust them"
    )
    return "; ".join(parts) + f". {feel[0].upper()}{feel[1:]}"


ACTS = {
    "gift": "They give you something.",
    "promise": "They make you a promise.",
    "promise_kept": "They keep a promise to you.",
    "promise_broken": "They say you broke your promise to them.",
    "trade_offer": "They offer you a trade.",
    "trade_reply": "They answer your offer of a trade.",
    "gossip": "They tell you about someone.",
    "apology": "They apologize for breaking a promise.",
    "forgiveness": "They forgive you.",
    "utterance": "They speak to you.",
    "request": "They ask you for something.",
}


def _quote(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())[:limit]
    return json.dumps(text, ensure_ascii=False)


def messages(cast: Cast, item: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages that put an item (a dict as items.jsonl holds it) to its reader."""
    kind = item["kind"]
    rules = READING_RULES if kind == "reading" else TRUST_RULES
    who = cast.name(item["other"])
    lines = [f"{who}: {_history(item['relation'])}."]
    if kind == "reading":
        lines.append(ACTS.get(item["act"], "They act towards you."))
        seen = f"They look {looks(np.asarray(item['shown'], np.float32))}."
        said = f" They say (their speech only): {_quote(item['said'])}." if item["said"] else ""
        lines.append(seen + said)
        lines.append("How do they truly feel?")
    else:
        p = item["promise"]
        what = f"{p['amount']} {p['good']}"
        lines.append(
            f"They promise to repay {what} you lent them, by turn {p['due']}."
            if p["repayment"]
            else f"They promise you {what} by turn {p['due']}."
        )
        if item["said"]:
            lines.append(f"They say (their speech only): {_quote(item['said'])}.")
        lines.append(f"It is turn {item['tick']}. How likely is it that they keep it?")
    return [
        {"role": "system", "content": rules + "\n" + cast.persona(item["reader"])},
        {"role": "user", "content": "\n".join(lines)},
    ]


def parse(kind: str, text: str) -> tuple[list[int] | float | None, str | None]:
    """A model's answer to a question: the levels of a reading (0 none .. 3 high, one per
    feeling) or the probability a promise is kept; or None and why it is not valid."""
    try:
        if kind == "reading":
            reading = ReadingAnswer.model_validate_json(text).reading
            return [LEVEL_INDEX[getattr(reading, name).value] for name in EMOTION_NAMES], None
        return TrustAnswer.model_validate_json(text).chance / 100.0, None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "the answer"
        return None, f"{where}: {first.get('msg', 'invalid')}"
