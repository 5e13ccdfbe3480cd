"""Interviews: a character of a recorded run, read at one of its checkpoints, answers a question.

Nothing here writes: a checkpoint is read (world/record.py), each shard rebuilt as the world's
own `Shard` (so its digest can be checked against the run's), and the character seen as it sees
itself (world/self_view.py). A character whose mind is not a language model answers from that
state, in words (`answer_from_state`): how it feels (its hidden feelings, which it knows), whom it
trusts and distrusts most and the episodes behind it (promises kept and broken, gifts, trades),
what it owes and is owed. A character with the `llm` mind is asked through the gateway and
backends its decisions use (`ModelInterviewer`, prompts in inference/interview.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actors.lab.eval.model import ModelMind
from inference.backends.base import Request
from inference.connect import Target
from inference.interview import MAX_TOKENS, messages, parse, schema
from inference.prompt import GOOD_NAMES, MEMORY_WORDS, Cast
from protos import world_service_pb2 as wpb
from world.digest import state_digest
from world.errors import RunFolderError, UserError
from world.minds.registry import MIND_NAMES
from world.population import adapter_of
from world.record import checkpoint_path, load_run_scenario, read_shard_snapshot
from world.scenario import Scenario
from world.self_view import self_view
from world.shard import Shard
from world.vocab import EMOTION_NAMES, ROLE_NAMES, Trait

#: How many people an answer names among those trusted, and among those distrusted.
NAMED = 3
#: Minds that think with a language model (the rest answer from state).
MODEL_MINDS = ("llm",)


def checkpoint_ticks(folder: Path) -> list[int]:
    """The ticks of a run folder's complete checkpoints (those with a manifest), in order."""
    root = Path(folder) / "checkpoints"
    ticks = []
    for manifest in root.glob("tick-*/manifest.json") if root.is_dir() else ():
        try:
            ticks.append(int(manifest.parent.name.removeprefix("tick-")))
        except ValueError:
            continue
    return sorted(ticks)


@dataclasses.dataclass
class Moment:
    """A run's world at one checkpoint: its scenario, tick and shards, read only."""

    folder: Path
    scenario: Scenario
    tick: int
    n_shards: int
    _shards: dict[int, Shard] = dataclasses.field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path, tick: int | None = None) -> Moment:
        """The checkpoint at `tick` (default: the latest) of the run in `folder`; a tick with
        no checkpoint is an error listing those that have one."""
        scenario = load_run_scenario(folder)
        if scenario.classic is not None:
            raise UserError(
                f"run {folder} plays a classic {scenario.classic.kind} game: its players have "
                f"strategies, not feelings or memories to be interviewed about"
            )
        ticks = checkpoint_ticks(folder)
        if not ticks:
            raise RunFolderError(
                f"run {folder} has no complete checkpoint to read characters from; run it "
                f"with --checkpoint-every N (the default, 10, writes them)"
            )
        if tick is None:
            tick = ticks[-1]
        elif tick not in ticks:
            raise UserError(
                f"run {folder} has no checkpoint at tick {tick}; ticks with one: "
                f"{', '.join(map(str, ticks))}"
            )
        manifest = checkpoint_path(folder, tick) / "manifest.json"
        try:
            n_shards = int(json.loads(manifest.read_text(encoding="utf-8"))["n_shards"])
        except (OSError, ValueError, KeyError):
            raise RunFolderError(f"{str(manifest)!r} cannot be read; the run is damaged") from None
        return cls(Path(folder), scenario, tick, n_shards)

    def shard(self, index: int) -> Shard:
        """Shard `index` as it was at the checkpoint (read once)."""
        if index not in self._shards:
            shard = Shard(self.scenario, index, self.n_shards)
            shard.set_state(read_shard_snapshot(self.folder, self.tick, index))
            self._shards[index] = shard
        return self._shards[index]

    def characters(self) -> list[int]:
        """Every character living at the checkpoint, in id order."""
        ids = [self.shard(i).chars.cid[: len(self.shard(i).chars)] for i in range(self.n_shards)]
        return sorted(int(c) for c in np.concatenate(ids))

    @functools.cached_property
    def groups(self) -> dict[int, int]:
        """Each character's group at the checkpoint."""
        out: dict[int, int] = {}
        for i in range(self.n_shards):
            c = self.shard(i).chars
            out.update(zip(c.cid[: len(c)].tolist(), c.group[: len(c)].tolist(), strict=True))
        return out

    def find(self, cid: int) -> tuple[Shard, int]:
        """The shard and row of character `cid`; one that does not exist is an error."""
        if 0 <= cid < self.shard(0).placement.size:
            shard = self.shard(self.shard(0).placement.shard_of(cid))
            rows = np.flatnonzero(shard.chars.cid[: len(shard.chars)] == cid)
            if len(rows):
                return shard, int(rows[0])
        size = len(self.characters())
        raise UserError(
            f"run {self.folder} has no character {cid} at tick {self.tick}; its characters "
            f"are 0-{size - 1}"
        )

    def digest(self) -> str:
        """The state digest of the world at this checkpoint (the run's, at its last tick)."""
        return state_digest(self.shard(i).digest_parts() for i in range(self.n_shards))


