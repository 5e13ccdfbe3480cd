"""The run's state digest: one hash of every character, promise and envelope in flight.

Each shard hashes its own characters row by row and lists its ledger and in-flight mail; the
digest orders all of it canonically (characters by id, promises by id, mail by recipient, sender
and sequence), so it is the same whatever the number of shards or the runtime.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np


def state_digest(parts: Iterable[dict[str, Any]]) -> str:
    parts = list(parts)
    ticks = {p["tick"] for p in parts}
    if len(ticks) != 1:
        raise ValueError(f"shards are at different ticks {sorted(ticks)}; the digest needs one")
    ids = np.concatenate([np.frombuffer(p["ids"], "<i4") for p in parts])
    hashes = np.concatenate([np.frombuffer(p["hashes"], "u1").reshape(-1, 16) for p in parts])
    order = np.argsort(ids, kind="stable")
    h = hashlib.sha256()
    h.update(b"socius-state-v1")
    h.update(int(ticks.pop()).to_bytes(8, "little"))
    h.update(ids[order].tobytes())
    h.update(hashes[order].tobytes())
    # promises: each shard's rows are already in id order; merge by their bytes' key order
    promises = sorted(r for p in parts for r in p["promises"])
    h.update(len(promises).to_bytes(8, "little"))
    for r in promises:
        h.update(r)
    mail = sorted(r for p in parts for r in p["mail"])
    h.update(len(mail).to_bytes(8, "little"))
    for r in mail:
        h.update(r)
    for t in sorted(t for p in parts for t in p["texts"]):
        h.update(t.encode())
    return h.hexdigest()
