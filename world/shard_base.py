"""What every shard shares, whatever its characters do: which characters live in it, the inbox in
canonical order, one serialized batch per destination shard, the mail in flight and its share of
the state digest.

Which shard a character lives in, and at which row, is the `Placement`'s to say (blocks of
consecutive ids: world/placement.py). A village shard
(world/shard.py) and a classic game's shard (world/classic/base.py) build on this; a runtime
steps either through `step`, saves it with `get_state`/`set_state` and digests it with
`digest_parts`.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from world.characters import Characters
from world.placement import Placement
from world.scenario import Scenario
from world.stats import TickStats
from world.wire import Mail, canonical, decode, encode, inbox_of


@dataclasses.dataclass
class StepResult:
    tick: int
    source: int  # the shard that sent the mail
    #: destination shard -> its share of the tick's mail, read-only, in the order inboxes read
    #: it (a runtime in one process hands it on as it is)
    mail: dict[int, Mail]
    stats: TickStats
    #: batches for the journal alone, never delivered (the tick's EVENT envelopes)
    notes: list[bytes] = dataclasses.field(default_factory=list)
    #: the shares serialized so far, by destination (`batch`)
    made: dict[int, bytes] = dataclasses.field(default_factory=dict, repr=False)

    @functools.cached_property
    def batches(self) -> dict[int, bytes]:
        """Destination shard -> its share serialized as one Batch, made when first asked for
        (for another process, or the journal)."""
        return {d: self.batch(d) for d in self.mail}

    def batch(self, dest: int) -> bytes:
        """The share for shard `dest` serialized as one Batch (made once: `batches` and a
        runtime that sends only the shares that leave the process share it)."""
        if dest not in self.made:
            self.made[dest] = encode(self.mail[dest], self.tick, self.source, dest)
        return self.made[dest]

    def journaled(self) -> list[bytes]:
        """Everything of this tick the shard's journal keeps: its mail, then its notes."""
        return [*self.batches.values(), *self.notes]