def trust_of(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Trust from evidence of good and bad faith, as the world's figures compute it."""
    return (pos.astype(np.float64) + 1.0) / (pos + neg + 2.0)


def ranked(shard: Shard, row: int) -> tuple[list[int], list[int]]:
    """The relationship slots of the people a character trusts most (trust above even, most
    first) and distrusts most (below even, least first); ties go to more evidence, then the
    lower id."""
    c = shard.chars
    slots = np.flatnonzero(c.rel_id[row] >= 0)
    pos, neg = c.rel_pos[row, slots], c.rel_neg[row, slots]
    trust = trust_of(pos, neg)
    evidence = (pos + neg).astype(np.float64)
    ids = c.rel_id[row, slots]
    up = slots[np.lexsort((ids, -evidence, -trust))]
    down = slots[np.lexsort((ids, -evidence, trust))]
    t = {int(s): float(v) for s, v in zip(slots, trust, strict=True)}
    return [int(s) for s in up if t[int(s)] > 0.5], [int(s) for s in down if t[int(s)] < 0.5]


def _person(cast: Cast, shard: Shard, row: int, slot: int) -> dict[str, Any]:
    c = shard.chars
    other = int(c.rel_id[row, slot])
    return {
        "id": other,
        "name": cast.name(other),
        "trust": round(float(trust_of(c.rel_pos[row, slot], c.rel_neg[row, slot])), 4),
        "kept": int(c.rel_kept[row, slot]),
        "broken": int(c.rel_betrayals[row, slot]),
        "gifts": int(c.rel_gifts[row, slot]),
        "trades": int(c.rel_trades[row, slot]),
        "meetings": int(c.rel_meetings[row, slot]),
        "balance": int(c.rel_balance[row, slot]),
        "affinity": round(float(c.rel_aff[row, slot]), 4),
        "remembered": _last_episode(shard, row, other),
    }


def _last_episode(shard: Shard, row: int, other: int) -> dict[str, Any] | None:
    """The latest episode a character remembers of `other` (its tick and what they did, in the
    character's words), or None."""
    c = shard.chars
    eps = np.flatnonzero((c.ep_kind[row] >= 0) & (c.ep_who[row] == other))
    if not len(eps):
        return None
    e = int(eps[np.argmax(c.ep_tick[row, eps])])
    what = MEMORY_WORDS.get(int(c.ep_kind[row, e]), "dealt with you")
    return {"tick": int(c.ep_tick[row, e]), "what": re.sub(r"\byou\b", "me", what)}


def _promises(cast: Cast, promises: Sequence[wpb.OpenPromise], mine: bool) -> list[dict[str, Any]]:
    return [
        {
            "with": int(p.promisee if mine else p.promisor),
            "name": cast.name(int(p.promisee if mine else p.promisor)),
            "good": GOOD_NAMES[int(p.what.good)],
            "amount": int(p.what.amount),
            "due": int(p.due_tick),
            "state": p.state,
        }
        for p in promises
    ]


def name_of(cast: Cast, cid: int) -> str:
    """A character's name alone (`Cast.name` says "Name (role)")."""
    return cast.name(cid).rsplit(" (", 1)[0]


def facts(moment: Moment, cid: int, cast: Cast | None = None) -> dict[str, Any]:
    """What the world knows of character `cid` at the checkpoint that an answer stands on."""
    cast = cast if cast is not None else Cast(moment.scenario)
    shard, row = moment.find(cid)
    view = self_view(shard, cid)
    c = shard.chars
    trusted, distrusted = ranked(shard, row)
    return {
        "character": cid,
        "name": name_of(cast, cid),
        "role": ROLE_NAMES[int(c.role[row])],
        "group": int(c.group[row]),
        "mind": MIND_NAMES[int(c.mind[row])],
        "tick": moment.tick,
        "feelings": {
            n: round(float(v), 4) for n, v in zip(EMOTION_NAMES, c.emotion[row], strict=True)
        },
        "holdings": {GOOD_NAMES[g]: int(n) for g, n in enumerate(c.goods[row])},
        "health": round(float(c.health[row]), 4),
        "hunger": int(c.hunger[row]),
        "known": int((c.rel_id[row] >= 0).sum()),
        "trusts": [_person(cast, shard, row, s) for s in trusted[:NAMED]],
        "distrusts": [_person(cast, shard, row, s) for s in distrusted[:NAMED]],
        "owes": _promises(cast, view.owes, True),
        "owed": _promises(cast, view.owed, False),
    }


# --- answering from state ----------------------------------------------------------------


def _level(x: float) -> str:
    return "a little" if x < 0.4 else "rather" if x < 0.7 else "very"


FEELING_WORDS = {
    "joy": "happy",
    "gratitude": "grateful",
    "anger": "angry",
    "sadness": "sad",
    "fear": "afraid",
}


def _times(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _why(p: dict[str, Any]) -> str:
    """The episodes behind a trust, in words."""
    parts = []
    if p["kept"]:
        parts.append(f"kept {_times(p['kept'], 'promise')} to me")
    if p["broken"]:
        parts.append(f"broke {_times(p['broken'], 'promise')} to me")
    if p["gifts"]:
        parts.append(f"gave me {_times(p['gifts'], 'gift')}")
    if p["trades"]:
        parts.append(f"traded with me {_times(p['trades'], 'time')}")
    if p["balance"] > 0:
        parts.append("got more from me than I got from them")
    elif p["balance"] < 0:
        parts.append("gave me more than they got from me")
    if not parts:
        parts.append(f"I have met them {_times(p['meetings'], 'time')} and heard what others say")
    said = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    last = p["remembered"]
    return said + (f"; on turn {last['tick']} they {last['what']}" if last else "")


def _feeling_sentence(f: dict[str, Any], guarded: bool) -> str:
    felt = sorted(((v, k) for k, v in f["feelings"].items() if v >= 0.15), reverse=True)
    if not felt:
        return "I feel calm; nothing much stirs me these days."
    words = [f"{_level(v)} {FEELING_WORDS[k]}" for v, k in felt[:3]]
    said = ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]
    opening = "I don't often say it, but I feel" if guarded else "I feel"
    return f"{opening} {said}."


def _trust_sentences(f: dict[str, Any]) -> str:
    out = []
    if f["trusts"]:
        best = f["trusts"][0]
        out.append(f"I trust {best['name']} most: they {_why(best)}.")
        others = [p["name"] for p in f["trusts"][1:]]
        if others:
            out.append(f"I also rely on {' and '.join(others)}.")
    if f["distrusts"]:
        worst = f["distrusts"][0]
        out.append(f"I trust {worst['name']} least: they {_why(worst)}.")
    if not out:
        known = f["known"]
        out.append(
            "I know nobody here yet."
            if not known
            else f"I know {_times(known, 'person')}, but none well enough to trust or distrust."
        )
    return " ".join(out)


def _debt_sentences(f: dict[str, Any]) -> str:
    out = []
    for p in f["owes"]:
        late = "" if p["state"] == "open" else f" ({p['state']})"
        out.append(f"I owe {p['name']} {p['amount']} {p['good']} by turn {p['due']}{late}.")
    for p in f["owed"]:
        late = "" if p["state"] == "open" else f", and that promise is {p['state']}"
        out.append(f"{p['name']} owes me {p['amount']} {p['good']} by turn {p['due']}{late}.")
    return " ".join(out) if out else "I owe nobody anything, and nobody owes me."


#: Words of a question that bring a topic first: feelings, trust, debts.
TOPICS = (
    ("feel", ("feel", "mood", "happy", "sad", "angry", "afraid", "how are you")),
    ("trust", ("trust", "rely", "friend", "enemy", "betray", "who", "like")),
    ("debt", ("owe", "debt", "promise", "lend", "loan", "pay")),
)


def answer_from_state(f: dict[str, Any], question: str, expressiveness: float) -> str:
    """A character's answer from its state, in its own voice: the topics the question asks
    about first, in the order it names them, then the others (feelings, trust, debts)."""
    said = {
        "feel": _feeling_sentence(f, guarded=expressiveness < 0.35),
        "trust": _trust_sentences(f),
        "debt": _debt_sentences(f),
    }
    q = question.lower()
    at = {name: min((q.find(w) for w in words if w in q), default=len(q)) for name, words in TOPICS}
    order = sorted(said, key=lambda name: at[name])  # stable: unasked topics in TOPICS' order
    return " ".join(said[name] for name in order)


@dataclasses.dataclass(frozen=True)
class Interview:
    """A question put to a character at a checkpoint, with its answer and the facts behind it."""

    question: str
    answer: str | None
    by: str  # "state" or "model"
    facts: dict[str, Any]
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "character": self.facts["character"],
            "name": self.facts["name"],
            "tick": self.facts["tick"],
            "question": self.question,
            "answer": self.answer,
            "answered_by": self.by,
            **({"error": self.error} if self.error else {}),
            "facts": self.facts,
        }


