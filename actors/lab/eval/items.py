"""The items of the emotional-intelligence evaluation: situations met in real worlds, each with
the truth that the character facing it never sees.

Two kinds, noted while a world runs (a `Collector` is the in-process runtime's decide hook; the
world's own minds, or the recorded model and players of a run, decide as they did):

- **reading**: a character hears from another, who shows a feeling (a phrase or words). The
  truth is the speaker's hidden feelings at that moment, as the envelope carried them.
- **trust**: a character is promised goods (or repayment of a loan). The truth is whether the
  promise was then kept, or broken and noticed as a betrayal; promises still open when the
  world ends are left out.

Each item keeps what the character could see (the act, what was shown and said, the
relationship), the truth, and what the world's heuristic mind made of it, so any mind can be
asked later and scored without running the world again. Items are a deterministic function of
(scenario, seeds, count): candidates are ranked by a hash of their identity, never by arrival
or shard order, so the same items come out of any runtime and any number of shards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from world import emotion as emo
from world import memory
from world.minds.base import read_feelings
from world.perceive import trust_at
from world.phrases import render
from world.player_record import RecordedPlayers
from world.runtime import Decide, LocalRuntime
from world.scenario import Scenario
from world.shard import Decisions, Pending, Shard, reading_rows
from world.vocab import Good, Kind

KINDS = ("reading", "trust")
#: The four steps of a feeling a mind answers in, and the value each stands for (the same as the
#: model's answer schema: inference/answer.py).
LEVELS = ("none", "low", "some", "high")
LEVEL_VALUES = np.array([0.0, 0.25, 0.55, 0.9])
#: Where one level ends and the next begins: half-way between their values.
LEVEL_EDGES = (LEVEL_VALUES[1:] + LEVEL_VALUES[:-1]) / 2


def level_of(x: np.ndarray | float) -> np.ndarray:
    """The level index (0 none .. 3 high) nearest to each feeling's value."""
    return np.searchsorted(LEVEL_EDGES, np.asarray(x, np.float64), side="right")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Item:
    """One situation, what could be seen of it, its truth and the heuristic mind's answer."""

    id: str
    kind: str  # "reading" or "trust"
    seed: int
    tick: int
    reader: int  # the character facing the situation
    other: int  # the one it must read, or whose promise it must weigh
    seq: int  # the envelope's sequence number (with `other`, its identity)
    act: str  # what `other` did: gift, apology, promise ...
    said: str  # its words (a phrase, or free words)
    shown: tuple[float, ...]  # the feelings it showed, one per EMOTION_NAMES
    relation: dict[str, Any]  # how the reader stands with `other`
    promise: dict[str, Any] | None  # trust: what was promised, by when, and whether a loan
    truth: dict[str, Any]  # reading: {"feelings": [...]}; trust: {"kept": bool}
    heuristic: dict[str, Any]  # reading: {"feelings": [...]}; trust: {"p": float}
    feels: tuple[float, ...] = ()  # the reader's own hidden feelings then (reading items)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        data = dict(data)
        data["shown"] = tuple(data["shown"])
        data["feels"] = tuple(data.get("feels", ()))
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    @property
    def true_levels(self) -> np.ndarray:
        """A reading item's truth as levels (0 none .. 3 high), one per feeling."""
        return level_of(self.truth["feelings"])

    @property
    def rank(self) -> bytes:
        """Where the item stands in the deterministic draw of items (a hash of its identity)."""
        return hashlib.blake2b(self.id.encode(), digest_size=8).digest()


def item_id(kind: str, seed: int, tick: int, reader: int, other: int, seq: int) -> str:
    return f"{kind}-s{seed}-t{tick}-r{reader}-o{other}-q{seq}"


def _relation(shard: Shard, lo: int, slot: int) -> dict[str, Any]:
    """How the character at row `lo` stands with the one in its memory slot `slot`."""
    c = shard.chars
    if slot < 0:
        return {"known": False}
    return {
        "known": True,
        "trust": round(float(trust_at(c, np.array([lo]), np.array([slot]))[0]), 4),
        "meetings": int(c.rel_meetings[lo, slot]),
        "kept": int(c.rel_kept[lo, slot]),
        "betrayals": int(c.rel_betrayals[lo, slot]),
        "gifts": int(c.rel_gifts[lo, slot]),
        "trades": int(c.rel_trades[lo, slot]),
        "their_last": int(c.rel_theirs[lo, slot]),  # 1 cooperated, 0 defected, -1 none
        "my_last": int(c.rel_mine[lo, slot]),
        "standing": round(float(c.rel_rep[lo, slot]), 4),  # my view of theirs, -1 .. 1
        "affinity": round(float(c.rel_aff[lo, slot]), 4),
        "open_to_me": int(c.rel_open_in[lo, slot]),
    }


def _rounded(values: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(v), 4) for v in values)


