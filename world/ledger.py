"""The promise ledger: every open (and recently broken) promise a shard's characters are party to.

A promise is identified by (promisor, seq): the promisor and the sequence number of the
envelope that made it. A shard keeps the promisor's copy in `owed` (so the promisor can keep or
break it when it falls due) and the promisee's copy in `owed_to` (so the promisee can notice a
breach, and later forgive it). The two copies agree through the envelopes alone, so the ledger
is the same whatever shard each party lives in.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from world.acts import PromiseState, check_moves
from world.arrays import Table


class Promises(Table):
    COLUMNS: ClassVar[dict[str, tuple[str, tuple[int | str, ...], Any]]] = {
        "promisor": ("<i4", (), -1),
        "seq": ("<u4", (), 0),
        "promisee": ("<i4", (), -1),
        "good": ("u1", (), 0),
        "amount": ("<i4", (), 0),
        "due": ("<i4", (), 0),
        "made": ("<i4", (), 0),
        "state": ("i1", (), PromiseState.OPEN),
        "repayment": ("u1", (), 0),
        "broken_at": ("<i4", (), -1),
    }

    def find(self, promisor: np.ndarray, seq: np.ndarray) -> np.ndarray:
        """Row of each (promisor, seq), or -1."""
        n = len(self)
        if n == 0 or len(promisor) == 0:
            return np.full(len(promisor), -1, np.int64)
        key = self.promisor[:n].astype(np.int64) << 32 | self.seq[:n].astype(np.int64)
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        want = np.asarray(promisor, np.int64) << 32 | np.asarray(seq, np.int64)
        pos = np.minimum(np.searchsorted(ordered, want), n - 1)
        return np.where(ordered[pos] == want, order[pos], -1)

    def move(self, rows: np.ndarray, to: PromiseState) -> None:
        """Move rows to state `to`, raising IllegalTransition for a move the lifecycle forbids."""
        if len(rows):
            check_moves(self.state[rows], np.full(len(rows), int(to), np.int8))
            self.state[rows] = to

    def canonical_rows(self) -> np.ndarray:
        """Row bytes in (promisor, seq) order, for the state digest."""
        n = len(self)
        order = np.lexsort((self.seq[:n], self.promisor[:n]))
        return self.row_bytes()[order]