def thinks_with_model(moment: Moment, cid: int) -> bool:
    shard, row = moment.find(cid)
    return MIND_NAMES[int(shard.chars.mind[row])] in MODEL_MINDS


def from_state(moment: Moment, cid: int, question: str, cast: Cast | None = None) -> Interview:
    """The character answers from its state (any mind but a language model's)."""
    f = facts(moment, cid, cast)
    shard, row = moment.find(cid)
    expressiveness = float(shard.chars.traits[row, Trait.EXPRESSIVENESS])
    return Interview(question, answer_from_state(f, question, expressiveness), "state", f)


class ModelInterviewer(ModelMind):
    """A language model at `target` (the gateway and backends of the world's decisions),
    answering for `llm` characters of one run. Temperature 0 and a seed from the character's
    own LLM stream: the same model answers the same question the same way."""

    def ask(
        self, moment: Moment, asked: Sequence[tuple[int, str, str]]
    ) -> list[tuple[str | int | None, str | None]]:
        """Answers to (character, question, kind) triples, kind `words` or `likert`: each its
        value, or None and why not (an invalid answer is asked once more, with the reason)."""
        chats = [self._chat(moment, cid, q, kind) for cid, q, kind in asked]
        out: list[tuple[str | int | None, str | None]] = [(None, "not asked")] * len(asked)
        pending = list(range(len(asked)))
        for attempt in range(2):
            requests = [self._request(moment, asked[i], chats[i], attempt) for i in pending]
            answers = self.loop.run(self.gateway.ask(requests))
            again = []
            for i, a in zip(pending, answers, strict=True):
                if a.text is None:
                    out[i] = (None, a.error or "no answer")
                    continue
                out[i] = parse(asked[i][2], a.text)
                if out[i][0] is None:
                    again.append(i)
                    chats[i] = [
                        *chats[i],
                        {"role": "assistant", "content": a.text[:2000]},
                        {
                            "role": "user",
                            "content": f"That answer is not valid: {out[i][1]}. Answer again "
                            f"with one JSON object as described.",
                        },
                    ]
            pending = again
            if not pending:
                break
        return out

    def _chat(self, moment: Moment, cid: int, question: str, kind: str) -> list[dict[str, str]]:
        shard, row = moment.find(cid)
        trusted, distrusted = ranked(shard, row)
        people = trusted[:NAMED] + [s for s in distrusted[:NAMED] if s not in trusted[:NAMED]]
        view = self_view(shard, cid)
        return messages(self.cast, shard.chars, row, view, people, question, kind)

    def _request(  # type: ignore[override]
        self,
        moment: Moment,
        asked: tuple[int, str, str],
        chat: list[dict[str, str]],
        attempt: int,
    ) -> Request:
        cid, question, kind = asked
        asking = f"{moment.scenario.seed} {moment.tick} {cid} {kind} {question} {attempt}"
        key = hashlib.blake2b(asking.encode(), digest_size=8).digest()
        return Request(
            key=f"interview-t{moment.tick}-c{cid}-{key.hex()}",
            messages=chat,
            schema=schema(kind),
            max_tokens=MAX_TOKENS[kind],
            seed=int.from_bytes(key, "little") & 0x7FFFFFFF,
            temperature=0.0,
            affinity=cid,
            adapter=adapter_of(moment.scenario, cid),
        )


def by_model(
    moment: Moment, cid: int, question: str, target: Target, cast: Cast | None = None
) -> Interview:
    """An `llm` character answers through the model at `target`."""
    f = facts(moment, cid, cast)
    model = ModelInterviewer(moment.scenario, target)
    try:
        [(answer, why)] = model.ask(moment, [(cid, question, "words")])
    finally:
        model.close()
    return Interview(question, answer if isinstance(answer, str) else None, "model", f, why)
