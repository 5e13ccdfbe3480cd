"""A tick's inbox as the perception rules read it (world/perceive.py).

The columns are the live rows of the inbox, widened where the rules compute with them; the
rest are views. Along with them come whom each row is for, and where the rules write.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from world.arrays import Grouped
from world.characters import Characters
from world.ledger import Promises
from world.outbox import Outgoing
from world.placement import Placement
from world.scenario import Scenario
from world.situations import Calls
from world.stats import TickStats
from world.vocab import N_KINDS, Kind
from world.wire import Mail


@dataclass(frozen=True, slots=True)
class Delivery:
    """One tick's inbox, row by row, with the state and outputs the rules touch."""

    chars: Characters
    scenario: Scenario
    tick: int
    owed_to: Promises  # promises made to my characters
    out: Outgoing
    calls: Calls
    stats: TickStats
    kind: np.ndarray
    me: np.ndarray  # the recipient's local row
    sender: np.ndarray
    good: np.ndarray
    amount: np.ndarray
    flag: np.ndarray
    ref: np.ndarray
    slot: np.ndarray  # the recipient's slot for the sender (-1: none); filled on meeting
    seq: np.ndarray
    due: np.ndarray
    good2: np.ndarray
    amount2: np.ndarray
    subject: np.ndarray
    source: np.ndarray
    shown: np.ndarray
    true_standing: np.ndarray
    by_kind: Grouped  # the rows grouped by their kind

    def rows(self, kind: Kind) -> np.ndarray:
        """The rows of envelopes of `kind`, in row order (a view: not to be written)."""
        return self.by_kind.rows(kind)

    @classmethod
    def of(
        cls,
        chars: Characters,
        scenario: Scenario,
        placement: Placement,
        tick: int,
        inbox: Mail,
        owed_to: Promises,
        out: Outgoing,
        calls: Calls,
        stats: TickStats,
    ) -> Delivery:
        """The inbox's live rows; no slot is known yet."""
        n = len(inbox)
        kind = inbox.kind[:n]
        return cls(
            chars=chars,
            scenario=scenario,
            tick=tick,
            owed_to=owed_to,
            out=out,
            calls=calls,
            stats=stats,
            kind=kind,
            me=placement.row(inbox.recipient[:n]),
            sender=inbox.sender[:n].astype(np.int64),
            good=inbox.good[:n].astype(np.int64),
            amount=inbox.amount[:n].astype(np.int64),
            flag=inbox.flag[:n].astype(np.int64),
            ref=inbox.ref[:n].astype(np.int64),
            slot=np.full(n, -1, np.int64),
            seq=inbox.seq[:n],
            due=inbox.due[:n],
            good2=inbox.good2[:n],
            amount2=inbox.amount2[:n],
            subject=inbox.subject[:n],
            source=inbox.source[:n],
            shown=inbox.shown[:n],
            true_standing=inbox.true_standing[:n],
            by_kind=Grouped(kind, N_KINDS),
        )
