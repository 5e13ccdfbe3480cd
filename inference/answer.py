"""What a model may answer: a JSON schema derived from pydantic models, per decision.

The schema asks, in this order, for the model's reading of the counterpart's hidden feelings
(each on a four-step scale), an action among only those legal for that decision, and a short
utterance. The order is for small models: the reading and the action are settled before any free
words, and words that run long can never cut the answer short of its action. The schema asks the
model for at least `MIN_SAY` characters of words (a model left free answers "I" or nothing) and,
given the request's token limit, no more than those tokens hold after the rest of the answer
(`say_length`); the world itself accepts any words up to the scenario's length, as it does from
players. (A `pattern` against echoing the prompt is not used: xgrammar, vLLM 0.32's structured
output backend, refuses a pattern together with a length bound; the prompt's worked examples
do that work.)

`parse` validates an answer against the same models; whatever fails is reported with the reason,
so the world can retry once with it and then fall back. Nothing an answer says is applied unless
it validates, and even then the world checks legality again when it settles.
"""

from __future__ import annotations

import functools
import json
from enum import StrEnum
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from world.acts import ACTION_NAMES
from world.vocab import EMOTION_NAMES, N_EMOTIONS


class Level(StrEnum):
    NONE = "none"
    LOW = "low"
    SOME = "some"
    HIGH = "high"


#: The feeling a level stands for, when the world scores a reading.
LEVEL_VALUE = {Level.NONE: 0.0, Level.LOW: 0.25, Level.SOME: 0.55, Level.HIGH: 0.9}


class Reading(BaseModel):
    """How the model thinks the counterpart truly feels (not how it seems)."""

    model_config = ConfigDict(extra="forbid")
    joy: Level
    gratitude: Level
    anger: Level
    sadness: Level
    fear: Level


assert tuple(Reading.model_fields) == EMOTION_NAMES


#: The answer's fields in the order the model writes them (the schema's and the prompt's).
FIELDS = ("reading", "action", "say")
#: Characters of words the schema asks the model for, at least (fewer when `words` is less).
MIN_SAY = 12
#: Tokens an answer takes besides its words (the reading, the longest action, the JSON around
#: them: 41 with SmolLM2's tokenizer), and the characters of words a token carries at the
#: least in what small models ramble ("no, no, no", "I, I, I"): what `max_tokens` leaves room
#: for, so that an answer is not cut short in its words (runs of digits, a token each, still
#: can be).
SKELETON_TOKENS = 48
CHARS_PER_TOKEN = 2


@functools.lru_cache(maxsize=1024)
def answer_model(legal: tuple[str, ...], words: int) -> type[BaseModel]:
    """The pydantic model of an answer to a decision whose legal actions are `legal`: its
    fields in the order the model is asked to write them."""
    action_type: Any = Literal[legal]  # type: ignore[valid-type]
    return create_model(
        "Answer",
        __config__=ConfigDict(extra="forbid"),
        reading=(Reading, Field(description="how you think they truly feel")),
        action=(action_type, Field(description="what you do; one of the options")),
        say=(str, Field(max_length=words, description="what you say to them, briefly")),
    )


def say_length(words: int, max_tokens: int | None) -> int:
    """The longest words the schema allows: `words`, or fewer if `max_tokens` would not hold
    them after the rest of the answer."""
    if max_tokens is None:
        return words
    return max(0, min(words, CHARS_PER_TOKEN * (max_tokens - SKELETON_TOKENS)))


@functools.lru_cache(maxsize=1024)
def _schema_text(legal: tuple[str, ...], words: int, max_tokens: int | None) -> str:
    schema = answer_model(legal, say_length(words, max_tokens)).model_json_schema()
    action = schema["properties"]["action"]
    action.pop("const", None)  # one legal action: an enum of one, as for several
    action["enum"] = list(legal)
    action["type"] = "string"
    schema["properties"] = {f: schema["properties"][f] for f in FIELDS}
    schema["required"] = list(FIELDS)
    # words, not a shrug: the model writes at least a few (the world accepts fewer)
    schema["properties"]["say"]["minLength"] = min(MIN_SAY, say_length(words, max_tokens))
    return json.dumps(schema)


def answer_schema(
    legal: tuple[str, ...], words: int, max_tokens: int | None = None
) -> dict[str, Any]:
    """The JSON schema of `answer_model`, for the backend's structured output; given the
    request's `max_tokens`, its words are bounded to what those tokens hold (`say_length`), so
    that the limit does not cut an answer short (the world accepts up to `words`)."""
    out: dict[str, Any] = json.loads(_schema_text(legal, words, max_tokens))
    return out


def legal_names(mask: np.ndarray) -> tuple[str, ...]:
    """The names of the actions a row of `DecisionBatch.legal` allows."""
    return tuple(ACTION_NAMES[a] for a in np.flatnonzero(mask))


class Parsed(BaseModel):
    action: int
    say: str
    reading: tuple[float, ...]


def parse(text: str | None, legal: tuple[str, ...], words: int) -> Parsed | str:
    """The validated answer, or the reason it is not one (to be shown to the model once)."""
    if text is None:
        return "no answer"
    try:
        data = json.loads(text, strict=False)  # control characters in strings are cleaned below
    except json.JSONDecodeError as err:
        return f"the answer is not valid JSON ({err.msg} at character {err.pos})"
    try:
        ok = answer_model(legal, words).model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        return f"{where}: {first['msg']}"
    values = ok.model_dump()
    reading = tuple(LEVEL_VALUE[Level(values["reading"][e])] for e in EMOTION_NAMES)
    assert len(reading) == N_EMOTIONS
    return Parsed(
        action=ACTION_NAMES.index(values["action"]), say=clean(values["say"]), reading=reading
    )


def clean(words: str) -> str:
    """Words fit to be said: printable characters only, on one line, trimmed."""
    kept = "".join(ch if ch.isprintable() else " " for ch in words)
    return " ".join(kept.split())
