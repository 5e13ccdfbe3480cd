"""Where each character lives: which shard, and which row of it.

Characters are placed in blocks of consecutive ids, so a group (consecutive ids,
`population.group_size` of them) and the neighbours it meets most share a shard, and most mail
stays inside it. The first `population.size` ids are one segment, split into `n_shards` blocks
whose sizes differ by at most one (shard 0 takes the first block). Each newcomers event brings
the next segment of ids, split the same way, and its block joins the end of each shard's rows,
so a shard's rows hold its ids in ascending order.

Every part of socius that maps a character to a shard or a row asks a `Placement`; no other
code knows the layout. The layout never changes what happens in the world: the state digest is
the same for every number of shards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from world import kernels
from world.events import Newcomers, first_newcomer
from world.kernels import homes


class Placement:
    """Blocks of consecutive ids over `n_shards` shards, one block per shard per segment."""

    def __init__(self, segments: list[tuple[int, int]], n_shards: int) -> None:
        if n_shards < 1:
            raise ValueError(f"a world needs at least one shard, not {n_shards}")
        lo = np.array([a for a, _ in segments], np.int64)
        hi = np.array([b for _, b in segments], np.int64)
        if len(lo) == 0 or lo[0] != 0 or np.any(lo[1:] != hi[:-1]) or np.any(hi < lo):
            raise ValueError(f"segments must tile the ids from 0 in order: {segments}")
        self.n_shards = n_shards
        self.lo, self.hi = lo, hi
        self.size = int(hi[-1])  # every id there will be: the population and its newcomers
        self.q, self.r = np.divmod(hi - lo, n_shards)  # block sizes q + 1 (the first r) or q
        shards = np.arange(n_shards + 1, dtype=np.int64)
        #: the first id of each shard's block in each segment, (segments, n_shards + 1)
        self.starts = lo[:, None] + shards[None, :] * self.q[:, None]
        self.starts += np.minimum(shards[None, :], self.r[:, None])
        self._q, self._r = int(self.q[0]), int(self.r[0])  # the first segment's, as ints
        sizes = np.diff(self.starts, axis=1)
        #: each shard's first row of each segment, (segments, n_shards)
        self.first_row = np.cumsum(sizes, axis=0) - sizes

    @classmethod
    def of(cls, scenario: Any, n_shards: int) -> Placement:
        """The placement of a scenario's characters, newcomers included, over `n_shards`."""
        size = scenario.population.size
        events = list(getattr(scenario, "events", None) or [])
        segments = [(0, size)]
        for i, e in enumerate(events):
            if isinstance(e, Newcomers):
                first = first_newcomer(size, events, i)
                segments.append((first, first + e.count))
        return cls(segments, n_shards)

    # --- arrays of ids --------------------------------------------------------------------

    def _segment(self, ids: np.ndarray) -> np.ndarray:
        if len(self.lo) == 1:
            return np.zeros(len(ids), np.int64)
        return np.searchsorted(self.lo, ids, side="right") - 1

    def shard(self, ids: np.ndarray) -> np.ndarray:
        """The shard each id lives in."""
        ids = np.asarray(ids, np.int64)
        if len(self.lo) == 1:  # the common case, without gathers
            if kernels.live():  # (see `row`)
                return homes.blocks(ids, self._q, self._r, self.starts[0], False)
            return _block(ids, self._q, self._r)
        seg = self._segment(ids)
        return _block(ids - self.lo[seg], self.q[seg], self.r[seg])

    def row(self, ids: np.ndarray) -> np.ndarray:
        """Each id's row in the shard it lives in."""
        ids = np.asarray(ids, np.int64)
        if len(self.lo) == 1:
            # in a process that steps a village, one compiled pass (the same numbers); in one
            # that does not, numpy, so that placing characters never starts numba
            if kernels.live():
                return homes.blocks(ids, self._q, self._r, self.starts[0], True)
            s = _block(ids, self._q, self._r)
            return ids - self.starts[0, s]
        seg = self._segment(ids)
        s = _block(ids - self.lo[seg], self.q[seg], self.r[seg])
        return self.first_row[seg, s] + ids - self.starts[seg, s]

    # --- one id, one shard ----------------------------------------------------------------

    def shard_of(self, character: int) -> int:
        return int(self.shard(self._one(character))[0])

    def row_of(self, character: int) -> int:
        return int(self.row(self._one(character))[0])

    def _one(self, character: int) -> np.ndarray:
        if not 0 <= character < self.size:
            raise ValueError(f"character {character} is not one of the ids 0..{self.size - 1}")
        return np.array([character], np.int64)

    def segment_ids(self, shard: int, segment: int) -> np.ndarray:
        """The ids of `segment` that live in `shard`, ascending."""
        a, b = self.starts[segment, shard], self.starts[segment, shard + 1]
        return np.arange(a, b, dtype=np.int64)

    def newcomers(self, shard: int, first: int) -> np.ndarray:
        """The ids of the newcomers whose first id is `first` that live in `shard`."""
        segment = int(np.searchsorted(self.lo, first))
        if segment >= len(self.lo) or self.lo[segment] != first:
            raise ValueError(f"no newcomers start at id {first}")
        return self.segment_ids(shard, segment)


def _block(offset: np.ndarray, q: Any, r: Any) -> np.ndarray:
    """The block of each offset into a segment of r blocks of q + 1 ids, then blocks of q."""
    big = r * (q + 1)
    small = offset < big
    return np.where(small, offset // (q + 1), r + (offset - big) // np.maximum(q, 1)).astype(
        np.int64
    )
