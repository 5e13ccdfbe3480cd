"""Building a shard's outgoing mail for a tick.

Acts are added in batches as the tick proceeds; `seal` numbers them with each sender's sequence
(in the order they were added, which is canonical), puts them in the order inboxes read (by
recipient, sender and sequence number: `wire.canonical`), and adds what each speaker shows
(its feeling, masked as personality and closeness dictate, and the phrase that goes with it)
plus the world-only truth columns.
"""

from __future__ import annotations

import numpy as np

from world import emotion as emo
from world.arrays import Parts, filled, side_by_side
from world.characters import Characters
from world.kernels import ordering, speech
from world.phrases import MILD, NEUTRAL
from world.vocab import N_KINDS, Kind, Trait, among
from world.wire import COLUMN_DTYPES, Mail

SILENT = among(N_KINDS, Kind.CONTRIBUTION, Kind.SHARE, Kind.OBSERVATION)
#: The columns of an envelope that the rules queue (beside its sender and recipient).
QUEUED = {
    name: COLUMN_DTYPES[name]
    for name in (
        "kind",
        "good",
        "amount",
        "good2",
        "amount2",
        "ref",
        "due",
        "subject",
        "source",
        "flag",
    )
}
#: The columns `speech.speak` writes: what the speaker truly feels, and (unless its kind is
#: SILENT, which shows nothing: zeros) what it shows and says.
SPOKEN = ("true_feeling", "true_standing", "shown", "phrase")


class Outgoing:
    def __init__(self) -> None:
        self._parts = Parts()
        self.position: list[np.ndarray] = []
        self.promises: list[tuple[int, dict[str, np.ndarray]]] = []

    def add(
        self, kind: Kind, sender: np.ndarray, recipient: np.ndarray, **cols: np.ndarray | int
    ) -> int:
        """Queue one envelope per row of `sender` (local rows); returns a handle for `seqs`."""
        return self._parts.add(
            len(sender), {"kind": int(kind), "local": sender, "recipient": recipient, **cols}
        )

    def promise(
        self,
        handle: int,
        promisor: np.ndarray,
        promisee: np.ndarray,
        good: np.ndarray,
        amount: np.ndarray,
        due: np.ndarray,
        tick: int,
        repayment: int,
    ) -> None:
        """The envelopes under `handle` are promises: enter them in the promisor's ledger once
        sealed (their sequence numbers are their ids)."""
        self.promises.append(
            (
                handle,
                {
                    "promisor_local": promisor,
                    "promisee": promisee,
                    "good": good,
                    "amount": amount,
                    "due": due,
                    "made": np.full(len(promisor), tick),
                    "repayment": np.full(len(promisor), repayment),
                },
            )
        )

    def seal(self, chars: Characters, tick: int, words: dict[int, str] | None = None) -> Mail:
        """The queued acts as mail. `words` maps a decision row to the free words its actor
        said with the act that row produced (parts added with `decision=`)."""
        total = self._parts.total()
        if total == 0:
            self.position = [np.zeros(0, np.int64) for _ in range(len(self._parts))]
            return Mail(0)
        # sequence numbers: each sender's envelopes numbered in queue order; then the mail is
        # put in the order an inbox reads it (by recipient, sender, sequence number), so that
        # each destination's share arrives in that order and is read without sorting again
        local = self._parts.column("local", 0, np.int64)
        seq = ordering.numbered(local, chars.seq)
        sender = chars.cid[local]
        recipient = self._parts.column("recipient", 0, COLUMN_DTYPES["recipient"])
        order = ordering.lexical(recipient, side_by_side(sender, seq))
        where = np.empty(total, np.int64)
        where[order] = np.arange(total)
        start = 0
        self.position = []
        for n in self._parts.sizes:
            self.position.append(where[start : start + n])
            start += n
        # every column made once (the queued ones gathered into canonical order, what speakers
        # feel and show written by `speak`), not allocated, filled and then overwritten
        columns = {
            name: self._parts.column(name, 0, dtype).take(order) for name, dtype in QUEUED.items()
        }
        columns["recipient"] = recipient.take(order)
        columns["sender"] = sender.take(order).astype(COLUMN_DTYPES["sender"])
        columns["seq"] = seq.take(order).astype(COLUMN_DTYPES["seq"])
        for name in SPOKEN:
            dtype, trail, _ = Mail.COLUMNS[name]
            columns[name] = np.zeros((total, *(int(t) for t in trail)), dtype)
        columns["text"] = filled(total, Mail.COLUMNS["text"][2], Mail.COLUMNS["text"][0])
        mail = Mail.of(total, columns, [])
        sl = local.take(order)
        # what each speaker shows, and what it truly feels
        speech.speak(
            sl,
            mail.recipient[:total],
            mail.kind[:total],
            SILENT,
            chars.emotion,
            chars.standing,
            chars.traits[:, Trait.EXPRESSIVENESS],
            chars.rel_id,
            chars.rel_att,
            chars.rel_aff,
            emo.MASK,
            NEUTRAL,
            MILD,
            mail.true_feeling[:total],
            mail.true_standing[:total],
            mail.shown[:total],
            mail.phrase[:total],
        )
        if words:
            decision = self._parts.column("decision", -1, np.int64)[order]
            for row in np.flatnonzero(decision >= 0):
                text = words.get(int(decision[row]))
                if text:
                    mail.set_text(int(row), text)
        return mail

    def seqs(self, handle: int, mail: Mail) -> np.ndarray:
        """Sequence numbers given to the envelopes queued under `handle`."""
        return mail.seq[self.position[handle]]