class BaseShard(abc.ABC):
    """The characters the placement gives shard `index` of `n_shards`, stepping tick by tick."""

    chars: Characters

    def __init__(self, scenario: Scenario, index: int = 0, n_shards: int = 1) -> None:
        if not 0 <= index < n_shards:
            raise ValueError(f"shard index {index} is outside 0..{n_shards - 1}")
        self.scenario = scenario
        self.index = index
        self.n_shards = n_shards
        self.tick = 0  # ticks completed
        self.placement = Placement.of(scenario, n_shards)
        self.ids = self.placement.segment_ids(index, 0)  # grows as newcomers join
        #: characters living now (more than the scenario's size once newcomers join)
        self.living = scenario.population.size
        self.outbox = Mail()  # sent in the last tick, not yet delivered

    # --- what a shard implements --------------------------------------------------------------

    @abc.abstractmethod
    def step(self, inbox: Iterable[bytes | Mail] | Mail = ()) -> StepResult:
        """One tick, from the mail sent to this shard's characters in the last one."""

    @abc.abstractmethod
    def get_state(self) -> dict[str, Any]:
        """Everything the shard knows, as msgpack-ready plain data."""

    @abc.abstractmethod
    def set_state(self, state: dict[str, Any]) -> None:
        """Become the shard `get_state` described (of this same index and shard count)."""

    @abc.abstractmethod
    def digest_parts(self) -> dict[str, Any]:
        """This shard's share of the run's state digest (see world.digest)."""

    # --- mail ---------------------------------------------------------------------------------

    def take_inbox(self, inbox: Iterable[bytes | Mail] | Mail) -> Mail:
        """The tick's inbox as one Mail in canonical order, every envelope checked to be for
        a character of this shard. Batches are decoded; Mail (from a shard in this process)
        is taken as it is."""
        if isinstance(inbox, Mail):
            mail = canonical(inbox)
        else:  # (one batch: its views go straight to the sort)
            mail = inbox_of([b if isinstance(b, Mail) else decode(b)[1] for b in inbox])
        n = len(mail)
        wrong = self.placement.shard(mail.recipient[:n]) != self.index
        wrong |= mail.recipient[:n] >= self.living
        if wrong.any():
            r = int(mail.recipient[np.flatnonzero(wrong)[0]])
            raise ValueError(
                f"shard {self.index} of {self.n_shards} was sent mail for "
                f"character {r}, which does not live here"
            )
        return mail

    def split(self, mail: Mail) -> dict[int, Mail]:
        """The mail by destination shard, each share read-only and in the mail's order (all
        of it, not copied, when it goes to one shard)."""
        n = len(mail)
        dest = self.placement.shard(mail.recipient[:n])
        if n and (dest[1:] >= dest[:-1]).all():  # each share a run of the mail: views of it
            # (all of it, when it goes to one shard)
            bounds = np.searchsorted(dest, np.arange(self.n_shards + 1))
            return {
                d: mail.span(int(bounds[d]), int(bounds[d + 1]))
                for d in range(self.n_shards)
                if bounds[d + 1] > bounds[d]
            }
        # (shard numbers as 16-bit, where they fit, sort by radix: ten times faster)
        small = dest.astype(np.uint16) if self.n_shards <= 1 << 16 else dest
        order = np.argsort(small, kind="stable")
        bounds = np.searchsorted(dest[order], np.arange(self.n_shards + 1))
        out = {}
        for d in range(self.n_shards):
            rows = order[bounds[d] : bounds[d + 1]]
            if len(rows):
                out[d] = mail.take(rows).read_only()
        return out

    def route(self, mail: Mail, tick: int) -> dict[int, bytes]:
        """The mail split by destination shard, each share serialized as one Batch."""
        return {d: encode(m, tick, self.index, d) for d, m in self.split(mail).items()}

    def pending_mail(self) -> dict[int, bytes]:
        """The last tick's mail, routed again (what a restored shard must redeliver)."""
        return self.route(self.outbox, self.tick)

    def check_placement(self, state: dict[str, Any]) -> None:
        """A shard loads only its own state (same index, same number of shards)."""
        if (state["index"], state["n_shards"]) != (self.index, self.n_shards):
            raise ValueError(
                f"state of shard {state['index']}/{state['n_shards']} cannot be "
                f"loaded into shard {self.index}/{self.n_shards}"
            )


S = TypeVar("S", bound=BaseShard)


def home(shards: Sequence[S], character: int) -> S:
    """The shard of `shards` (a whole world's, in index order) that `character` lives in."""
    return shards[shards[0].placement.shard_of(character)]


def outbox_state(outbox: Mail) -> dict[str, Any]:
    return {**outbox.get_state(), "texts": list(outbox.texts)}


def outbox_from_state(state: dict[str, Any]) -> Mail:
    outbox = Mail()
    outbox.set_state(state)
    outbox.texts = list(state["texts"])
    return outbox


def row_hashes(rows: np.ndarray) -> bytes:
    """A 16-byte hash of each row of a (rows, width) uint8 matrix, concatenated."""
    return b"".join(
        hashlib.blake2b(rows[i].tobytes(), digest_size=16).digest() for i in range(len(rows))
    )


def mail_digest_parts(outbox: Mail) -> dict[str, Any]:
    """The mail in flight, as the digest takes it: each envelope's bytes, and the texts."""
    mail = canonical(outbox)
    m = len(mail)
    cols = [c for c in Mail.COLUMNS if c != "text"]
    mail_rows = (
        np.concatenate(
            [
                np.ascontiguousarray(getattr(mail, c)[:m]).view(np.uint8).reshape(m, -1)
                for c in cols
            ],
            axis=1,
        )
        if m
        else np.zeros((0, 1), np.uint8)
    )
    return {
        "mail": [r.tobytes() for r in mail_rows],
        "texts": [mail.text_of(i) for i in range(m) if mail.text[i] >= 0],
    }