class Collector:
    """The in-process runtime's decide hook: `inner` (or each shard's own minds) decides, and
    every reading and promise the characters meet is noted. Promises become trust items once
    they are kept or broken."""

    def __init__(self, seed: int, inner: Decide | None = None) -> None:
        self.seed = seed
        self.inner = inner
        self.readings: list[Item] = []
        self.trust: list[Item] = []
        self._open: dict[tuple[int, int], Item] = {}  # (promisor, seq) -> the item, no truth yet

    def __call__(self, work: list[tuple[Shard, Pending]]) -> list[Decisions]:
        for shard, pending in work:
            self._note(shard, pending)
        if self.inner is not None:
            return self.inner(work)
        return [shard.decide(pending) for shard, pending in work]

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def _note(self, shard: Shard, pending: Pending) -> None:
        inbox, tick = pending.inbox, pending.tick
        n = len(inbox)
        kind = inbox.kind[:n]
        self._resolve(inbox.sender[:n], inbox.recipient[:n], inbox.ref[:n], kind)
        readings = pending.readings
        if len(readings):
            rows = reading_rows(inbox)
            truth = emo.unquantize(inbox.true_feeling[rows])
            guess = read_feelings(readings)
            for i, row in enumerate(rows.tolist()):
                self.readings.append(self._reading(shard, pending, i, row, truth[i], guess[i]))
        for row in np.flatnonzero(kind == Kind.PROMISE).tolist():
            item = self._promise(shard, pending, row, tick)
            self._open[(item.other, item.seq)] = item

    def _said(self, pending: Pending, row: int) -> str:
        inbox = pending.inbox
        if inbox.text[row] >= 0:
            return inbox.text_of(row)
        return render(int(inbox.phrase[row]))

    def _reading(
        self,
        shard: Shard,
        pending: Pending,
        i: int,
        row: int,
        truth: np.ndarray,
        guess: np.ndarray,
    ) -> Item:
        r = pending.readings
        reader, speaker, seq = int(r.reader[i]), int(r.speaker[i]), int(r.seq[i])
        return Item(
            id=item_id("reading", self.seed, pending.tick, reader, speaker, seq),
            kind="reading",
            seed=self.seed,
            tick=pending.tick,
            reader=reader,
            other=speaker,
            seq=seq,
            act=Kind(int(r.kind[i])).name.lower(),
            said=self._said(pending, row),
            shown=_rounded(r.shown[i]),
            relation=_relation(shard, int(r.local[i]), int(r.slot[i])),
            promise=None,
            truth={"feelings": list(_rounded(truth))},
            heuristic={"feelings": list(_rounded(guess))},
            feels=_rounded(shard.chars.emotion[int(r.local[i])]),
        )

    def _promise(self, shard: Shard, pending: Pending, row: int, tick: int) -> Item:
        inbox = pending.inbox
        reader = int(inbox.recipient[row])
        promisor = int(inbox.sender[row])
        seq = int(inbox.seq[row])
        lo = shard.placement.row_of(reader)
        slot = int(memory.find(shard.chars, np.array([lo]), np.array([promisor]))[0])
        relation = _relation(shard, lo, slot)
        return Item(
            id=item_id("trust", self.seed, tick, reader, promisor, seq),
            kind="trust",
            seed=self.seed,
            tick=tick,
            reader=reader,
            other=promisor,
            seq=seq,
            act="promise",
            said=self._said(pending, row),
            shown=_rounded(emo.unquantize(inbox.shown[row])),
            relation=relation,
            promise={
                "good": Good(int(inbox.good[row])).name.lower(),
                "amount": int(inbox.amount[row]),
                "due": int(inbox.due[row]),
                "repayment": bool(inbox.flag[row] & 1),
            },
            truth={},
            heuristic={"p": relation.get("trust", 0.5)},
        )

    def _resolve(
        self, sender: np.ndarray, recipient: np.ndarray, ref: np.ndarray, kind: np.ndarray
    ) -> None:
        """Promises kept (the promisor's PROMISE_KEPT) or broken (the promisee's
        PROMISE_BROKEN, sent to the promisor) become whole trust items."""
        for row in np.flatnonzero(kind == Kind.PROMISE_KEPT).tolist():
            self._settle((int(sender[row]), int(ref[row])), kept=True)
        for row in np.flatnonzero(kind == Kind.PROMISE_BROKEN).tolist():
            self._settle((int(recipient[row]), int(ref[row])), kept=False)

    def _settle(self, key: tuple[int, int], kept: bool) -> None:
        item = self._open.pop(key, None)
        if item is not None:
            self.trust.append(dataclasses.replace(item, truth={"kept": kept}))


def draw(candidates: Iterable[Item], count: int) -> list[Item]:
    """`count` items chosen by rank (a hash of each one's identity), in canonical order."""
    chosen = sorted(candidates, key=lambda it: it.rank)[:count]
    return sorted(chosen, key=lambda it: (it.seed, it.tick, it.reader, it.other, it.seq))


def observe(scenario: Scenario, shards: int = 1, inner: Decide | None = None) -> Collector:
    """Run the scenario's world in this process to its end and note its items (`inner`: what
    decides for its characters, if not their own minds: a run's recorded model and players)."""
    collector = Collector(scenario.seed, inner)
    runtime = LocalRuntime(scenario, shards, decide=collector)
    if isinstance(inner, RecordedPlayers):
        for shard in runtime.villages:
            shard.visits = inner.visits
    try:
        runtime.run()
    finally:
        runtime.close()
    return collector


def write_items(path: Path, items: Iterable[dict[str, Any]]) -> int:
    """Items as JSON lines (written whole, then moved into place); returns how many."""
    tmp = path.with_name(f".{path.name}.part")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, sort_keys=True) + "\n")
            n += 1
    tmp.replace(path)
    return n


def read_items(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
