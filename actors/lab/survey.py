"""Surveys: a questionnaire put to a sample of a run's characters at a checkpoint, as a CSV.

A questionnaire is YAML, validated like a scenario (unknown fields and item types are errors of
one line):

    name: trust-and-feelings
    items:
      - {id: village, type: general_trust, text: "I trust most people in my village"}
      - {id: partner, type: trust_in, who: partner, text: "{who} can be relied on"}
      - {id: elder, type: trust_in, who: 0, text: "{who} can be relied on"}
      - {id: angry, type: feeling, feeling: anger, text: "I often feel angry these days"}
      - {id: life, type: free, text: "How is life in the village?"}

Likert items are answered 1 (strongly disagree) .. 5 (strongly agree). The world knows the
truth behind three types, which the CSV gives on the same scale (1 + 4 x the 0..1 value) with
the gap between what was said and it:

- `general_trust`: the mean trust (evidence of good faith, (good + 1) / (good + bad + 2), as the
  run's mean_trust figure) the character places in the people of its group it remembers
  (`scope: everyone`: everyone it remembers);
- `trust_in`: its trust in one character (`who`: an id, or `partner`: the one it has met most);
  a character who does not know them has no answer and no truth;
- `feeling`: its hidden feeling (joy, gratitude, anger, sadness or fear), 0..1.

`free` questions are answered in words: by the model for `llm` characters (when one is given),
from state by the others (the interview's answer, actors/lab/interview.py).

**The self-report model** (characters answering from state). People do not report their inner
state as it is, and the world's own rules say how they shade it:

- feelings are reported as the character would show them to a stranger: its true feelings
  blended towards the polite mask (mild joy and gratitude, nothing negative) by its masking,
  `world/emotion.py`'s `shown(true, traits, closeness=0)`, so a guarded character
  (low expressiveness) under-reports anger, sadness and fear;
- trust is reported drawn towards the polite answer (`POLITE`, 0.75: "people here can be
  trusted") by `1 - honesty`: an honest character says what it holds, a less honest one what
  sounds well.

The reported value v (0..1) is put on the scale as round(1 + 4v). No draw is made: the same
checkpoint gives the same answers. `llm` characters asked through a model answer as the model
says (`answered_by` is `model`).

The sample is `--sample N` characters (default all): the N lowest hashes of (seed, the
journal-sample stream, id, `SAMPLE_KEY`), so the same characters on any layout, in id order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from actors.lab.interview import (
    ModelInterviewer,
    Moment,
    answer_from_state,
    facts,
    name_of,
    thinks_with_model,
    trust_of,
)
from inference.connect import Target
from inference.prompt import Cast
from world import emotion
from world.errors import UserError
from world.record import atomic_write
from world.rng import Stream, hash64
from world.shard import Shard
from world.vocab import Emotion, Trait

#: The polite answer trust reports are drawn towards (by 1 - honesty).
POLITE = 0.75
#: Distinguishes the survey's sample from a sampled journal's (same stream, another key).
SAMPLE_KEY = 0x5355
LIKERT = ("general_trust", "trust_in", "feeling")
TYPES = (*LIKERT, "free")
COLUMNS = (
    "run",
    "tick",
    "character",
    "name",
    "role",
    "group",
    "mind",
    "item",
    "type",
    "text",
    "answered_by",
    "answer",
    "truth",
    "truth_raw",
    "gap",
    "note",
)
#: Called with (characters done, out of how many).
Report = Callable[[int, int], None]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field("", max_length=60, description="the item's name in the CSV (default qN)")
    text: str = Field(min_length=1, max_length=400, description="the statement or question")


class GeneralTrust(_Item):
    type: Literal["general_trust"]
    scope: Literal["group", "everyone"] = "group"


class TrustIn(_Item):
    type: Literal["trust_in"]
    who: int | Literal["partner"] = Field(
        "partner", description="a character's id, or partner: the one each has met most"
    )


class Feeling(_Item):
    type: Literal["feeling"]
    feeling: Literal["joy", "gratitude", "anger", "sadness", "fear"]


class Free(_Item):
    type: Literal["free"]


Item = Annotated[GeneralTrust | TrustIn | Feeling | Free, Field(discriminator="type")]


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field("survey", min_length=1, max_length=80)
    items: list[Item] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ids(self) -> Questionnaire:
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            name = item.id or f"q{i + 1}"
            if name in seen:
                raise ValueError(f"items: two items are named {name!r}; give each its own id")
            seen.add(name)
        return self

    def named(self) -> list[tuple[str, Any]]:
        return [(item.id or f"q{i + 1}", item) for i, item in enumerate(self.items)]


def load_questionnaire(path: Path) -> Questionnaire:
    """Read and validate a questionnaire; any problem is one UserError naming the item."""
    if not path.is_file():
        raise UserError(f"questions file {str(path)!r} not found; give a YAML questionnaire")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"questions {path}: not valid YAML{at}") from None
    except UnicodeDecodeError:
        raise UserError(f"questions {path}: not a UTF-8 text file") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise UserError(f"questions {path}: expected a mapping with a list of items")
    for i, item in enumerate(data["items"]):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in TYPES:
            name = item.get("id") or item.get("text") if isinstance(item, dict) else item
            raise UserError(
                f"questions {path}: item {i + 1} ({name!r}) has type {kind!r}; allowed types: "
                f"{', '.join(TYPES)}"
            )
    try:
        return Questionnaire.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = list(first["loc"])
        if len(loc) >= 3 and loc[0] == "items":  # items.N.TYPE.field: name the item
            loc = [f"item {int(loc[1]) + 1}", *map(str, loc[3:])]
        where = ".".join(str(p) for p in loc) or "the questionnaire"
        raise UserError(f"questions {path}: {where}: {first['msg']}") from None


def sample_of(moment: Moment, count: int | None) -> list[int]:
    """The characters asked: `count` of them drawn from the seed (all when None), in id order."""
    ids = np.array(moment.characters(), np.int64)
    if count is None or count >= len(ids):
        return [int(i) for i in ids]
    ranks = hash64(moment.scenario.seed, Stream.JOURNAL, ids, SAMPLE_KEY)
    return sorted(int(i) for i in ids[np.argsort(ranks, kind="stable")[:count]])


def partner(shard: Shard, row: int) -> int:
    """The one a character has met most (ties: more evidence, then the lower id), or -1."""
    c = shard.chars
    slots = np.flatnonzero(c.rel_id[row] >= 0)
    if not len(slots):
        return -1
    evidence = c.rel_pos[row, slots] + c.rel_neg[row, slots]
    order = np.lexsort((c.rel_id[row, slots], -evidence, -c.rel_meetings[row, slots]))
    return int(c.rel_id[row, slots[order[0]]])


def truth_of(moment: Moment, cid: int, item: Any) -> float | None:
    """What the world holds behind a Likert item for character `cid`, 0..1 (None: nothing)."""
    shard, row = moment.find(cid)
    c = shard.chars
    if isinstance(item, Feeling):
        return float(c.emotion[row, Emotion[item.feeling.upper()]])
    known = c.rel_id[row] >= 0
    if isinstance(item, GeneralTrust):
        if item.scope == "group":
            groups = moment.groups
            mine = int(c.group[row])
            known &= np.array([groups.get(int(o), -1) == mine for o in c.rel_id[row]])
        if not known.any():
            return None
        return float(trust_of(c.rel_pos[row, known], c.rel_neg[row, known]).mean())
    who = partner(shard, row) if item.who == "partner" else int(item.who)
    slot = np.flatnonzero(c.rel_id[row] == who) if who >= 0 else np.zeros(0, np.int64)
    if not len(slot):
        return None
    return float(trust_of(c.rel_pos[row, slot[0]], c.rel_neg[row, slot[0]]))


def reported(moment: Moment, cid: int, item: Any, truth: float) -> float:
    """The self-report model: what a character answering from state says of `truth`, 0..1."""
    shard, row = moment.find(cid)
    traits = shard.chars.traits[row : row + 1]
    if isinstance(item, Feeling):
        feelings = shard.chars.emotion[row : row + 1]
        shown = emotion.shown(feelings, traits, np.zeros(1, np.float32))
        return float(shown[0, Emotion[item.feeling.upper()]])
    honesty = float(traits[0, Trait.HONESTY])
    return truth + (1.0 - honesty) * (POLITE - truth)


def on_scale(value: float) -> int:
    """A 0..1 value as a point of the 1..5 scale."""
    return int(np.clip(np.rint(1.0 + 4.0 * value), 1, 5))


def item_text(moment: Moment, cid: int, item: Any, cast: Cast) -> str:
    """The item as put to character `cid` (`{who}` named)."""
    if not isinstance(item, TrustIn):
        return item.text
    if item.who == "partner":
        shard, row = moment.find(cid)
        who = partner(shard, row)
        name = name_of(cast, who) if who >= 0 else "your closest neighbour"
    else:
        name = name_of(cast, int(item.who))
    return item.text.replace("{who}", name).replace("{partner}", name)


def survey(
    moment: Moment,
    questions: Questionnaire,
    sample: Sequence[int],
    target: Target | None = None,
    report: Report | None = None,
) -> list[dict[str, Any]]:
    """One row per sampled character and item (the CSV's `COLUMNS`)."""
    cast = Cast(moment.scenario)
    run = moment.folder.name
    for item in questions.items:  # a character named by an item must exist
        if isinstance(item, TrustIn) and item.who != "partner":
            moment.find(int(item.who))
    rows: list[dict[str, Any]] = []
    asked: list[tuple[int, str, str]] = []  # to the model: (character, text, kind)
    waiting: list[int] = []  # their rows
    for done, cid in enumerate(sample):
        shard, row = moment.find(cid)
        model = target is not None and thinks_with_model(moment, cid)
        about = facts(moment, cid, cast)
        expressiveness = float(shard.chars.traits[row, Trait.EXPRESSIVENESS])
        for name, item in questions.named():
            text = item_text(moment, cid, item, cast)
            out: dict[str, Any] = {
                "run": run,
                "tick": moment.tick,
                "character": cid,
                "name": about["name"],
                "role": about["role"],
                "group": int(shard.chars.group[row]),
                "mind": about["mind"],
                "item": name,
                "type": item.type,
                "text": text,
                "answered_by": "model" if model else "state",
                **dict.fromkeys(("answer", "truth", "truth_raw", "gap", "note"), ""),
            }
            truth = truth_of(moment, cid, item) if item.type in LIKERT else None
            if truth is not None:
                out["truth_raw"] = round(truth, 4)
                out["truth"] = round(1.0 + 4.0 * truth, 4)
            elif isinstance(item, (GeneralTrust, TrustIn)):
                out["note"] = "knows nobody it asks about"
            if model:
                asked.append((cid, text, "likert" if item.type in LIKERT else "words"))
                waiting.append(len(rows))
            elif item.type == "free":
                out["answer"] = answer_from_state(about, text, expressiveness)
            elif truth is not None:
                out["answer"] = on_scale(reported(moment, cid, item, truth))
            rows.append(out)
        if report is not None:
            report(done + 1, len(sample))
    if asked:
        assert target is not None
        mind = ModelInterviewer(moment.scenario, target)
        try:
            answers = mind.ask(moment, asked)
        finally:
            mind.close()
        for i, (value, why) in zip(waiting, answers, strict=True):
            rows[i]["answer"] = "" if value is None else value
            rows[i]["note"] = "" if value is not None else f"no valid answer: {why}"
    for r in rows:
        if isinstance(r["answer"], int) and r["truth"] != "":
            r["gap"] = round(r["answer"] - r["truth"], 4)
    return rows


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """The survey's CSV, written whole or not at all (a temporary file, then renamed)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.getvalue().encode())
