"""What a model may answer: a JSON schema derived from pydantic models, per decision.

The schema lists only the actions legal for that decision, a short utterance, and the model's
reading of the counterpart's hidden feelings on a four-step scale. `parse` validates an answer
against the same models; whatever fails is reported with the reason, so the world can retry once
with it and then fall back. Nothing an answer says is applied unless it validates, and even then
the world checks legality again when it settles.
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


@functools.lru_cache(maxsize=1024)
def answer_model(legal: tuple[str, ...], words: int) -> type[BaseModel]:
    """The pydantic model of an answer to a decision whose legal actions are `legal`."""
    action_type: Any = Literal[legal]  # type: ignore[valid-type]
    return create_model(
        "Answer",
        __config__=ConfigDict(extra="forbid"),
        action=(action_type, Field(description="what you do; one of the options")),
        say=(str, Field(max_length=words, description="what you say to them, briefly")),
        reading=(Reading, Field(description="how you think they truly feel")),
    )


@functools.lru_cache(maxsize=1024)
def _schema_text(legal: tuple[str, ...], words: int) -> str:
    schema = answer_model(legal, words).model_json_schema()
    action = schema["properties"]["action"]
    action.pop("const", None)  # one legal action: an enum of one, as for several
    action["enum"] = list(legal)
    action["type"] = "string"
    return json.dumps(schema)


def answer_schema(legal: tuple[str, ...], words: int) -> dict[str, Any]:
    """The JSON schema of `answer_model`, for the backend's structured output."""
    out: dict[str, Any] = json.loads(_schema_text(legal, words))
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
